// The programme's Gantt chart: ECharts custom series for the bars (current and baseline), the
// finish-to-start links and the today line; planners drag a bar to move its task, which the API
// reschedules on working days (the dependents move with it), and the chart is drawn again.
(function () {
  "use strict";
  var DAY = 86400000;
  var holder, chart, data, rows, index, drag = null;

  function ms(iso) { var p = iso.split("-"); return new Date(+p[0], +p[1] - 1, +p[2]).getTime(); }
  function iso(t) {
    var d = new Date(t), m = d.getMonth() + 1, day = d.getDate();
    return d.getFullYear() + "-" + (m < 10 ? "0" : "") + m + "-" + (day < 10 ? "0" : "") + day;
  }
  function lang() { return (document.documentElement.lang || "zh-Hans").indexOf("zh") === 0 ? "zh-Hans" : "en"; }
  function colour(light) {
    return { red: "#d4380d", yellow: "#d48806", green: "#389e0d", done: "#8c8c8c" }[light] || "#1677ff";
  }

  function bars(params, api) {
    var t = rows[params.dataIndex];
    var y = api.coord([0, params.dataIndex])[1];
    var h = api.size([0, 1])[1];
    var children = [];
    if (t.baseline_start) {
      var b0 = api.coord([ms(t.baseline_start), params.dataIndex])[0];
      var b1 = api.coord([ms(t.baseline_finish) + DAY, params.dataIndex])[0];
      children.push({ type: "rect", shape: { x: b0, y: y + h * 0.22, width: Math.max(b1 - b0, 3), height: h * 0.12 },
        style: { fill: "#bfbfbf" } });
    }
    var x0 = api.coord([ms(t.start), params.dataIndex])[0];
    var x1 = api.coord([ms(t.finish) + DAY, params.dataIndex])[0];
    var top = y - h * 0.3, height = h * 0.45;
    if (t.kind === "milestone") {
      var cx = x1, cy = top + height / 2, r = height / 2;
      children.push({ type: "polygon", shape: { points: [[cx, cy - r], [cx + r, cy], [cx, cy + r], [cx - r, cy]] },
        style: { fill: colour(t.light), stroke: t.critical ? "#a8071a" : "#595959", lineWidth: t.critical ? 2 : 1 } });
    } else {
      children.push({ type: "rect", shape: { x: x0, y: top, width: Math.max(x1 - x0, 2), height: height },
        style: { fill: colour(t.light), opacity: 0.35, stroke: t.critical ? "#a8071a" : "#595959", lineWidth: t.critical ? 2.5 : 1 } });
      children.push({ type: "rect", shape: { x: x0, y: top, width: Math.max((x1 - x0) * t.percent / 100, 0), height: height },
        style: { fill: colour(t.light), opacity: 0.85 } });
    }
    return { type: "group", children: children };
  }

  function arrows(params, api) {
    var link = data.links[params.dataIndex];
    var a = index[link.from], b = index[link.to];
    if (a === undefined || b === undefined) { return null; }
    var from = rows[a], to = rows[b];
    var p0 = api.coord([ms(from.finish) + DAY, a]), p1 = api.coord([ms(to.start), b]);
    var h = api.size([0, 1])[1];
    p0 = [p0[0], p0[1] - h * 0.08]; p1 = [p1[0], p1[1] - h * 0.08];
    var mid = Math.max(p0[0] + 6, Math.min(p1[0] - 6, p0[0] + 6));
    var critical = from.critical && to.critical && from.float === 0 && to.float === 0;
    var stroke = critical ? "#a8071a" : "#8c8c8c";
    return { type: "group", children: [
      { type: "polyline", shape: { points: [p0, [mid, p0[1]], [mid, p1[1]], [p1[0], p1[1]]] },
        style: { stroke: stroke, fill: null, lineWidth: critical ? 1.5 : 1 } },
      { type: "polygon", shape: { points: [[p1[0], p1[1]], [p1[0] - 5, p1[1] - 3], [p1[0] - 5, p1[1] + 3]] }, style: { fill: stroke } }
    ] };
  }

  function draw() {
    rows = data.tasks;
    index = {};
    rows.forEach(function (t, i) { index[t.code] = i; });
    var first = Infinity, last = -Infinity;
    rows.forEach(function (t) {
      first = Math.min(first, ms(t.start), t.baseline_start ? ms(t.baseline_start) : Infinity);
      last = Math.max(last, ms(t.finish) + DAY, t.baseline_finish ? ms(t.baseline_finish) + DAY : -Infinity);
    });
    var today = ms(data.today);
    // the chart grows with the plan (CSP allows no inline style attribute, so it is set here)
    var height = Math.max(320, Math.min(rows.length * 28 + 80, 20000)) + "px";
    if (holder.style.height !== height) { holder.style.height = height; chart.resize(); }
    chart.setOption({
      animation: false,
      grid: { left: 220, right: 30, top: 30, bottom: 40 },
      tooltip: { formatter: function (p) {
        if (p.seriesIndex !== 0) { return ""; }
        var t = rows[p.dataIndex];
        return t.code + " " + t.name + "<br>" + t.start + " → " + t.finish + " · " + t.percent + "%" +
          (t.critical ? "<br>" + holder.dataset.labelCritical : "") +
          (t.baseline_start ? "<br>" + holder.dataset.labelBaseline + " " + t.baseline_start + " → " + t.baseline_finish : "");
      } },
      xAxis: { type: "time", position: "top", min: Math.min(first, today) - 2 * DAY, max: Math.max(last, today) + 3 * DAY,
               splitLine: { show: true, lineStyle: { color: "#f0f0f0" } } },
      yAxis: { type: "category", inverse: true, data: rows.map(function (t) { return t.code + " " + t.name; }),
               axisLabel: { width: 200, overflow: "truncate" } },
      series: [
        { type: "custom", name: "tasks", renderItem: bars, encode: { x: [1, 2], y: 0 },
          data: rows.map(function (t, i) { return [i, ms(t.start), ms(t.finish) + DAY]; }),
          markLine: { silent: true, symbol: "none", lineStyle: { type: "dashed", color: "#1677ff" },
                      label: { formatter: holder.dataset.labelToday }, data: [{ xAxis: today }] } },
        { type: "custom", name: "links", renderItem: arrows, silent: true, encode: { x: [1, 2], y: 3 },
          data: data.links.map(function (l) {
            var a = rows[index[l.from]], b = rows[index[l.to]];
            return [0, ms(a.finish) + DAY, ms(b.start), index[l.to]];
          }) }
      ]
    }, true);
    holder.setAttribute("data-state", "rendered");
  }

  function load() {
    return fetch(holder.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (json) { data = json; draw(); });
  }

  function csrf() {
    var m = document.body.getAttribute("hx-headers");
    try { return JSON.parse(m)["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function show(kind, text) {
    var error = document.querySelector("[data-testid=gantt-error]");
    var status = document.querySelector("[data-testid=gantt-status]");
    error.hidden = kind !== "error"; status.hidden = kind !== "status";
    (kind === "error" ? error : status).textContent = text;
  }

  function move(code, start) {
    return fetch(holder.dataset.reschedule + encodeURIComponent(code) + "/reschedule", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify({ start: start })
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) {
          var error = body.error || {};
          var problems = (error.fields && error.fields.start) || [];
          var msg = problems.length ? problems[0].message : error.message;
          show("error", (msg && (msg[lang()] || msg.en)) || String(r.status));
          return;
        }
        show("status", holder.dataset.labelMoved + " " + body.map(function (m) { return m.code + " " + m.start; }).join(", "));
        return load();
      });
    });
  }

  function setUpDrag() {
    if (!holder.dataset.mayPlan) { return; }
    chart.on("mousedown", function (p) {
      if (p.seriesIndex !== 0) { return; }
      drag = { row: p.dataIndex, x: p.event.offsetX };
    });
    chart.getZr().on("mouseup", function (e) {
      if (!drag) { return; }
      var t = rows[drag.row];
      var from = chart.convertFromPixel({ seriesIndex: 0 }, [drag.x, 0])[0];
      var to = chart.convertFromPixel({ seriesIndex: 0 }, [e.offsetX, 0])[0];
      var days = Math.round((to - from) / DAY);
      drag = null;
      if (days === 0) { return; }
      var base = t.kind === "milestone" ? ms(t.finish) : ms(t.start);
      move(t.code, iso(base + days * DAY + 12 * 3600000));
    });
  }

  function start() {
    holder = document.getElementById("gantt");
    if (!holder || typeof echarts === "undefined") { return; }
    holder.style.height = "320px";
    chart = echarts.init(holder, null, { renderer: "canvas" });
    window.addEventListener("resize", function () { chart.resize(); });
    setUpDrag();
    // For tests and assistive tools: where a task's bar is drawn, and how to move it without a mouse.
    window.tongbanGantt = {
      barCentre: function (code) {
        var i = index[code], t = rows[i];
        var x0 = chart.convertToPixel({ seriesIndex: 0 }, [ms(t.start), i]);
        var x1 = chart.convertToPixel({ seriesIndex: 0 }, [ms(t.finish) + DAY, i]);
        var box = holder.getBoundingClientRect();
        var h = chart.getModel().getComponent("yAxis").axis.getBandWidth();
        return { x: box.left + (x0[0] + x1[0]) / 2, y: box.top + x0[1] - h * 0.08, dayWidth: (x1[0] - x0[0]) / Math.max(1, (ms(t.finish) + DAY - ms(t.start)) / DAY) };
      },
      move: move,
      data: function () { return data; }
    };
    load();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
