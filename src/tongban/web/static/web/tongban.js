// tongban: small progressive enhancements. Pages work without JavaScript.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-nav-toggle]");
    if (toggle) {
      var nav = document.getElementById(toggle.getAttribute("aria-controls"));
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
  });
  // A table wider than its box scrolls sideways: keyboard users must be able to reach that scroll,
  // so an overflowing table box with nothing focusable inside becomes a focusable, named region.
  function focusableScrollers() {
    document.querySelectorAll(".table-wrap").forEach(function (box) {
      var overflows = box.scrollWidth > box.clientWidth + 1;
      var focusable = box.querySelector("a[href], button, input, select, textarea, [tabindex]");
      if (overflows && !focusable && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        var heading = box.closest("section, .card");
        heading = heading && heading.querySelector("h2, h3");
        if (heading && !box.hasAttribute("aria-label")) {
          box.setAttribute("aria-label", heading.textContent.trim());
        }
      }
    });
  }
  focusableScrollers();
  window.addEventListener("resize", focusableScrollers);
  document.body.addEventListener("htmx:afterSwap", focusableScrollers);
  // 全部已核验: every material row without a choice yet gets "checked" (paper or upload); rows the
  // clerk already decided keep their choice. The button shows only where this script runs.
  document.querySelectorAll("[data-check-all]").forEach(function (button) {
    button.hidden = false;
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-check-all]");
    if (!button) {
      return;
    }
    button.form.querySelectorAll("tr[data-material]").forEach(function (row) {
      if (row.querySelector("input[type=radio]:checked")) {
        return;
      }
      var checked = row.querySelector("input[type=radio][value=paper], input[type=radio][value=ok]");
      if (checked) {
        checked.checked = true;
      }
    });
  });
  // Forms that ask before doing something irreversible: <form data-confirm="...">
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
  // Long-running forms (<form data-busy="…">): once sent, the text and an indeterminate bar show
  // that work is under way, the button cannot send it twice, and screen readers hear the status.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-busy]") || event.defaultPrevented) {
      return;
    }
    if (form.getAttribute("aria-busy") === "true") {
      event.preventDefault();
      return;
    }
    form.setAttribute("aria-busy", "true");
    var status = form.querySelector("[data-busy-status]");
    if (status) {
      status.hidden = false;
      status.querySelector("[data-busy-text]").textContent = form.getAttribute("data-busy");
    }
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.setAttribute("aria-disabled", "true");
    });
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-busy][aria-busy=true]").forEach(function (form) {
      form.removeAttribute("aria-busy");
      var status = form.querySelector("[data-busy-status]");
      if (status) {
        status.hidden = true;
      }
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.removeAttribute("aria-disabled");
      });
    });
  });
  // Filter selects submit their form on change: <select data-autosubmit>
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) {
      event.target.form.requestSubmit();
    }
  });
})();
