// Dates and times typed and picked as dd/mm/yyyy and HH:MM on 24 hours, whatever the
// browser's locale (ui/forms.py): a calendar from flatpickr (vendored), in Vietnamese on
// Vietnamese pages, Monday first. The input stays a text field the server reads, so typing
// works too, and so does a page without this script.
//   <input data-picker="date">       dd/mm/yyyy
//   <input data-picker="datetime">   dd/mm/yyyy HH:MM
//   <input data-picker="date" data-picker-submit="Y-m-d">  shown dd/mm/yyyy, sent as ISO
//                                    (the calendar pages' "go to" boxes)
(function () {
  "use strict";

  var FORMATS = { date: "d/m/Y", datetime: "d/m/Y H:i" };

  function locale() {
    var lang = (document.documentElement.getAttribute("lang") || "vi").toLowerCase();
    var l10ns = window.flatpickr && window.flatpickr.l10ns;
    if (lang.indexOf("vi") === 0 && l10ns && l10ns.vn) return l10ns.vn;
    return { firstDayOfWeek: 1 };
  }

  function attach(input) {
    if (input._flatpickr || !window.flatpickr) return;
    var kind = input.getAttribute("data-picker") === "datetime" ? "datetime" : "date";
    var submit = input.getAttribute("data-picker-submit");
    var options = {
      locale: locale(),
      allowInput: true,
      disableMobile: true,  // the phone's own picker would follow the phone's locale again
      time_24hr: true,
      enableTime: kind === "datetime",
      minuteIncrement: 5,
      dateFormat: submit || FORMATS[kind],
    };
    if (submit) {
      options.altInput = true;
      options.altFormat = FORMATS[kind];
      options.altInputClass = input.className;
    }
    window.flatpickr(input, options);
  }

  function attachAll(root) {
    (root || document).querySelectorAll("input[data-picker]").forEach(attach);
  }

  window.diemcauPicker = {
    attachAll: attachAll,
    // Put a value ("dd/mm/yyyy HH:MM") into a picked field, as if chosen (app.js's fill).
    set: function (input, value) {
      if (input._flatpickr) {
        input._flatpickr.setDate(value, true, input._flatpickr.config.dateFormat);
        return true;
      }
      return false;
    },
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { attachAll(); });
  } else {
    attachAll();
  }
  // Forms that htmx swaps in get their pickers too.
  document.addEventListener("htmx:afterSettle", function (event) { attachAll(event.target); });
})();
