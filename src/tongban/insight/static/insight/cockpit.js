// The cockpit's charts: the trend with the forecast (dashed) and the regions. Data from #cockpit-data.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("cockpit-data");
    if (!source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var wall = document.body.classList.contains("cockpit-wall");
    var text = wall ? "#e8eef7" : "#1f2329";
    var charts = [];
    var trendHolder = document.getElementById("cockpit-trend");
    if (trendHolder) {
      var c = data.chart, L = data.labels;
      var series = [
        { name: L.cases, type: "line", data: c.cases, showSymbol: false, color: "#1b5fb4" },
        { name: L.orders, type: "line", data: c.orders, showSymbol: false, color: "#c2410c" }
      ];
      if (c.cases_forecast.length) {
        series.push({ name: L.cases_forecast, type: "line", data: c.cases_forecast, showSymbol: false,
          lineStyle: { type: "dashed" }, color: "#1b5fb4" });
      }
      if (c.orders_forecast.length) {
        series.push({ name: L.orders_forecast, type: "line", data: c.orders_forecast, showSymbol: false,
          lineStyle: { type: "dashed" }, color: "#c2410c" });
      }
      var days = c.days;
      var trend = echarts.init(trendHolder, null, { renderer: "svg" });
      trend.setOption({
        animation: false,
        textStyle: { color: text },
        legend: { bottom: 0, textStyle: { color: text } },
        tooltip: { trigger: "axis" },
        grid: { left: 40, right: 16, top: 16, bottom: 56 },
        xAxis: { type: "category", data: days, axisLabel: { color: text } },
        yAxis: { type: "value", minInterval: 1, axisLabel: { color: text } },
        series: series
      });
      trendHolder.setAttribute("data-forecast-days", String(c.forecast_days));
      trendHolder.setAttribute("data-state", "rendered");
      charts.push(trend);
    }
    var regionHolder = document.getElementById("cockpit-regions");
    if (regionHolder && data.regions.length) {
      var regions = echarts.init(regionHolder, null, { renderer: "svg" });
      regions.setOption({
        animation: false,
        textStyle: { color: text },
        legend: { bottom: 0, textStyle: { color: text } },
        tooltip: { trigger: "axis" },
        grid: { left: 40, right: 48, top: 16, bottom: 56 },
        xAxis: { type: "category", data: data.regions.map(function (r) { return r.name; }), axisLabel: { color: text } },
        yAxis: [
          { type: "value", minInterval: 1, axisLabel: { color: text } },
          { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value} %", color: text } }
        ],
        series: [
          { name: data.labels.submitted, type: "bar", color: "#1b5fb4", data: data.regions.map(function (r) { return r.submitted; }) },
          { name: data.labels.on_time, type: "line", yAxisIndex: 1, color: "#1f7a3d",
            data: data.regions.map(function (r) { return r.on_time_rate === null ? null : Math.round(r.on_time_rate * 1000) / 10; }) }
        ]
      });
      regionHolder.setAttribute("data-state", "rendered");
      charts.push(regions);
    }
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
