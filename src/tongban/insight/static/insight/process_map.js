// The process map of an event log: activities left to right by where they sit in cases, lines as
// thick as the hand-over is frequent, labelled with the mean time between the two steps.
(function () {
  "use strict";

  // Units in the page's language, as the tables around the map write them (天 / 小时 / 分钟).
  var zh = (document.documentElement.lang || "").toLowerCase().indexOf("zh") === 0;
  var UNITS = zh ? { d: " 天", h: " 小时", min: " 分钟", mean: "平均", median: "中位数", starts: "开始", ends: "结束" }
                 : { d: " days", h: " hours", min: " minutes", mean: "mean", median: "median", starts: "starts", ends: "ends" };

  function hours(h) {
    if (h >= 24) { return (h / 24).toFixed(1) + UNITS.d; }
    if (h >= 1) { return h.toFixed(1) + UNITS.h; }
    return Math.round(h * 60) + UNITS.min;
  }

  function draw() {
    var holder = document.getElementById("process-map");
    var source = document.getElementById("process-map-data");
    if (!holder || !source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var most = Math.max.apply(null, data.nodes.map(function (n) { return n.count; }).concat([1]));
    var cases = data.nodes.reduce(function (sum, n) { return sum + n.start; }, 0) || 1;
    // Borders mark where a real share of cases (5 % or more) starts or ends, not every odd exit.
    function starts(n) { return n.start / cases >= 0.05; }
    function ends(n) { return n.end / cases >= 0.05; }
    var labels = {};
    data.nodes.forEach(function (n) { labels[n.name] = n.label || n.name; });
    var labelled = data.edges.slice().sort(function (a, b) { return b.count - a.count; }).slice(0, 12);
    var pairs = {};
    data.edges.forEach(function (e) { pairs[e.source + "\u001f" + e.target] = true; });
    // Wide maps scroll sideways: each column keeps the room its boxes need.
    holder.style.minWidth = Math.max(600, data.columns * 190) + "px";
    holder.style.height = Math.max(420, data.rows * 110 + 80) + "px";
    var chart = echarts.init(holder, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      tooltip: {
        formatter: function (p) {
          if (p.dataType === "edge") {
            var e = p.data.raw;
            return (labels[e.source] || e.source) + " → " + (labels[e.target] || e.target) + "<br>" + e.count + " × · " + UNITS.mean + " " + hours(e.mean_hours) +
              " · " + UNITS.median + " " + hours(e.median_hours) + " · p90 " + hours(e.p90_hours);
          }
          var n = p.data.raw;
          return (n.label || n.name) + "<br>" + n.count + " ×" + (n.start ? " · " + UNITS.starts + " " + n.start : "") + (n.end ? " · " + UNITS.ends + " " + n.end : "");
        }
      },
      series: [{
        type: "graph",
        layout: "none",
        roam: true,
        edgeSymbol: ["none", "arrow"],
        edgeSymbolSize: 8,
        label: { show: true, position: "inside", fontSize: 11, width: 128, overflow: "truncate", lineHeight: 13 },
        edgeLabel: { show: false, fontSize: 10, formatter: function (p) { return p.data.raw.count + " · " + hours(p.data.raw.mean_hours); } },
        emphasis: { focus: "adjacency", edgeLabel: { show: true } },
        data: data.nodes.map(function (n) {
          return {
            name: n.name, x: n.x, y: n.y, raw: n,
            symbol: "roundRect", symbolSize: [140, 46],
            itemStyle: {
              color: "rgba(25, 95, 180, " + (0.25 + 0.75 * n.count / most).toFixed(2) + ")",
              borderColor: starts(n) ? "#2e7d32" : (ends(n) ? "#b71c1c" : "#174a8b"),
              borderWidth: starts(n) || ends(n) ? 3 : 1
            },
            label: { color: n.count / most > 0.5 ? "#fff" : "#0b2545", formatter: n.label || n.name }
          };
        }),
        links: data.edges.map(function (e) {
          var back = e.source === e.target || pairs[e.target + "\u001f" + e.source];
          return {
            source: e.source, target: e.target, raw: e,
            label: { show: labelled.indexOf(e) >= 0 },
            lineStyle: { width: 1 + 7 * e.weight, curveness: e.source === e.target ? 0.6 : (back ? 0.25 : 0.05), opacity: 0.75 }
          };
        })
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
    holder.setAttribute("data-state", "rendered");
    holder.setAttribute("data-nodes", String(data.nodes.length));
    holder.setAttribute("data-edges", String(data.edges.length));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
