// The radar of the dashboard: five dimensions, the region and (when chosen) one department.
(function () {
  "use strict";
  function draw() {
    var holder = document.getElementById("radar");
    var source = document.getElementById("radar-data");
    if (!holder || !source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var chart = echarts.init(holder, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      legend: { bottom: 0 },
      tooltip: {},
      radar: { indicator: data.indicators.map(function (name) { return { name: name, max: 100 }; }), radius: "62%" },
      series: [{
        type: "radar",
        data: data.series.map(function (s, i) {
          return { name: s.name, value: s.values, areaStyle: { opacity: i ? 0.25 : 0.1 } };
        })
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
    holder.setAttribute("data-state", "rendered");
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
