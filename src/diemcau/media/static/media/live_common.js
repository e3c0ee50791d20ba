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
      else if (name.slice(0, 2) === "on") node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
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
    t: t, wsUrl: wsUrl, postJson: postJson, el: el, icon: icon, errorText: errorText,
    LiveSocket: LiveSocket,
  };
})();
