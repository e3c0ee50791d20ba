// The report page's charts (Chart.js, vendored): one bar chart per table that has one, from
// the data the page hands over in #report-charts (json_script). This period's bars beside
// the previous period's; a node's cap as a red mark. Clicking a bar opens the rows behind it.
(function () {
  "use strict";

  var CURRENT = "#0d6efd", PREVIOUS = "#adb5bd", CAP = "#dc3545";

  function draw(spec, labels) {
    var canvas = document.getElementById(spec.id);
    if (!canvas || typeof Chart === "undefined") return null;
    var datasets = [
      { label: labels.current, data: spec.current, backgroundColor: CURRENT, borderRadius: 2 },
      { label: labels.previous, data: spec.previous, backgroundColor: PREVIOUS, borderRadius: 2 }
    ];
    if (spec.caps) {
      datasets.push({
        type: "line", label: labels.capLabel, data: spec.caps, borderColor: CAP,
        backgroundColor: CAP, borderDash: [6, 4], pointStyle: "line", pointRadius: 8,
        showLine: false
      });
    }
    var chart = new Chart(canvas, {
      type: "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        indexAxis: spec.horizontal ? "y" : "x",
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12 } },
          tooltip: { callbacks: { footer: function () { return spec.unit || ""; } } }
        },
        scales: {
          x: { beginAtZero: true, ticks: { precision: 0 } },
          y: { beginAtZero: true, ticks: { precision: 0 } }
        },
        onClick: function (event, elements) {
          if (!elements.length) return;
          var link = spec.links[elements[0].index];
          if (link && elements[0].datasetIndex === 0) window.location.href = link;
        },
        onHover: function (event, elements) {
          event.native.target.style.cursor =
            elements.length && elements[0].datasetIndex === 0 ? "pointer" : "default";
        }
      }
    });
    canvas.setAttribute("data-chart-drawn", "true");
    return chart;
  }

  function start() {
    var source = document.getElementById("report-charts");
    if (!source) return;
    var data = JSON.parse(source.textContent);
    var labels = { current: data.current, previous: data.previous, capLabel: data.capLabel };
    data.charts.forEach(function (spec) { draw(spec, labels); });
    document.body.setAttribute("data-report-charts", String(data.charts.length));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
