// 直接办结: "Use this answer" copies a knowledge base entry's text into the answer field and
// remembers which entry it was, so the closed order names its source.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-use-knowledge]");
    if (!button) return;
    var form = document.querySelector("[data-answer-form]") || document;
    var text = form.querySelector('textarea[name$="reply_text"]');
    var ref = form.querySelector('input[name$="knowledge_ref"]');
    if (text) { text.value = button.dataset.answer; text.focus(); }
    if (ref) ref.value = button.dataset.ref;
  });
})();
