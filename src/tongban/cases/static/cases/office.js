// Back office: small enhancements; every page works without JavaScript.
(function () {
  "use strict";
  // A checkbox filter submits its form like the select filters do: <input type=checkbox data-autosubmit>
  document.addEventListener("change", function (event) {
    if (event.target.matches("input[type=checkbox][data-autosubmit]")) {
      event.target.form.requestSubmit();
    }
  });
  // 常用意见: the picker is shown only where this script runs; a pick goes into the opinion box
  // (after what is already written there) and the reviewer edits it as the case needs.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-opinion-picker]").forEach(function (picker) {
      picker.hidden = false;
    });
  });
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches("select[data-opinion-target]") || !select.value) {
      return;
    }
    var box = document.getElementById(select.dataset.opinionTarget);
    if (box) {
      box.value = box.value.trim() ? box.value.trim() + "\n" + select.value : select.value;
      box.focus();
    }
    select.value = "";
  });
  // After a trial run, bring its result into view and focus (the form posts to #try-result).
  document.addEventListener("DOMContentLoaded", function () {
    var result = document.getElementById("try-result");
    if (result && window.location.hash === "#try-result") {
      result.focus({ preventScroll: false });
    }
  });
})();
