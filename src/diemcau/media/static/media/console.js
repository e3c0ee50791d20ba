// The host console: the state of the meeting as pushed over ws/live/meetings/<id>/ on every
// change, and the controls, each an action on the same socket (the services check rights and
// rules; a refusal comes back with its article).
(function () {
  "use strict";
  var L = window.DiemcauLive;
  var root = document.getElementById("host-console");
  if (!root || !L) return;
  var t = L.t;
  var el = L.el;
  var icon = L.icon;
  var state = JSON.parse(document.getElementById("live-state").textContent);
  var doneTimer = null;

  function showError(error) {
    var box = document.getElementById("console-error");
    box.querySelector("span").textContent = L.errorText(error);
    box.classList.toggle("d-none", !error);
  }

  function showDone(text) {
    var box = document.getElementById("console-done");
    box.textContent = text;
    box.classList.remove("d-none");
    if (doneTimer) window.clearTimeout(doneTimer);
    doneTimer = window.setTimeout(function () { box.classList.add("d-none"); }, 2500);
  }

  function act(action, data, button) {
    if (button) button.disabled = true;
    return socket.call(action, data).then(function (result) {
      showError(null);
      showDone(t("done"));
      return result;
    }, function (error) {
      showError(error);
      return null;
    }).finally(function () {
      if (button) button.disabled = false;
    });
  }

  // ------------------------------------------------------------------ drawing

  function button(label, iconName, colour, onClick, extra, withText) {
    return el("button", Object.assign({
      type: "button", class: "btn btn-sm btn-" + colour, title: label, "aria-label": label, onclick: onClick,
    }, extra || {}), [icon(iconName), withText ? " " + label : null]);
  }

  function participantRow(p) {
    var meeting = state.meeting;
    var spotlit = meeting.spotlight === p.janus_id;
    var name = el("div", { class: "participant-name" }, [
      el("div", {}, [
        el("span", { class: "endpoint-name", text: p.endpoint }), " ",
        p.is_host ? el("span", { class: "badge text-bg-primary", text: t("host") }) : null, " ",
        p.transport === "sip" ? el("span", { class: "badge text-bg-dark", title: t("terminal"), "data-transport": "sip" }, [icon("telephone"), " ", t("sip")]) : null, " ",
        spotlit ? el("span", { class: "badge text-bg-info", title: t("spotlight") }, [icon("star-fill"), " ", t("spotlight")]) : null,
      ]),
      el("div", { class: "small text-body-secondary", text: p.agency }),
      !p.connected ? el("div", { class: "small text-warning-emphasis", "data-connecting": "true", text: t("connecting_endpoint") + "…" }) : null,
    ]);
    var detail = [];
    if (p.rtt_ms !== null && p.rtt_ms !== undefined) detail.push(p.rtt_ms + " ms");
    if (p.loss_percent !== null && p.loss_percent !== undefined) detail.push(p.loss_percent + " %");
    if (p.bitrate_kbps !== null && p.bitrate_kbps !== undefined) detail.push(p.bitrate_kbps + " kb/s");
    var facts = el("div", { class: "participant-facts d-flex flex-wrap align-items-center gap-1" }, [
      el("span", { class: "badge text-bg-" + (p.audio_muted ? "secondary" : "success"), "data-muted": p.audio_muted ? "true" : "false" },
        [icon(p.audio_muted ? "mic-mute-fill" : "mic-fill"), " ", p.audio_muted ? t("muted") : t("unmuted")]),
      el("span", { class: "badge " + (p.video_muted ? "text-bg-secondary" : "text-bg-light border"), title: p.video_muted ? t("camera_off") : "" },
        [icon(p.video_muted ? "camera-video-off" : "camera-video")]),
      el("span", { class: "badge text-bg-" + window.diemcauStatus.colour("quality", p.quality), "data-quality": p.quality, title: detail.join(" · ") },
        [icon("reception-4"), " ", p.quality_label]),
      detail.length ? el("span", { class: "small text-body-secondary text-nowrap", text: detail.join(" · ") }) : null,
      el("span", { class: "badge text-bg-light border", "data-attendees": p.attendee_count === null ? "" : String(p.attendee_count), title: t("attendees") },
        [icon("people"), " ", p.attendee_count === null ? "—" : String(p.attendee_count)]),
      p.has_floor ? el("span", { class: "small text-success fw-semibold", text: t("speaking") }) : null,
      p.hand_raised_at ? el("span", { class: "small text-warning-emphasis" }, [icon("hand-index-thumb"), " ", t("raise_hand")]) : null,
    ]);
    var actions = el("div", { class: "btn-group participant-actions", role: "group" }, [
      p.audio_muted
        ? button(t("give_floor"), "mic", "outline-success", function (e) { act("give_floor", { participation: p.id }, e.currentTarget); }, { "data-do": "give_floor" }, true)
        : button(t("mute"), "mic-mute", "outline-secondary", function (e) { act("mute", { participation: p.id }, e.currentTarget); }, { "data-do": "mute" }, true),
      spotlit
        ? button(t("spotlight_off"), "star-fill", "info", function (e) { act("spotlight", { participation: null }, e.currentTarget); }, { "data-do": "spotlight_off" })
        : button(t("spotlight"), "star", "outline-info", function (e) { act("spotlight", { participation: p.id }, e.currentTarget); }, { "data-do": "spotlight" }),
      button(t("kick"), "person-x", "outline-danger", function (e) {
        if (window.confirm(t("confirm_kick", { name: p.endpoint }))) act("kick", { participation: p.id }, e.currentTarget);
      }, { "data-do": "kick" }),
    ]);
    return el("li", { "data-participation": String(p.id), class: "list-group-item participant" + (p.has_floor ? " has-floor" : "") }, [
      name, facts, actions,
    ]);
  }

  // A line lost moments ago, or on a media node that is down: its page joins again by itself.
  // No controls: the host acts on it once it is back.
  function reconnectingRow(p) {
    return el("li", { "data-participation": String(p.id), "data-reconnecting": "true", class: "list-group-item participant text-body-secondary" }, [
      el("div", { class: "participant-name" }, [
        el("div", {}, [
          el("span", { class: "endpoint-name", text: p.endpoint }), " ",
          p.is_host ? el("span", { class: "badge text-bg-primary", text: t("host") }) : null,
        ]),
        el("div", { class: "small", text: p.agency }),
      ]),
      el("span", { class: "badge text-bg-" + window.diemcauStatus.colour("presence", "reconnecting") }, [
        el("span", { class: "spinner-border spinner-border-sm me-1", "aria-hidden": "true" }), t("reconnecting_endpoint"),
      ]),
    ]);
  }

  function render() {
    var meeting = state.meeting;
    var status = document.getElementById("meeting-status");
    status.className = "badge text-bg-" + window.diemcauStatus.colour("meeting", meeting.status);
    status.textContent = meeting.status_label;
    status.setAttribute("data-status", meeting.status);
    var connected = state.participants.filter(function (p) { return p.connected; }).length;
    document.getElementById("connected-count").textContent = connected + " / " + meeting.invited;
    document.getElementById("locked-badge").classList.toggle("d-none", !meeting.locked);
    document.getElementById("recording-badge").classList.toggle("d-none", !meeting.recording);

    var open = meeting.status === "accepted" || meeting.status === "live";
    root.querySelectorAll("[data-action]").forEach(function (b) { b.disabled = !open; });
    root.querySelector("[data-action=start]").classList.toggle("d-none", meeting.status !== "accepted");
    var lock = root.querySelector("[data-action=lock]");
    lock.querySelector("span").textContent = meeting.locked ? t("unlock") : t("lock");
    lock.querySelector("i").className = "bi bi-" + (meeting.locked ? "unlock" : "lock");
    var record = root.querySelector("[data-action=record]");
    record.querySelector("span").textContent = meeting.recording ? t("record_stop") : t("record_start");
    var refusal = document.getElementById("record-refusal");
    if (!meeting.recording_allowed && !meeting.recording) {
      record.disabled = true;
      document.getElementById("record-wrap").title = meeting.recording_refusal;
      refusal.querySelector("span").textContent = meeting.recording_refusal;
      refusal.classList.remove("d-none");
    } else {
      document.getElementById("record-wrap").removeAttribute("title");
      refusal.classList.add("d-none");
    }
    document.getElementById("incident-count").textContent = meeting.open_incidents ? "(" + meeting.open_incidents + ")" : "";

    var reconnecting = state.reconnecting || [];
    var rows = state.participants.map(participantRow).concat(reconnecting.map(reconnectingRow));
    if (!rows.length) rows.push(el("li", { class: "list-group-item text-body-secondary", text: t("no_one") }));
    L.patch(document.getElementById("participants"), rows);

    var byId = {};
    state.participants.forEach(function (p) { byId[p.id] = p; });
    document.getElementById("queue-count").textContent = String(state.queue.length);
    renderSip();
    renderInvited();
    var waiting = state.queue.filter(function (id) { return byId[id]; }).map(function (id) {
      var p = byId[id];
      return el("li", { class: "list-group-item", "data-participation": String(id) }, [
        el("span", { class: "queue-name" }, [el("span", { class: "font-monospace fw-semibold", text: p.endpoint }), el("div", { class: "small text-body-secondary", text: p.agency })]),
        el("div", { class: "btn-group" }, [
          button(t("give_floor"), "mic", "success", function (e) { act("give_floor", { participation: id }, e.currentTarget); }, { "data-do": "give_floor" }, true),
          button(t("lower"), "x-lg", "outline-secondary", function (e) { act("lower_hand", { participation: id }, e.currentTarget); }, { "data-do": "lower_hand" }, true),
        ]),
      ]);
    });
    if (!state.queue.length) {
      waiting.push(el("li", { class: "list-group-item text-body-secondary queue-empty", text: t("queue_empty") }));
    }
    L.patch(document.getElementById("queue"), waiting);
  }

  // ------------------------------------------------------------------ who has not come (R18)

  // A join link is issued by the page's form (it is shown once, on the page that answers).
  function linkForm(endpointId, name) {
    var form = el("form", { method: "post", action: root.dataset.linkUrl, class: "d-inline", "data-link-form": String(endpointId) }, [
      el("input", { type: "hidden", name: "csrfmiddlewaretoken", value: root.dataset.csrf }),
      el("input", { type: "hidden", name: "endpoint", value: String(endpointId) }),
      el("button", { type: "submit", class: "btn btn-sm btn-outline-primary", "data-do": "link", title: t("issue_link_for", { name: name }) }, [icon("link-45deg"), " ", t("issue_link")]),
    ]);
    return form;
  }

  function invitedRow(row, open) {
    var call = row.call;
    var calling = call && call.active;
    var actions = [];
    if (!row.present && open) {
      if (row.hardware && state.sip.enabled) {
        actions.push(calling
          ? callBadge(call)
          : button(t("call"), "telephone-outbound", "success", function (e) {
            act("call", { endpoint: row.endpoint_id }, e.currentTarget);
          }, { "data-do": "call", disabled: !row.admitted }, true));
      }
      if (!row.hardware || !state.sip.enabled) actions.push(linkForm(row.endpoint_id, row.endpoint));
    }
    var since = row.since && !row.present ? new Date(row.since).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: root.dataset.timeZone || undefined }) : "";
    return el("li", { class: "list-group-item d-flex flex-wrap justify-content-between align-items-center gap-2", "data-invited": String(row.endpoint_id), "data-presence": row.presence }, [
      el("div", { class: "min-w-0" }, [
        el("div", {}, [
          el("span", { class: "endpoint-name", text: row.endpoint }), " ",
          row.is_host ? el("span", { class: "badge text-bg-primary", text: t("host") }) : null, " ",
          row.hardware ? el("span", { class: "badge text-bg-dark", title: t("terminal") }, [icon("telephone"), " ", t("sip")]) : null,
        ]),
        el("div", { class: "small text-body-secondary text-break", text: row.agency }),
        !row.admitted ? el("div", { class: "small text-danger", text: t("not_admitted") }) : null,
      ]),
      el("div", { class: "d-flex flex-wrap align-items-center gap-2" }, [
        el("span", { class: "badge text-bg-" + window.diemcauStatus.colour("presence", row.presence), "data-presence-badge": row.presence, text: row.presence_label + (since ? " · " + since : "") }),
      ].concat(actions)),
    ]);
  }

  function renderInvited() {
    var rows = state.invited_endpoints || [];
    var meeting = state.meeting;
    var open = meeting.status === "accepted" || meeting.status === "live";
    var present = rows.filter(function (r) { return r.present; }).length;
    document.getElementById("present-count").textContent = t("present_count", { n: present });
    document.getElementById("absent-count").textContent = t("absent_count", { n: rows.length - present });
    // The absent first: they are what the host has to act on.
    L.patch(document.getElementById("invited-list"),
      rows.filter(function (r) { return !r.present; }).concat(rows.filter(function (r) { return r.present; }))
        .map(function (row) { return invitedRow(row, open); }));
  }

  // ------------------------------------------------------------------ SIP terminals (R23–R25)

  function callBadge(call) {
    if (!call) return null;
    var text = call.state_label;
    if (call.hanging_up) text = t("hanging_up");
    return el("span", {
      class: "badge text-bg-" + window.diemcauStatus.colour("sip_call", call.state),
      "data-call-state": call.state,
      title: [call.sip_code ? String(call.sip_code) : "", call.reason].filter(Boolean).join(" "),
      text: text,
    });
  }

  function terminalRow(term) {
    var call = term.call;
    var active = call && call.active;
    var detail = [];
    if (call && !call.active && call.reason && call.state !== "answered") detail.push((call.sip_code ? call.sip_code + " " : "") + call.reason);
    if (call && call.direction === "in") detail.push(t("dialled_in"));
    if (term.connected && !active) detail.push(t("by_browser"));
    var actions = el("div", { class: "btn-group btn-group-sm" }, [
      active
        ? button(t("hang_up"), "telephone-x", "outline-danger", function (e) {
          if (window.confirm(t("confirm_hang_up", { name: term.endpoint }))) act("hangup", { call: call.id }, e.currentTarget);
        }, { "data-do": "hangup", "data-call-id": String(call.id), disabled: call.hanging_up }, true)
        : button(call ? t("call_again") : t("call"), "telephone-outbound", "success", function (e) {
          act("call", { endpoint: term.endpoint_id }, e.currentTarget);
        }, { "data-do": "call", disabled: term.connected }, true),
    ]);
    return el("li", { class: "list-group-item sip-terminal", "data-endpoint": String(term.endpoint_id) }, [
      el("div", { class: "min-w-0" }, [
        el("div", {}, [el("span", { class: "endpoint-name", text: term.endpoint }), " ", term.is_host ? el("span", { class: "badge text-bg-primary", text: t("host") }) : null]),
        el("div", { class: "small text-body-secondary text-truncate", text: term.agency }),
        el("div", { class: "small font-monospace text-body-secondary text-break", text: term.address }),
        detail.length ? el("div", { class: "small text-body-secondary", text: detail.join(" · ") }) : null,
      ]),
      el("div", { class: "d-flex flex-column align-items-end gap-1" }, [callBadge(call), actions]),
    ]);
  }

  function renderSip() {
    var sip = state.sip;
    var meeting = state.meeting;
    var open = meeting.status === "accepted" || meeting.status === "live";
    document.getElementById("sip-disabled").classList.toggle("d-none", sip.enabled);
    var dial = document.getElementById("dial-in");
    dial.classList.toggle("d-none", !sip.dial_in);
    dial.querySelector("code").textContent = sip.dial_in || "";
    root.querySelectorAll("[data-layout]").forEach(function (input) {
      input.checked = input.value === meeting.layout;
      input.disabled = !open;
    });
    var inRoom = sip.terminals.filter(function (term) { return term.call && term.call.state === "answered"; }).length;
    document.getElementById("sip-count").textContent = inRoom + " / " + sip.terminals.length;
    var terminals = sip.terminals.map(terminalRow);
    if (!terminals.length) terminals.push(el("li", { class: "list-group-item small text-body-secondary", text: t("no_terminals") }));
    terminals.forEach(function (row) {
      row.querySelectorAll("button").forEach(function (b) { if (!open || !sip.enabled) b.disabled = true; });
    });
    L.patch(document.getElementById("terminals"), terminals);

    var box = document.getElementById("upstream");
    var up = sip.upstream;
    box.classList.toggle("d-none", !up);
    if (up) {
      document.getElementById("upstream-uri").textContent = up.uri || "—";
      L.patch(document.getElementById("upstream-state"), [callBadge(up.call)]);
      var actions = [];
      var live = up.call && up.call.active;
      if (live) {
        actions.push(button(t("hang_up"), "telephone-x", "outline-danger", function (e) { act("hangup", { call: up.call.id }, e.currentTarget); }, { "data-do": "hangup_upstream", "data-call-id": String(up.call.id), disabled: up.call.hanging_up }, true));
      } else if (up.uri) {
        actions.push(button(t("call_upstream"), "telephone-outbound", "success", function (e) { act("call_upstream", {}, e.currentTarget); }, { "data-do": "call_upstream", disabled: !open || !sip.enabled }, true));
      }
      if (sip.can_test_upstream) {
        var testing = up.test && up.test.active;
        actions.push(button(t("test_link"), "activity", "outline-primary", function (e) { act("test_upstream", {}, e.currentTarget); }, { "data-do": "test_upstream", disabled: testing || live || !open || !sip.enabled }, true));
      }
      L.patch(document.getElementById("upstream-actions"), actions);
      var test = document.getElementById("upstream-test");
      test.textContent = "";
      if (up.test) {
        if (up.test.active) test.textContent = t("test_running");
        else if (up.test.state === "ended" && up.test.answered_at) test.textContent = t("test_passed", { time: new Date(up.test.answered_at).toLocaleTimeString() }) + (up.test.reason ? " " + up.test.reason : "");
        else test.textContent = t("test_failed", { reason: [up.test.sip_code, up.test.reason || up.test.state_label].filter(Boolean).join(" ") });
      }
    }
    var form = document.getElementById("upstream-form");
    var maySet = root.hasAttribute("data-may-set-upstream");
    form.classList.toggle("d-none", !maySet);
    var input = document.getElementById("upstream-input");
    if (maySet && document.activeElement !== input) input.value = (up && up.uri) || "";

    var calls = state.calls.map(function (call) {
      return el("li", { class: "d-flex flex-wrap gap-1 align-items-center mb-1", "data-call": String(call.id) }, [
        callBadge(call),
        el("span", { class: "font-monospace", text: call.endpoint || (call.kind === "upstream" ? t("upstream") : call.remote_uri) }),
        call.source ? el("span", { class: "text-body-secondary", text: t("from", { source: call.source }) }) : null,
        call.reason ? el("span", { class: "text-body-secondary", text: "· " + (call.sip_code ? call.sip_code + " " : "") + call.reason }) : null,
      ]);
    });
    if (!calls.length) calls.push(el("li", { class: "text-body-secondary", text: t("no_calls") }));
    L.patch(document.getElementById("calls"), calls);
  }

  root.querySelectorAll("[data-layout]").forEach(function (input) {
    input.addEventListener("change", function () {
      if (input.checked) act("layout", { layout: input.value });
    });
  });
  document.getElementById("upstream-form").addEventListener("submit", function (event) {
    event.preventDefault();
    act("upstream_link", { uri: document.getElementById("upstream-input").value }, event.submitter).then(function (result) {
      if (result) showDone(t("link_saved"));
    });
  });

  // ------------------------------------------------------------------ controls

  root.querySelector("[data-action=start]").addEventListener("click", function (e) { act("start", {}, e.currentTarget); });
  root.querySelector("[data-action=mute_all]").addEventListener("click", function (e) {
    if (window.confirm(t("confirm_mute_all"))) act("mute_all", {}, e.currentTarget);
  });
  root.querySelector("[data-action=lock]").addEventListener("click", function (e) {
    act("lock", { locked: !state.meeting.locked }, e.currentTarget);
  });
  root.querySelector("[data-action=record]").addEventListener("click", function (e) {
    act("record", { on: !state.meeting.recording }, e.currentTarget);
  });
  root.querySelector("[data-action=end]").addEventListener("click", function (e) {
    if (window.confirm(t("confirm_end"))) act("end", {}, e.currentTarget);
  });
  document.getElementById("escalate-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = document.getElementById("escalate-text");
    act("escalate", { description: text.value }, event.submitter).then(function (result) {
      if (!result) return;
      text.value = "";
      showDone(t("incident_sent"));
    });
  });
  document.querySelector("#console-error .btn-close").addEventListener("click", function () { showError(null); });

  // ------------------------------------------------------------------ live

  var socket = new L.LiveSocket(root.dataset.wsPath, {
    open: function () { document.getElementById("socket-dot").classList.add("on"); },
    message: function (message) {
      if (message.type === "state") {
        state = message;
        render();
        announce();
      }
    },
    close: function (event) {
      document.getElementById("socket-dot").classList.remove("on");
      if (event.code === 4403) showError({ message: t("forbidden") });
    },
  });
  // What other apps add to the console (media/extensions.py) gets every state and sends its
  // actions on the same socket, with the same error and done messages; the first state is
  // `DiemcauConsole.state()`.
  function announce() {
    document.dispatchEvent(new CustomEvent("diemcau:live-state", { detail: state }));
  }
  window.DiemcauConsole = { call: act, state: function () { return state; } };
  render();
})();
