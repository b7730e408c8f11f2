// The window console: a print button, and the postal address shown only when the result is posted.
// Pages work without it (the address field is then always shown).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) {
      window.print();
    }
  });
  function syncAddress(form) {
    var box = form.querySelector("[data-address]");
    var chosen = form.querySelector("input[name=delivery]:checked");
    if (box) {
      box.hidden = !!chosen && chosen.value !== "post" && !box.querySelector(".field-error");
    }
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches("input[name=delivery]")) {
      syncAddress(event.target.form);
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-testid=issue-form]").forEach(syncAddress);
  });
})();
