// The item under way, shown on each participant's page: it comes with the room's live state.
(function () {
  "use strict";
  var banner = document.getElementById("agenda-banner");
  if (!banner) return;
  document.addEventListener("diemcau:live-state", function (event) {
    var script = event.detail && event.detail.extras && event.detail.extras.script;
    var current = script && script.current;
    banner.classList.toggle("d-none", !current);
    if (!current) return;
    document.getElementById("agenda-current").textContent = current.position + ". " + current.title;
    document.getElementById("agenda-speaker").textContent = [current.speaker, current.speaker_name].filter(Boolean).join(" · ");
  });
})();
