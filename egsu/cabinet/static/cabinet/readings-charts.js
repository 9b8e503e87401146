/* Trend charts of the readings pages: one Plotly chart per quantity, data from the page's JSON block. */
(function () {
  "use strict";
  var block = document.getElementById("chart-data");
  if (!block || typeof Plotly === "undefined") { return; }
  JSON.parse(block.textContent).forEach(function (chart) {
    Plotly.newPlot(chart.id, [{ x: chart.x, y: chart.y, type: "scatter", mode: "lines+markers", name: chart.quantity }],
      { margin: { t: 10, r: 10, b: 40, l: 60 }, yaxis: { title: { text: chart.unit } }, autosize: true },
      { responsive: true, displaylogo: false });
  });
}());
