// What the live pages share: their texts, a WebSocket address on this site, JSON posts with
// the CSRF token, and small DOM helpers. No text of its own: the page gives its words in the
// #live-texts JSON block, in the page's language.
(function () {
  "use strict";

  var textsNode = document.getElementById("live-texts");
  var texts = textsNode ? JSON.parse(textsNode.textContent) : {};

  function t(name, values) {
    var text = texts[name] || name;
    if (values) {
      Object.keys(values).forEach(function (key) {
        text = text.split("%(" + key + ")s").join(String(values[key]));
      });
    }
    return text;
  }

  function wsUrl(path) {
    return (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + path;
  }

  function postJson(url, body, csrf) {
    var headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (csrf) headers["X-CSRFToken"] = csrf;
    return fetch(url, {
      method: "POST",
      headers: headers,
      credentials: "same-origin",
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().catch(function () { return { ok: false, message: t("network_error") }; })
        .then(function (data) { data.status = response.status; return data; });
    });
  }

  // el("span", {class: "badge", text: "x"}, [children]) → an element; no HTML parsing.
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "class") node.className = value;
      else if (name.slice(0, 2) === "on") { node.addEventListener(name.slice(2), value); node.diemcauActs = true; }
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  // patch(list, nodes): the list's children become `nodes`, keeping every element that is
  // still there. A pushed state rewrites the console's lists every second or two (line
  // telemetry); rebuilding them would detach the button under a host's pointer between press
  // and release, and the click would be lost. Rows are matched by their key attribute, other
  // elements by tag in order; an element that acts (a button with its handler, a form field)
  // is kept only when it is identical, so a kept handler always acts on what its row shows.
  var KEYS = ["data-participation", "data-invited", "data-endpoint", "data-call", "data-link-form",
    "data-meeting", "data-node", "data-item"];

  function keyOf(node) {
    if (node.nodeType !== 1) return "#" + node.nodeType;
    for (var i = 0; i < KEYS.length; i++) {
      if (node.hasAttribute(KEYS[i])) return node.tagName + "|" + KEYS[i] + "=" + node.getAttribute(KEYS[i]);
    }
    return node.tagName;
  }

  function acts(node) {
    return node.diemcauActs || /^(INPUT|SELECT|TEXTAREA|BUTTON|FORM)$/.test(node.tagName);
  }

  function morph(old, fresh) {
    if (old.nodeType !== 1) {
      if (old.nodeValue !== fresh.nodeValue) old.nodeValue = fresh.nodeValue;
      return old;
    }
    if (acts(old) || acts(fresh)) return old.isEqualNode(fresh) ? old : fresh;
    Array.prototype.slice.call(old.attributes).forEach(function (a) {
      if (!fresh.hasAttribute(a.name)) old.removeAttribute(a.name);
    });
    Array.prototype.forEach.call(fresh.attributes, function (a) {
      if (old.getAttribute(a.name) !== a.value) old.setAttribute(a.name, a.value);
    });
    patch(old, Array.prototype.slice.call(fresh.childNodes));
    return old;
  }

  function patch(parent, nodes) {
    var old = Array.prototype.slice.call(parent.childNodes);
    var keys = old.map(keyOf);
    var kept = nodes.filter(function (n) { return n !== null && n !== undefined; }).map(function (node) {
      var at = keys.indexOf(keyOf(node));
      if (at < 0) return node;
      keys[at] = null; // used
      return morph(old[at], node);
    });
    old.forEach(function (node) { if (kept.indexOf(node) < 0) parent.removeChild(node); });
    kept.forEach(function (node, i) {
      if (parent.childNodes[i] !== node) parent.insertBefore(node, parent.childNodes[i] || null);
    });
  }

  function icon(name, label) {
    return el("i", { class: "bi bi-" + name, "aria-hidden": "true", title: label || null });
  }

  // An error from a WebSocket result or a refused JSON call: "Article: message".
  function errorText(error) {
    if (!error) return "";
    var text = error.message || "";
    if (error.fields) {
      text = Object.keys(error.fields).map(function (k) { return error.fields[k].join(" "); }).join(" ") || text;
    }
    return error.article ? error.article + ": " + text : text;
  }

  // A WebSocket that sends {action, request} and resolves each request's result or error;
  // it reconnects after a drop unless `stop()` was called or the server refused (44xx).
  function LiveSocket(path, handlers) {
    this.path = path;
    this.handlers = handlers || {};
    this.pending = {};
    this.seq = 0;
    this.stopped = false;
    this.retry = 1000;
    this.open();
  }
  LiveSocket.prototype.open = function () {
    var self = this;
    var socket = new WebSocket(wsUrl(this.path));
    this.socket = socket;
    socket.onopen = function () {
      self.retry = 1000;
      if (self.handlers.open) self.handlers.open();
    };
    socket.onmessage = function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      var waiting = message.request !== undefined && message.request !== null ? self.pending[message.request] : null;
      if (waiting && (message.type === "result" || message.type === "error")) {
        delete self.pending[message.request];
        if (message.type === "result") waiting.resolve(message); else waiting.reject(message);
        return;
      }
      if (self.handlers.message) self.handlers.message(message);
    };
    socket.onclose = function (event) {
      Object.keys(self.pending).forEach(function (key) {
        self.pending[key].reject({ message: t("reconnecting") });
      });
      self.pending = {};
      if (self.handlers.close) self.handlers.close(event);
      if (self.stopped || (event.code >= 4400 && event.code < 4500)) return;
      setTimeout(function () { if (!self.stopped) self.open(); }, self.retry);
      self.retry = Math.min(self.retry * 2, 15000);
    };
  };
  LiveSocket.prototype.send = function (message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  };
  LiveSocket.prototype.call = function (action, data) {
    var self = this;
    var request = ++this.seq;
    var message = Object.assign({ action: action, request: request }, data || {});
    return new Promise(function (resolve, reject) {
      if (!self.send(message)) { reject({ message: t("reconnecting") }); return; }
      self.pending[request] = { resolve: resolve, reject: reject };
    });
  };
  LiveSocket.prototype.stop = function () {
    this.stopped = true;
    if (this.socket) this.socket.close();
  };


  window.DiemcauLive = {
    t: t, wsUrl: wsUrl, postJson: postJson, el: el, icon: icon, errorText: errorText, patch: patch,
    LiveSocket: LiveSocket,
  };
})();
