// The MCU load charts (Chart.js, vendored), driven by the JSON in #load-config.
// A static file, not an inline script: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("load-config").textContent);
  var week = config.span === "week";
  var hour = 3600 * 1000;
  var tickFormat = new Intl.DateTimeFormat(config.locale, week
    ? { timeZone: config.timeZone, weekday: "short", day: "2-digit", month: "2-digit" }
    : { timeZone: config.timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  var tooltipFormat = new Intl.DateTimeFormat(config.locale, {
    timeZone: config.timeZone, weekday: "short", day: "2-digit", month: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23"
  });

  function draw(canvas, data, key, cap, colour, label) {
    var first = data.points[0].ms;
    var last = data.points[data.points.length - 1].ms;
    var highest = data.points.reduce(function (top, p) { return Math.max(top, p[key]); }, 0);
    var step = week ? 24 * hour : (window.innerWidth < 576 ? 4 : 2) * hour;
    return new Chart(canvas, {
      type: "line",
      data: {
        datasets: [
          {
            label: label,
            data: data.points.map(function (p) { return { x: p.ms, y: p[key] }; }),
            stepped: true,  // a value holds until the next point
            borderColor: colour,
            backgroundColor: colour + "33",
            fill: "origin",
            borderWidth: 2,
            pointRadius: 0,
            pointHitRadius: 6
          },
          {
            label: config.labels.cap + ": " + cap,
            data: [{ x: first, y: cap }, { x: last, y: cap }],
            borderColor: "#dc3545",
            borderDash: [6, 4],
            borderWidth: 1.5,
            pointRadius: 0,
            fill: false
          }
        ]
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        locale: config.locale,
        interaction: { mode: "index", axis: "x", intersect: false },
        scales: {
          x: {
            type: "linear",
            min: first,
            max: last,
            afterBuildTicks: function (axis) {
              var ticks = [];
              for (var at = first; at <= last; at += step) ticks.push({ value: at });
              axis.ticks = ticks;
            },
            ticks: { autoSkip: false, maxRotation: 0, callback: function (value) { return tickFormat.format(new Date(value)); } }
          },
          y: { beginAtZero: true, suggestedMax: Math.max(cap, highest) + 1, ticks: { precision: 0 } }
        },
        plugins: {
          title: { display: true, text: label, align: "start", font: { weight: "600" } },
          legend: { position: "bottom", labels: { boxWidth: 14, boxHeight: 2 } },
          tooltip: {
            callbacks: {
              title: function (items) { return items.length ? tooltipFormat.format(new Date(items[0].parsed.x)) : ""; }
            }
          }
        }
      }
    });
  }

  config.charts.forEach(function (chart) {
    fetch(chart.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.statusText);
        return response.json();
      })
      .then(function (data) {
        draw(document.getElementById("meetings-" + chart.id), data, "meetings", data.meeting_cap, "#0d6efd", config.labels.meetings);
        draw(document.getElementById("endpoints-" + chart.id), data, "endpoints", data.endpoint_cap, "#198754", config.labels.endpoints);
      })
      .catch(function () { document.getElementById("load-error").classList.remove("d-none"); });
  });
})();
