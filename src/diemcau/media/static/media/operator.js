// The operator console: every live meeting, each node's load against its capacity, the poor
// connections and the open incidents, redrawn from ws/live/operator/ on every change.
(function () {
  "use strict";
  var L = window.DiemcauLive;
  var root = document.getElementById("operator-console");
  if (!root || !L) return;
  var t = L.t;
  var el = L.el;
  var labels = document.getElementById("load-labels").content;
  var MEETINGS_LABEL = labels.querySelector("[data-meetings]").textContent;
  var ENDPOINTS_LABEL = labels.querySelector("[data-endpoints]").textContent;

  function consoleUrl(id) {
    return root.dataset.consoleUrl.replace("/0/", "/" + id + "/");
  }

  function showError(error) {
    var box = document.getElementById("console-error");
    box.querySelector("span").textContent = error ? L.errorText(error) : "";
    box.classList.toggle("d-none", !error);
  }

  // Who has not come, with what brings it in: the MCU calls a hardware terminal; any other
  // endpoint gets a join link (issued on the meeting's console, which shows it once).
  function absentList(m) {
    if (!m.absent || !m.absent.length) return null;
    var items = m.absent.map(function (a) {
      var action;
      if (a.hardware && m.sip) {
        action = el("button", { type: "button", class: "btn btn-sm btn-outline-success py-0", "data-do": "call", disabled: !a.admitted, onclick: function (e) {
          var button = e.currentTarget;
          button.disabled = true;
          socket.call("call", { meeting: m.id, endpoint: a.endpoint_id }).then(function () { showError(null); }, showError)
            .finally(function () { button.disabled = false; });
        } }, [L.icon("telephone-outbound"), " ", t("call")]);
      } else {
        action = el("form", { method: "post", action: root.dataset.linkUrl.replace("/0/", "/" + m.id + "/"), class: "d-inline" }, [
          el("input", { type: "hidden", name: "csrfmiddlewaretoken", value: root.dataset.csrf }),
          el("input", { type: "hidden", name: "endpoint", value: String(a.endpoint_id) }),
          el("button", { type: "submit", class: "btn btn-sm btn-outline-primary py-0", "data-do": "link" }, [L.icon("link-45deg"), " ", t("issue_link")]),
        ]);
      }
      return el("li", { class: "d-flex flex-wrap align-items-center gap-1 mb-1", "data-absent": String(a.endpoint_id) }, [
        el("span", { class: "badge text-bg-" + window.diemcauStatus.colour("presence", a.presence), text: a.presence_label }),
        el("span", { class: "font-monospace", text: a.endpoint }),
        el("span", { class: "text-body-secondary text-truncate", text: a.agency }),
        action,
      ]);
    });
    return el("details", { class: "small mt-1" }, [
      el("summary", { text: t("absent_list") + " (" + m.absent.length + ")" }),
      el("ul", { class: "list-unstyled mb-0 mt-1" }, items),
    ]);
  }

  function time(iso) {
    if (!iso) return "";
    // Shown in the site's time zone (Asia/Ho_Chi_Minh), like every time on the pages.
    return new Date(iso).toLocaleTimeString("en-GB", {
      timeZone: root.dataset.timeZone || undefined, hour: "2-digit", minute: "2-digit", hour12: false,
    });
  }

  function bar(label, value, max, percent) {
    var colour = percent >= 80 ? "danger" : percent >= 60 ? "warning" : "success";
    return el("div", { class: "mb-2" }, [
      el("div", { class: "d-flex justify-content-between small" }, [el("span", { text: label }), el("span", { text: value + " / " + max + " (" + percent + " %)" })]),
      el("div", { class: "progress load-bar", role: "progressbar", "aria-label": label, "aria-valuenow": String(percent), "aria-valuemin": "0", "aria-valuemax": "100" }, [
        el("div", { class: "progress-bar bg-" + colour, style: "width: " + Math.min(100, percent) + "%" }),
      ]),
    ]);
  }

  function empty(text, colspan) {
    return colspan ? el("tr", {}, [el("td", { colspan: String(colspan), class: "text-body-secondary", text: text })])
      : el("li", { class: "list-group-item text-body-secondary", text: text });
  }

  function render(data) {
    document.getElementById("overview-at").textContent = time(data.at);
    document.getElementById("meeting-count").textContent = String(data.meetings.length);
    var meetings = data.meetings.map(function (m) {
      return el("tr", { "data-meeting": String(m.id) }, [
        el("td", {}, [el("div", { class: "fw-semibold text-break", text: m.title }), el("div", { class: "small text-body-secondary", text: m.host }), absentList(m)]),
        el("td", { class: "small text-nowrap d-none d-sm-table-cell", text: time(m.starts_at) + "–" + time(m.ends_at) }),
        el("td", { class: "font-monospace small d-none d-md-table-cell", text: m.node || "—" }),
        el("td", { class: "text-center" }, [
          el("span", { class: "badge text-bg-" + (m.connected ? "success" : "secondary"), "data-connected": String(m.connected), text: m.connected + " / " + m.invited }),
          m.terminals ? el("span", { class: "badge text-bg-dark ms-1", title: t("sip_terminals"), "data-terminals": String(m.terminals) }, [L.icon("telephone"), " ", String(m.terminals)]) : null,
          m.upstream ? el("span", { class: "badge ms-1 text-bg-" + window.diemcauStatus.colour("sip_call", m.upstream), title: t("upstream"), "data-upstream": m.upstream }, [L.icon("diagram-3"), " ", window.diemcauStatus.label("sip_call", m.upstream)]) : null,
        ]),
        el("td", { class: "text-end" }, [el("a", { class: "btn btn-sm btn-outline-primary", href: consoleUrl(m.id) }, [L.icon("sliders"), " ", t("open_console")])]),
      ]);
    });
    if (!meetings.length) meetings.push(empty(t("no_live"), 5));
    // Patched, not rebuilt: the panel is read again every few seconds, and a link must not
    // move under the pointer.
    L.patch(document.getElementById("meetings"), meetings);
    L.patch(document.getElementById("nodes"), data.nodes.map(function (n) {
      return el("div", { class: "mb-3", "data-node": String(n.id) }, [
        el("div", { class: "fw-semibold font-monospace mb-1" }, [
          el("span", { class: "live-dot " + (n.health === "up" ? "on" : "") }), " ", n.name,
        ]),
        bar(MEETINGS_LABEL, n.live_meetings, n.max_meetings, n.meetings_percent),
        bar(ENDPOINTS_LABEL, n.connected, n.max_endpoints, n.endpoints_percent),
        n.sip ? bar(t("mixers"), n.mixers, n.max_mixers, n.mixers_percent) : null,
      ]);
    }));
    var poor = data.poor.map(function (p) {
      var detail = [];
      if (p.rtt_ms !== null) detail.push(p.rtt_ms + " ms");
      if (p.loss_percent !== null) detail.push(Math.round(p.loss_percent * 10) / 10 + " %");
      return el("li", { class: "list-group-item d-flex flex-wrap justify-content-between gap-2" }, [
        el("span", {}, [el("span", { class: "font-monospace fw-semibold", text: p.endpoint }), " · ", el("a", { href: consoleUrl(p.meeting), text: p.meeting_title })]),
        el("span", { class: "badge text-bg-danger", text: detail.join(" · ") || t("quality_poor") }),
      ]);
    });
    if (!poor.length) poor.push(empty(t("no_poor")));
    L.patch(document.getElementById("poor"), poor);
    var incidents = data.incidents.map(function (i) {
      return el("li", { class: "list-group-item" }, [
        el("div", { class: "d-flex justify-content-between gap-2" }, [el("strong", { text: "#" + i.id }), el("span", { class: "text-body-secondary", text: time(i.opened_at) })]),
        el("div", { text: i.description }),
        el("a", { href: consoleUrl(i.meeting), class: "small", text: i.meeting_title }),
      ]);
    });
    if (!incidents.length) incidents.push(empty(t("no_incident")));
    L.patch(document.getElementById("incidents"), incidents);
  }

  document.querySelector("#console-error .btn-close").addEventListener("click", function () { showError(null); });

  var socket = new L.LiveSocket(root.dataset.wsPath, {
    open: function () { document.getElementById("socket-dot").classList.add("on"); },
    message: function (message) { if (message.type === "state") render(message); },
    close: function () { document.getElementById("socket-dot").classList.remove("on"); },
  });
  render(JSON.parse(document.getElementById("live-overview").textContent));
})();
