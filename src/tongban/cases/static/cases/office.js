// Back office: small enhancements; every page works without JavaScript.
(function () {
  "use strict";
  // A checkbox filter submits its form like the select filters do: <input type=checkbox data-autosubmit>
  document.addEventListener("change", function (event) {
    if (event.target.matches("input[type=checkbox][data-autosubmit]")) {
      event.target.form.requestSubmit();
    }
  });
  // After a trial run, bring its result into view and focus (the form posts to #try-result).
  document.addEventListener("DOMContentLoaded", function () {
    var result = document.getElementById("try-result");
    if (result && window.location.hash === "#try-result") {
      result.focus({ preventScroll: false });
    }
  });
})();
