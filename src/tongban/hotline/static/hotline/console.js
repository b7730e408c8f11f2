// The operator console: the router's suggestion is remembered with the order (so an override is
// kept as training data) and "Accept" fills the category and its department in.
(function () {
  "use strict";
  function field(name) { return document.querySelector('[name="' + name + '"]'); }
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "suggestion") return;
    var button = event.detail.target.querySelector("[data-accept-suggestion]");
    field("suggested_category").value = button ? button.dataset.category : "";
    field("suggestion_confidence").value = button ? button.dataset.confidence : "";
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-accept-suggestion]");
    if (!button) return;
    field("category").value = button.dataset.category;
    var department = field("department_code");
    if (department && button.dataset.department) department.value = button.dataset.department;
    button.disabled = true;
    button.textContent = button.dataset.accepted || "✓";
  });
})();
