/* The balance chart: bars of what came in and went out per day, lines of the imbalance (or losses, %). */
(function () {
  "use strict";
  var block = document.getElementById("balance-chart-data");
  if (!block || typeof Plotly === "undefined") { return; }
  var chart = JSON.parse(block.textContent);
  var layout = { margin: { t: 10, r: 60, b: 40, l: 70 }, barmode: chart.barmode, autosize: true, xaxis: { type: "category" },
                 yaxis: { title: { text: chart.unit } }, legend: { orientation: "h" } };
  if (chart.y2) { layout.yaxis2 = { title: { text: chart.y2 }, overlaying: "y", side: "right" }; }
  Plotly.newPlot("balance-chart", chart.series, layout, { responsive: true, displaylogo: false });
}());
