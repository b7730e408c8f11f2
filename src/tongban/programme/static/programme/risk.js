// The Monte Carlo result: the histogram of finish dates and the S-curve (share finished by a date).
(function () {
  "use strict";
  function draw() {
    var holder = document.getElementById("risk-chart"), source = document.getElementById("risk-data");
    if (!holder || !source || typeof echarts === "undefined") { return; }
    var r = JSON.parse(source.textContent);
    var labels = r.histogram.edges.slice(0, -1);
    holder.style.height = "340px";
    var chart = echarts.init(holder, null, { renderer: "svg" });
    chart.setOption({
      animation: false, tooltip: { trigger: "axis" }, legend: { bottom: 0 },
      grid: [{ left: 50, right: "55%", top: 20, bottom: 60 }, { left: "55%", right: 30, top: 20, bottom: 60 }],
      xAxis: [{ type: "category", data: labels, gridIndex: 0 }, { type: "category", data: r.s_curve.map(function (p) { return p[0]; }), gridIndex: 1 }],
      yAxis: [{ type: "value", gridIndex: 0 }, { type: "value", gridIndex: 1, max: 1, axisLabel: { formatter: function (v) { return Math.round(v * 100) + "%"; } } }],
      series: [
        { type: "bar", name: holder.dataset.labelRuns, data: r.histogram.counts, xAxisIndex: 0, yAxisIndex: 0 },
        { type: "line", name: holder.dataset.labelShare, data: r.s_curve.map(function (p) { return p[1]; }), xAxisIndex: 1, yAxisIndex: 1, step: "end" }
      ]
    });
    holder.setAttribute("data-state", "rendered");
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
