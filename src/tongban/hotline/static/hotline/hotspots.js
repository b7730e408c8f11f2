// The hotspot page's charts: orders of the top clusters per region (stacked bars), and their map
// points on a plain longitude/latitude grid (no map tiles: government networks are closed).
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("hotspot-data");
    if (!source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var bars = document.getElementById("hotspot-regions");
    if (bars) {
      var chart = echarts.init(bars, null, { renderer: "svg" });
      chart.setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        legend: { type: "scroll", bottom: 0 },
        grid: { left: 40, right: 16, top: 16, bottom: 56, containLabel: true },
        xAxis: { type: "category", data: data.regions, axisLabel: { interval: 0, rotate: data.regions.length > 6 ? 30 : 0 } },
        yAxis: { type: "value", minInterval: 1 },
        series: data.series.map(function (s) { return { name: s.name, type: "bar", stack: "orders", data: s.data }; })
      });
      window.addEventListener("resize", function () { chart.resize(); });
      bars.setAttribute("data-state", "rendered");
    }
    var grid = document.getElementById("hotspot-points");
    if (grid) {
      var map = echarts.init(grid, null, { renderer: "svg" });
      map.setOption({
        animation: false,
        tooltip: { formatter: function (p) { return p.seriesName + "<br>" + p.value[1].toFixed(5) + ", " + p.value[0].toFixed(5); } },
        legend: { type: "scroll", bottom: 0 },
        grid: { left: 56, right: 16, top: 16, bottom: 56 },
        xAxis: { type: "value", scale: true, name: "lon", splitLine: { show: true } },
        yAxis: { type: "value", scale: true, name: "lat", splitLine: { show: true } },
        series: data.points.map(function (s) { return { name: s.name, type: "scatter", symbolSize: 9, data: s.data }; })
      });
      window.addEventListener("resize", function () { map.resize(); });
      grid.setAttribute("data-state", "rendered");
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
