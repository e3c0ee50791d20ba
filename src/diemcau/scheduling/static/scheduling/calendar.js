// The meeting calendar (FullCalendar, vendored), driven by the JSON in #calendar-config.
// A static file, not an inline script: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("calendar-config").textContent);
  var element = document.getElementById("calendar");
  var filter = document.getElementById("status-filter");
  var failure = document.getElementById("calendar-error");
  var narrow = window.matchMedia("(max-width: 575.98px)").matches;
  var views = "dayGridMonth,timeGridWeek,timeGridDay,listWeek";
  var clock = { hour: "2-digit", minute: "2-digit", hour12: false };

  function statuses() {
    return Array.prototype.map.call(filter.querySelectorAll("input:checked"), function (box) {
      return box.value;
    }).join(",");
  }

  // The server sends times with their +07:00 offset; with a named time zone and no time-zone
  // plugin FullCalendar shows them as written, so every browser shows Vietnam's time.
  var calendar = new FullCalendar.Calendar(element, {
    locale: config.locale,
    timeZone: config.timeZone,
    now: config.now,
    initialDate: config.initialDate,
    initialView: narrow ? "listWeek" : config.initialView,
    headerToolbar: narrow
      ? { left: "title", right: "prev,today,next" }
      : { left: "prev,next today", center: "title", right: views },
    footerToolbar: narrow ? { center: views } : false,
    firstDay: 1,
    nowIndicator: true,
    allDaySlot: false,
    scrollTime: "07:00:00",
    contentHeight: narrow ? "auto" : 640,
    dayMaxEvents: 3,
    slotEventOverlap: false,
    eventTimeFormat: clock,
    slotLabelFormat: clock,
    events: {
      url: config.eventsUrl,
      extraParams: function () { return filter ? { status: statuses() } : {}; },
      failure: function () { if (failure) failure.classList.remove("d-none"); }
    },
    eventDidMount: function (info) {
      var props = info.event.extendedProps;
      var parts = [info.event.title];
      if (props.statusLabel) parts.push(props.statusLabel);
      if (props.host) parts.push(props.host);
      info.el.setAttribute("title", parts.join(" — "));
    },
    loading: function (busy) {
      element.setAttribute("aria-busy", busy ? "true" : "false");
      if (busy && failure) failure.classList.add("d-none");
    }
  });
  calendar.render();
  if (filter) filter.addEventListener("change", function () { calendar.refetchEvents(); });
})();
