// diemcau's own small behaviours; no inline scripts in the pages.
(function () {
  "use strict";

  // One colour per status (ui/status.py, handed over by the base page as #status-palette):
  // diemcauStatus.colour("meeting", "live") → "success"; .label(…); .entry(…) with hex colours.
  var palette = null;
  function entry(kind, value) {
    if (palette === null) {
      var source = document.getElementById("status-palette");
      palette = source ? JSON.parse(source.textContent) : {};
    }
    return (palette[kind] || {})[value] || null;
  }
  window.diemcauStatus = {
    entry: entry,
    colour: function (kind, value) { var e = entry(kind, value); return e ? e.colour : "secondary"; },
    label: function (kind, value) { var e = entry(kind, value); return e ? e.label : value; },
  };

  // A button with data-fill-target="#id_name" data-fill-value="X" puts X into that field
  // (the "use this name" button next to a suggested endpoint name).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-fill-target]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-fill-target"));
    if (!field) return;
    var value = button.getAttribute("data-fill-value");
    field.classList.remove("is-invalid");
    // A date field with its calendar (datepicker.js) takes the value through the calendar.
    if (!(window.diemcauPicker && window.diemcauPicker.set(field, value))) {
      field.value = value;
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }
    field.focus();
  });

  // A button with data-copy-target="#secret" copies that element's text to the clipboard.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button || !navigator.clipboard) return;
    var source = document.querySelector(button.getAttribute("data-copy-target"));
    if (!source) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      var done = button.getAttribute("data-copied-text");
      if (done) button.textContent = done;
    });
  });

  // Forms with data-confirm="…" ask before submitting (suspend, revoke…).
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
})();
