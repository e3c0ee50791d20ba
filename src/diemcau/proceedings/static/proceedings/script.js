// The session's script on the host console: the item under way, the next one and its
// speaker, and one click to move on — the next item begins and its speaker is given the floor
// (the action goes over the console's own socket; the state comes with every console state).
(function () {
  "use strict";
  var panel = document.getElementById("script-panel");
  var consoleApi = window.DiemcauConsole;
  if (!panel || !consoleApi) return;
  var texts = panel.dataset;
  var nextButton = document.getElementById("script-next-button");

  function label(item) {
    if (!item) return "";
    var who = [item.speaker, item.speaker_name].filter(Boolean).join(" · ");
    return item.position + ". " + item.title + (who ? " — " + who : "");
  }

  function render(state) {
    var script = state && state.extras && state.extras.script;
    if (!script) return;
    var tech = script.technician || {};
    var techBox = document.getElementById("script-technician");
    techBox.textContent = texts.textRuns + ": " + (tech.name ? tech.name + (tech.phone ? " · " + tech.phone : "") : texts.textNoTechnician) +
      (tech.endpoint ? " (" + tech.endpoint + ")" : "");
    document.getElementById("script-current").textContent = script.current ? label(script.current) : texts.textNone;
    document.getElementById("script-next-title").textContent = script.next ? label(script.next) : (script.current ? texts.textFinish : texts.textNone);
    nextButton.disabled = !script.may_run || (!script.next && !script.current);
    // Patched, not rebuilt (DiemcauLive.patch): the console's state comes every second or two.
    var rows = script.items.map(function (item) {
      var li = document.createElement("li");
      li.className = "list-group-item d-flex justify-content-between align-items-center gap-2" + (item.state === "current" ? " list-group-item-primary" : "");
      li.dataset.item = item.id;
      li.dataset.state = item.state;
      var text = document.createElement("span");
      text.className = "min-w-0" + (item.state === "done" ? " text-body-secondary text-decoration-line-through" : "");
      text.textContent = label(item);
      li.appendChild(text);
      if (script.may_run && item.state !== "current") {
        var begin = document.createElement("button");
        begin.type = "button";
        begin.className = "btn btn-sm btn-outline-primary";
        begin.textContent = texts.textBegin;
        begin.addEventListener("click", function () { consoleApi.call("script_start", { item: item.id }, begin); });
        li.appendChild(begin);
      }
      return li;
    });
    window.DiemcauLive.patch(document.getElementById("script-list"), rows);
  }

  nextButton.addEventListener("click", function () { consoleApi.call("script_next", {}, nextButton); });
  document.addEventListener("diemcau:live-state", function (event) { render(event.detail); });
  render(consoleApi.state());
})();
