// tongban: BPMN diagrams drawn with bpmn-js's NavigatedViewer (vendored, see `make assets`).
// Markup: web/_process_diagram.html — a [data-process-diagram] container naming the XML to fetch
// (data-bpmn-url) and the element ids to mark as current / completed (space-separated). No inline
// script is needed, so the page keeps its strict Content-Security-Policy.
(function () {
  "use strict";

  var CJK_FONT = '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", ' +
    '"Source Han Sans SC", "WenQuanYi Micro Hei", Arial, sans-serif';

  function ids(value) {
    return (value || "").split(/\s+/).filter(Boolean);
  }

  function say(container, text) {
    var status = container.querySelector("[data-diagram-status]");
    if (status) {
      status.textContent = text || "";
      status.hidden = !text;
    }
  }

  function mark(viewer, elementIds, marker) {
    var registry = viewer.get("elementRegistry");
    var canvas = viewer.get("canvas");
    var marked = [];
    elementIds.forEach(function (id) {
      // Ids the drawing lacks (a step of a called process, a stale link) are skipped, not fatal.
      if (registry.get(id)) {
        canvas.addMarker(id, marker);
        marked.push(id);
      }
    });
    return marked;
  }

  // The drawing is hidden from screen readers (the step list says the same), so nothing in it may
  // take the keyboard focus either: bpmn-js makes its canvas focusable when it is created.
  function unfocusable(target) {
    var focusable = "[tabindex], a[href], button, input, select, textarea";
    Array.prototype.forEach.call(target.querySelectorAll(focusable), function (el) {
      el.setAttribute("tabindex", "-1");
    });
  }

  function render(container) {
    if (container.getAttribute("data-state")) {
      return; // the partial was included twice: draw once
    }
    var target = container.querySelector("[data-diagram-canvas]");
    if (typeof window.BpmnJS !== "function" || !window.fetch) {
      container.setAttribute("data-state", "unavailable");
      say(container, container.getAttribute("data-msg-error"));
      return;
    }
    container.setAttribute("data-state", "loading");
    container.classList.add("is-enhanced");
    say(container, container.getAttribute("data-msg-loading"));
    var viewer = new window.BpmnJS({
      container: target,
      textRenderer: { defaultStyle: { fontFamily: CJK_FONT, fontSize: 12 } }
    });
    unfocusable(target);
    var fit = container.querySelector("[data-diagram-fit]");
    window.fetch(container.getAttribute("data-bpmn-url"), {
      credentials: "same-origin",
      headers: { Accept: "application/xml" }
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (xml) {
        return viewer.importXML(xml);
      })
      .then(function () {
        viewer.get("canvas").zoom("fit-viewport", "auto");
        var current = mark(viewer, ids(container.getAttribute("data-current")), "tb-current");
        mark(viewer, ids(container.getAttribute("data-completed")), "tb-completed");
        container.setAttribute("data-marked", current.join(" "));
        unfocusable(target);
        container.setAttribute("data-state", "rendered");
        say(container, "");
        if (fit) {
          fit.hidden = false;
          fit.addEventListener("click", function () {
            viewer.get("canvas").zoom("fit-viewport", "auto");
          });
        }
      })
      .catch(function (error) {
        container.setAttribute("data-state", "error");
        container.classList.remove("is-enhanced");
        say(container, container.getAttribute("data-msg-error"));
        if (window.console) {
          window.console.error("process diagram:", error);
        }
      });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-process-diagram]"), render);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
