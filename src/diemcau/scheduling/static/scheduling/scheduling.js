// Behaviours of the meeting pages (no inline scripts): reply-deadline countdowns, the
// participant picker, the host endpoint list, and small conveniences of the forms.
(function () {
  "use strict";

  // ---------------------------------------------------------------- countdowns
  // <span data-countdown data-deadline="ISO" data-warn-at="ISO" data-overdue-label="…">:
  // the time left to the operator's reply deadline, every second; amber from the warning
  // time (ĐN Đ11.2b, KH Đ13.2b), red and "overdue" once the deadline has passed. A reply due
  // at once (data-breach-at: KH Đ12.3, an emergency) counts up from its receipt, "due now",
  // until the regulation's own limit passes.
  var STATES = ["ok", "warn", "now", "overdue"];

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function clock(ms) {
    var s = Math.floor(Math.abs(ms) / 1000);
    return Math.floor(s / 3600) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60);
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var deadline = Date.parse(el.getAttribute("data-deadline"));
      var warnAt = Date.parse(el.getAttribute("data-warn-at"));
      if (isNaN(deadline)) return;
      var left = deadline - now;
      var breachAt = Date.parse(el.getAttribute("data-breach-at") || "");
      var state = left <= 0 ? "overdue" : (!isNaN(warnAt) && now >= warnAt ? "warn" : "ok");
      var text = left > 0 ? clock(left) : (el.getAttribute("data-overdue-label") || "overdue") + " " + clock(left);
      if (!isNaN(breachAt) && now < breachAt) {
        state = "now";
        text = (el.getAttribute("data-now-label") || "due now") + " +" + clock(Math.max(0, -left));
      }
      var target = el.querySelector("[data-countdown-text]") || el;
      if (target.textContent !== text) target.textContent = text;
      if (el.getAttribute("data-state") !== state) {
        STATES.forEach(function (s) { el.classList.remove("countdown-" + s); });
        el.classList.add("countdown-" + state);
        el.setAttribute("data-state", state);
        var card = el.closest("[data-queue-item]");
        if (card) {
          STATES.forEach(function (s) { card.classList.remove("queue-item-" + s); });
          card.classList.add("queue-item-" + state);
        }
      }
    });
  }

  // ---------------------------------------------------------------- participant picker
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }

  function filterOptions(box) {
    var search = document.querySelector("[data-endpoint-filter='#" + box.id + "']");
    var onlySelected = document.querySelector("[data-only-selected='#" + box.id + "']");
    var words = search ? fold(search.value.trim()).split(/\s+/).filter(Boolean) : [];
    var selectedOnly = onlySelected && onlySelected.checked;
    var shown = 0;
    box.querySelectorAll("[data-option]").forEach(function (option) {
      var input = option.querySelector("input");
      var haystack = input.getAttribute("data-search") || fold(option.textContent);
      var match = words.every(function (w) { return haystack.indexOf(w) !== -1; });
      if (selectedOnly && !input.checked) match = false;
      option.classList.toggle("d-none", !match);
      if (match) shown += 1;
    });
    var none = box.querySelector("[data-no-match]");
    if (none) none.classList.toggle("d-none", shown > 0);
  }

  function countSelected(box) {
    var badge = box.closest("fieldset") && box.closest("fieldset").querySelector("[data-selected-count]");
    if (badge) badge.textContent = box.querySelectorAll("input:checked").length;
  }

  document.addEventListener("input", function (event) {
    var selector = event.target.getAttribute("data-endpoint-filter");
    if (selector) {
      var box = document.querySelector(selector);
      if (box) filterOptions(box);
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    // Typing in the search box is not a change of the meeting: keep the rules panel quiet.
    if (target.hasAttribute("data-endpoint-filter") || target.hasAttribute("data-only-selected")) {
      event.stopPropagation();
      var box = document.querySelector(target.getAttribute("data-endpoint-filter") ||
                                       target.getAttribute("data-only-selected"));
      if (box) filterOptions(box);
      return;
    }
    var optionBox = target.closest(".participant-options");
    if (optionBox) countSelected(optionBox);
  }, true);

  // ---------------------------------------------------------------- host endpoint list
  // Offer only the endpoints of the chosen host agency; pick the only one if there is one.
  function syncHostEndpoints(agencySelect) {
    var endpointSelect = document.getElementById("id_host_endpoint");
    if (!endpointSelect) return;
    var agency = agencySelect.value;
    var visible = [];
    Array.prototype.forEach.call(endpointSelect.options, function (option) {
      if (!option.value) return;
      var mine = !agency || option.getAttribute("data-agency") === agency;
      option.hidden = !mine;
      option.disabled = !mine;
      if (mine) visible.push(option);
    });
    var current = endpointSelect.options[endpointSelect.selectedIndex];
    if (current && current.value && current.disabled) endpointSelect.value = "";
    if (!endpointSelect.value && visible.length === 1) endpointSelect.value = visible[0].value;
  }

  // ---------------------------------------------------------------- form conveniences
  function syncUrgency(form) {
    var chosen = form.querySelector("input[name='urgency']:checked");
    var value = chosen ? chosen.value : "normal";
    form.querySelectorAll("[data-unless-urgency]").forEach(function (el) {
      var hasError = el.querySelector(".is-invalid");
      el.classList.toggle("d-none", value === el.getAttribute("data-unless-urgency") && !hasError);
    });
  }

  function syncRepeat(form) {
    var recurrence = form.querySelector("[name='recurrence']");
    if (!recurrence) return;
    form.querySelectorAll("[data-if-repeating]").forEach(function (el) {
      el.classList.toggle("d-none", !recurrence.value && !el.querySelector(".is-invalid"));
    });
    var draft = form.querySelector("[data-draft-button]");
    if (draft) draft.disabled = !!recurrence.value;  // a series is submitted at once
  }

  function pad2(n) { return (n < 10 ? "0" : "") + n; }

  // The form's times are local, typed as dd/mm/yyyy HH:MM (ui/forms.py).
  function localInput(date) {
    return pad2(date.getDate()) + "/" + pad2(date.getMonth() + 1) + "/" + date.getFullYear() +
      " " + pad2(date.getHours()) + ":" + pad2(date.getMinutes());
  }

  function parseLocal(text) {
    var m = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2}))?\s*$/.exec(text || "");
    if (m) return new Date(+m[3], +m[2] - 1, +m[1], +(m[4] || 0), +(m[5] || 0));
    var iso = /^\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})/.exec(text || "");
    if (iso) return new Date(+iso[1], +iso[2] - 1, +iso[3], +iso[4], +iso[5]);
    return null;
  }

  function setValue(input, value) {
    if (!(window.diemcauPicker && window.diemcauPicker.set(input, value))) input.value = value;
  }

  // When the start moves past the end (or the end is empty), keep the meeting's length
  // (two hours for a new one).
  function followStart(startInput, endId) {
    var end = document.getElementById(endId);
    var start = parseLocal(startInput.value);
    if (!end || !start) return;
    var previous = parseLocal(startInput.getAttribute("data-previous"));
    var endAt = parseLocal(end.value);
    var length = 2 * 3600 * 1000;
    if (previous && endAt) {
      var before = endAt - previous;
      if (before > 0) length = before;
    }
    if (!endAt || endAt <= start || previous) {
      setValue(end, localInput(new Date(start.getTime() + length)));
    }
    startInput.setAttribute("data-previous", startInput.value);
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    var form = target.closest("#meeting-form");
    if (!form) return;
    if (target.id === "id_host_agency") syncHostEndpoints(target);
    if (target.name === "urgency") syncUrgency(form);
    if (target.name === "recurrence") syncRepeat(form);
    if (target.id === "id_starts_at") followStart(target, "id_ends_at");
    if (target.id === "id_rehearsal_starts_at") followStart(target, "id_rehearsal_ends_at");
  });

  // Technical check: "all ready" ticks every item's "ready".
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-all-ready]");
    if (!button) return;
    var form = document.querySelector(button.getAttribute("data-all-ready"));
    if (!form) return;
    form.querySelectorAll("input[type='radio'][value='yes']").forEach(function (radio) {
      radio.checked = true;
    });
  });

  function init() {
    tick();
    if (document.querySelector("[data-countdown]")) window.setInterval(tick, 1000);
    document.querySelectorAll(".participant-options").forEach(function (box) {
      countSelected(box);
      filterOptions(box);
    });
    var form = document.getElementById("meeting-form");
    if (form) {
      var agency = document.getElementById("id_host_agency");
      if (agency) syncHostEndpoints(agency);
      syncUrgency(form);
      syncRepeat(form);
      ["id_starts_at", "id_rehearsal_starts_at"].forEach(function (id) {
        var input = document.getElementById(id);
        if (input && input.value) input.setAttribute("data-previous", input.value);
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
