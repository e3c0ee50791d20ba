// The archive's pages: bars take their width from data-width (no inline styles), and a
// recording being processed is followed until it is ready (then the page reloads).
(function () {
  "use strict";
  function widths() {
    document.querySelectorAll("[data-width]").forEach(function (bar) {
      bar.style.width = Math.max(0, Math.min(100, Number(bar.dataset.width) || 0)) + "%";
    });
  }
  function follow(section) {
    var url = section.dataset.statusUrl;
    var bar = section.querySelector("[data-progress] .progress-bar");
    var label = section.querySelector("[data-state-label]");
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          if (bar) {
            bar.dataset.width = data.progress;
            bar.textContent = data.progress + "%";
            bar.parentElement.setAttribute("aria-valuenow", data.progress);
            widths();
          }
          if (label) { label.textContent = data.state_label; }
          if (data.state !== section.dataset.state) { window.location.reload(); return; }
          window.setTimeout(poll, 3000);
        })
        .catch(function () { window.setTimeout(poll, 10000); });
    }
    window.setTimeout(poll, 3000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    widths();
    var section = document.querySelector("#recording[data-status-url]");
    if (section && (section.dataset.state === "processing" || section.dataset.state === "recording")) {
      follow(section);
    }
  });
})();
