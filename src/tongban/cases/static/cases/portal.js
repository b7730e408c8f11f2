// tongban citizen case pages: small helps on top of forms that work without JavaScript.
(function () {
  "use strict";

  // Applying for an enterprise: fill its name and credit code into empty fields of the form.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches("select[name=enterprise_uscc]")) {
      return;
    }
    var option = select.options[select.selectedIndex];
    var form = select.form;
    [["data.uscc", "data-uscc"], ["data.enterprise_name", "data-name"]].forEach(function (pair) {
      var input = form.elements.namedItem(pair[0]);
      var value = option && option.getAttribute(pair[1]);
      if (input && value && !input.value) {
        input.value = value;
      }
    });
  });

  // 免提交: show what stands in for each material for the holder chosen (yourself or an enterprise).
  function showReuse(form) {
    var select = form.elements.namedItem("enterprise_uscc");
    var holder = select ? select.value : "";
    form.querySelectorAll(".reuse-found").forEach(function (line) {
      line.hidden = line.getAttribute("data-holder") !== holder;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[name=enterprise_uscc]")) {
      showReuse(event.target.form);
    }
  });
  document.querySelectorAll("form.apply-form").forEach(showReuse);

  // 好差评: the comment is needed for the two bad levels; say so as soon as one is chosen.
  function markComment(radio, focus) {
    var comment = radio.form.elements.namedItem("comment");
    if (!comment) {
      return;
    }
    var bad = radio.checked && (radio.value === "1" || radio.value === "2");
    comment.setAttribute("aria-required", bad ? "true" : "false");
    comment.closest(".field").classList.toggle("is-needed", bad);
    if (bad && focus) {
      comment.focus();
    }
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-rating]")) {
      markComment(event.target, true);
    }
  });
  // A form shown again with an error keeps the level chosen: mark the comment for it too.
  document.querySelectorAll("[data-rating]:checked").forEach(function (radio) {
    markComment(radio, false);
  });

  // A form sent once: a second tap while the first is on its way does nothing (the server would
  // answer with the same case anyway, through the idempotency key).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-submit-once]") || event.defaultPrevented) {
      return;
    }
    if (form.getAttribute("data-sending")) {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-sending", "1");
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.setAttribute("aria-disabled", "true");
    });
  });
  // Coming back to the page (the back button keeps it in memory): the form can be sent again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sending]").forEach(function (form) {
      form.removeAttribute("data-sending");
      form.querySelectorAll("button[aria-disabled]").forEach(function (button) {
        button.removeAttribute("aria-disabled");
      });
    });
  });
})();
