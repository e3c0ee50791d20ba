// The device check before joining: camera picture, microphone level, a round trip over the
// server's live channel and a ping to the media server; then the grant and the room.
(function () {
  "use strict";
  var L = window.DiemcauLive;
  var root = document.getElementById("device-check");
  if (!root || !L) return;
  var t = L.t;
  var DEVICES_KEY = "diemcau.devices";
  var stream = null;
  var audioContext = null;
  var meterTimer = null;
  var heardSomething = false;

  function mark(name, colour, text, detail) {
    var badge = root.querySelector("[data-check='" + name + "']");
    if (badge) {
      badge.className = "badge text-bg-" + colour;
      badge.textContent = text;
      badge.setAttribute("data-state", colour);
    }
    var more = root.querySelector("[data-check-detail='" + name + "']");
    if (more && detail !== undefined) more.textContent = detail;
  }

  function savedDevices() {
    try { return JSON.parse(window.localStorage.getItem(DEVICES_KEY) || "{}"); } catch (e) { return {}; }
  }

  function saveDevices() {
    var chosen = {
      video: document.getElementById("camera-select").value || "",
      audio: document.getElementById("mic-select").value || "",
    };
    try { window.localStorage.setItem(DEVICES_KEY, JSON.stringify(chosen)); } catch (e) { /* private mode */ }
  }

  function stopStream() {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    if (meterTimer) window.clearInterval(meterTimer);
    meterTimer = null;
    if (audioContext) audioContext.close();
    audioContext = null;
  }

  function fillSelect(select, devices, kind, current) {
    select.textContent = "";
    devices.filter(function (d) { return d.kind === kind; }).forEach(function (device, index) {
      var option = L.el("option", { value: device.deviceId, text: device.label || kind + " " + (index + 1) });
      if (device.deviceId === current) option.selected = true;
      select.appendChild(option);
    });
  }

  function startMeter(audioTrack) {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    audioContext = new Context();
    var source = audioContext.createMediaStreamSource(new MediaStream([audioTrack]));
    var analyser = audioContext.createAnalyser();
    analyser.fftSize = 512;
    source.connect(analyser);
    var data = new Uint8Array(analyser.fftSize);
    var bar = document.getElementById("mic-level");
    heardSomething = false;
    meterTimer = window.setInterval(function () {
      analyser.getByteTimeDomainData(data);
      var sum = 0;
      for (var i = 0; i < data.length; i++) { var v = (data[i] - 128) / 128; sum += v * v; }
      var level = Math.min(100, Math.round(Math.sqrt(sum / data.length) * 300));
      bar.style.width = level + "%";
      bar.parentNode.setAttribute("aria-valuenow", String(level));
      if (level > 3 && !heardSomething) {
        heardSomething = true;
        mark("mic", "success", t("ok"));
      }
    }, 100);
  }

  function openDevices() {
    stopStream();
    var saved = savedDevices();
    var camera = document.getElementById("camera-select").value || saved.video;
    var mic = document.getElementById("mic-select").value || saved.audio;
    mark("camera", "secondary", t("checking"));
    mark("mic", "secondary", t("checking"));
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      mark("camera", "danger", t("failed"), t("camera_failed", { reason: "getUserMedia" }));
      mark("mic", "danger", t("failed"));
      return;
    }
    navigator.mediaDevices.getUserMedia({
      video: camera ? { deviceId: { ideal: camera } } : true,
      audio: mic ? { deviceId: { ideal: mic } } : true,
    }).then(function (opened) {
      stream = opened;
      document.getElementById("check-preview").srcObject = opened;
      var video = opened.getVideoTracks()[0];
      var audio = opened.getAudioTracks()[0];
      mark("camera", video ? "success" : "danger", video ? t("ok") : t("failed"),
        video ? t("camera_ok") + " · " + (video.label || "") : t("camera_failed", { reason: "—" }));
      if (audio) {
        mark("mic", "warning", t("mic_silent"));
        startMeter(audio);
      } else {
        mark("mic", "danger", t("failed"));
      }
      return navigator.mediaDevices.enumerateDevices().then(function (devices) {
        fillSelect(document.getElementById("camera-select"), devices, "videoinput",
          video && video.getSettings ? video.getSettings().deviceId : camera);
        fillSelect(document.getElementById("mic-select"), devices, "audioinput",
          audio && audio.getSettings ? audio.getSettings().deviceId : mic);
        saveDevices();
      });
    }).catch(function (error) {
      var reason = (error && (error.message || error.name)) || "";
      mark("camera", "danger", t("failed"), t("no_devices", { reason: reason }));
      mark("mic", "danger", t("failed"));
    });
  }

  function timed(name, open, timeoutMs) {
    mark(name, "secondary", t("checking"));
    var started = performance.now();
    var finished = false;
    function finish(ok, failText) {
      if (finished) return;
      finished = true;
      var ms = Math.round(performance.now() - started);
      if (ok) {
        mark(name, ms > 500 ? "warning" : "success",
          t("ms", { ms: ms }) + (ms > 500 ? " · " + t("slow") : ""));
      } else {
        mark(name, "danger", failText);
      }
    }
    window.setTimeout(function () { finish(false, name === "janus" ? t("janus_failed") : t("server_failed")); }, timeoutMs);
    open(function (ok) { finish(ok, name === "janus" ? t("janus_failed") : t("server_failed")); }, function () { started = performance.now(); });
  }

  // The server's live channel: the participant socket answers a hello at once (here with no
  // key, so with an error): one full round trip through the ASGI server and the database.
  function checkServer() {
    timed("server", function (done, sent) {
      var socket;
      try { socket = new WebSocket(L.wsUrl(root.dataset.wsPath)); } catch (e) { done(false); return; }
      socket.onopen = function () { sent(); socket.send(JSON.stringify({ action: "hello", key: "" })); };
      socket.onmessage = function () { done(true); socket.close(); };
      socket.onerror = function () { done(false); };
    }, 8000);
  }

  // The media server: a Janus "ping" over its WebSocket needs no token.
  function checkJanus() {
    var url = root.dataset.janusUrl;
    if (!url) { mark("janus", "danger", t("janus_failed")); return; }
    timed("janus", function (done, sent) {
      var socket;
      try { socket = new WebSocket(url, "janus-protocol"); } catch (e) { done(false); return; }
      socket.onopen = function () { sent(); socket.send(JSON.stringify({ janus: "ping", transaction: "check" })); };
      socket.onmessage = function (event) {
        var answer = {};
        try { answer = JSON.parse(event.data); } catch (e) { /* not Janus */ }
        done(answer.janus === "pong");
        socket.close();
      };
      socket.onerror = function () { done(false); };
    }, 8000);
  }

  function showError(text) {
    var box = document.getElementById("join-error");
    box.textContent = text;
    box.classList.toggle("d-none", !text);
  }

  function join() {
    var button = document.getElementById("join-button");
    var endpoint = document.getElementById("endpoint-select").value;
    button.disabled = true;
    showError("");
    var label = button.innerHTML;
    button.textContent = t("joining");
    saveDevices();
    L.postJson(root.dataset.grantUrl, { endpoint: endpoint }, root.dataset.csrf).then(function (grant) {
      if (!grant.ok) {
        showError(L.errorText(grant));
        button.disabled = false;
        button.innerHTML = label;
        return;
      }
      stopStream();
      window.sessionStorage.setItem("diemcau.grant." + root.dataset.meeting, JSON.stringify(grant));
      window.location.assign(root.dataset.roomUrl + "?endpoint=" + encodeURIComponent(endpoint));
    }).catch(function () {
      showError(t("network_error"));
      button.disabled = false;
      button.innerHTML = label;
    });
  }

  // The note on the microphone follows the endpoint chosen: the host's enters speaking.
  function showMicNote() {
    var select = document.getElementById("endpoint-select");
    var chosen = select.tagName === "SELECT" ? select.options[select.selectedIndex] : select;
    var host = !!(chosen && chosen.hasAttribute("data-host"));
    root.querySelector("[data-mic-note=host]").classList.toggle("d-none", !host);
    root.querySelector("[data-mic-note=participant]").classList.toggle("d-none", host);
  }

  // Before the room opens the button is disabled and says when; it is enabled then.
  function enableWhenOpen() {
    var button = document.getElementById("join-button");
    var wait = Number(button.getAttribute("data-opens-in") || 0);
    if (!wait) return;
    window.setTimeout(function () {
      button.disabled = false;
      button.setAttribute("data-room-state", "open");
      var note = document.getElementById("room-opens");
      if (note) note.classList.add("d-none");
    }, Math.min(wait * 1000, 2147483647));
  }

  document.getElementById("endpoint-select").addEventListener("change", showMicNote);
  document.getElementById("camera-select").addEventListener("change", function () { saveDevices(); openDevices(); });
  document.getElementById("mic-select").addEventListener("change", function () { saveDevices(); openDevices(); });
  document.getElementById("recheck").addEventListener("click", function () { checkServer(); checkJanus(); });
  document.getElementById("join-button").addEventListener("click", join);
  window.addEventListener("pagehide", stopStream);

  showMicNote();
  enableWhenOpen();
  openDevices();
  checkServer();
  checkJanus();
})();
