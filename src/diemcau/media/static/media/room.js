// The participant's room. Signalling with Janus goes through janus.js with the one-off token
// of the grant; the backend sends the `join`s (the browser never knows the room's PIN): this
// page hands it the ids of its Janus session and handles over ws/live/participant/.
//
// The microphone belongs to the people in the room: every endpoint closes its own, and gives
// the floor back when it has finished speaking. KH Đ11.6: a participant enters muted and opens
// its microphone only when the host gives it the floor (the hand button asks for it); the
// host's own endpoint enters with its microphone on and opens and closes it itself. The local
// microphone track stays disabled while the state says muted.
(function () {
  "use strict";
  var L = window.DiemcauLive;
  var root = document.getElementById("live-room");
  if (!root || !L) return;
  var t = L.t;
  var el = L.el;
  var GRANT_KEY = "diemcau.grant." + root.dataset.meeting;
  var QUALITY_EVERY_MS = 5000;

  var grant = null;
  var live = null;          // LiveSocket to the backend
  var janus = null;
  var publisher = null;     // the handle that sends this endpoint's picture and sound
  var subscriber = null;    // one handle that receives everybody else
  var localStream = new MediaStream();
  var view = null;          // the last participant_view
  var finished = false;
  var publishedSent = false;
  var publishers = {};      // janus id → display, as Janus announces them
  var subscribed = {};      // janus id → true once asked for
  var subscribing = false;
  var midFeed = {};         // subscriber mid → janus id
  var tiles = {};           // janus id → {figure, video, stream, label}
  var lastStats = null;
  var qualityTimer = null;
  var leaving = false;

  // ------------------------------------------------------------------ small things

  function showError(text) {
    var box = document.getElementById("room-error");
    box.textContent = text || "";
    box.classList.toggle("d-none", !text);
  }

  function setConnection(colour, text) {
    var badge = document.getElementById("connection-badge");
    badge.className = "badge text-bg-" + colour;
    badge.textContent = text;
  }

  function devices() {
    try { return JSON.parse(window.localStorage.getItem("diemcau.devices") || "{}"); } catch (e) { return {}; }
  }

  function endpointId() {
    return new URLSearchParams(window.location.search).get("endpoint") || root.dataset.endpoint || "";
  }

  function muted() {
    return !view || view.me.audio_muted;
  }

  function applyLocalAudio() {
    // The microphone sends nothing while muted, even before Janus's own mute takes effect.
    localStream.getAudioTracks().forEach(function (track) { track.enabled = !muted(); });
  }

  // ------------------------------------------------------------------ the grant

  function obtainGrant() {
    var stored = window.sessionStorage.getItem(GRANT_KEY);
    if (stored) {
      window.sessionStorage.removeItem(GRANT_KEY);  // a reload asks for a fresh one
      try { return Promise.resolve(JSON.parse(stored)); } catch (e) { /* ask again */ }
    }
    return L.postJson(root.dataset.grantUrl, { endpoint: endpointId() }, root.dataset.csrf);
  }

  // ------------------------------------------------------------------ the backend's socket

  function connectBackend() {
    live = new L.LiveSocket(root.dataset.wsPath, {
      open: function () {
        live.send({ action: "hello", key: grant.key });
      },
      message: function (message) {
        if (message.type === "state") onState(message);
        else if (message.type === "told") onTold(message);
        else if (message.type === "error") {
          // The hello was refused: the grant ended (a reload, the host removed it).
          finish("lost");
        }
      },
      close: function () {
        if (!finished) setConnection("warning", t("reconnecting"));
      },
    });
  }

  function onTold(message) {
    if (message.event !== "closed") return;
    finish(message.reason || "ended");
  }

  function onState(state) {
    var first = view === null;
    view = state;
    // What other apps add to the room (media/extensions.py) follows the same state.
    document.dispatchEvent(new CustomEvent("diemcau:live-state", { detail: state }));
    if (!state.me.open) { finish(state.me.left_reason || "ended"); return; }
    if (state.meeting_status === "ended") { finish("ended"); return; }
    document.getElementById("me-display").textContent = state.me.display;
    document.getElementById("recording-badge").classList.toggle("d-none", !state.recording);
    document.getElementById("locked-badge").classList.toggle("d-none", !state.locked);
    applyLocalAudio();
    renderMic();
    renderStage();
    if (first) startJanus();
  }

  function renderMic() {
    var me = view.me;
    var badge = document.getElementById("mic-state");
    var open = !me.audio_muted;
    badge.className = "badge fs-6 text-bg-" + (open ? "success" : "secondary");
    badge.querySelector("i").className = "bi bi-" + (open ? "mic-fill" : "mic-mute-fill");
    badge.querySelector("span").textContent = open ? t("unmuted") : t("muted");
    badge.setAttribute("data-muted", open ? "false" : "true");
    document.getElementById("self-mic").className = "bi " + (open ? "bi-mic-fill text-success" : "bi-mic-mute-fill text-danger");
    document.getElementById("floor-banner").classList.toggle("d-none", !me.has_floor);
    root.setAttribute("data-host", me.is_host ? "true" : "false");

    // Its own microphone: closed by the endpoint whenever it likes; opened when it may.
    var mic = document.getElementById("mic-button");
    var mayToggle = (open || me.may_unmute) && !finished;
    mic.className = "btn " + (open ? "btn-outline-secondary" : "btn-success") + (mayToggle ? "" : " d-none");
    mic.disabled = finished;
    mic.setAttribute("data-do", open ? "mute_self" : "unmute_self");
    mic.querySelector("i").className = "bi bi-" + (open ? "mic-mute" : "mic");
    mic.querySelector("span").textContent = open ? t("mute_self") : t("unmute_self");

    // The floor: given back by the endpoint that has it ("Finish speaking").
    var give = document.getElementById("yield-button");
    give.classList.toggle("d-none", !me.has_floor || finished);
    give.disabled = finished;

    // Asking to speak: a participant without the floor (the host's endpoint needs not ask).
    var hand = document.getElementById("hand-button");
    var raised = !!me.hand_raised_at;
    hand.disabled = me.has_floor || finished;
    hand.setAttribute("data-raised", raised ? "true" : "false");
    hand.className = "btn " + (raised ? "btn-warning" : "btn-primary") + (me.is_host || me.has_floor ? " d-none" : "");
    hand.querySelector("span").textContent = raised ? t("lower_hand") : t("raise_hand");

    var info = document.getElementById("queue-info");
    if (me.is_host) info.textContent = t("host_microphone");
    else if (me.has_floor) info.textContent = open ? "" : t("floor_muted");
    else if (view.queue_position) info.textContent = t("queue_position", { n: view.queue_position });
    else info.textContent = me.audio_muted && !me.may_unmute ? t("waiting_floor") : "";
  }

  // ------------------------------------------------------------------ pictures

  function tileFor(feedId) {
    var tile = tiles[feedId];
    if (tile) return tile;
    var video = el("video", { autoplay: true, playsinline: true });
    var label = el("span", { text: publishers[feedId] || "" });
    var figure = el("figure", { class: "thumb", "data-feed": String(feedId) }, [video, el("figcaption", {}, [label])]);
    tile = tiles[feedId] = { figure: figure, video: video, stream: new MediaStream(), label: label };
    video.srcObject = tile.stream;
    return tile;
  }

  function play(video) {
    var started = video.play();
    if (started && started.catch) {
      started.catch(function () { document.getElementById("enable-sound").classList.remove("d-none"); });
    }
  }

  function mainFeed() {
    if (!view) return null;
    if (view.spotlight) return view.spotlight;
    var host = view.others.filter(function (o) { return o.is_host; })[0];
    if (host && tiles[host.janus_id]) return host.janus_id;
    if (host && !view.me.is_host) return host.janus_id;
    var first = view.others.filter(function (o) { return tiles[o.janus_id]; })[0] || view.others[0];
    return first ? first.janus_id : null;
  }

  function nameOf(feedId) {
    if (grant && feedId === grant.janus_id) return t("you");
    var other = view && view.others.filter(function (o) { return o.janus_id === feedId; })[0];
    return (other && other.display) || publishers[feedId] || "";
  }

  function renderStage() {
    var stage = document.getElementById("stage");
    var thumbs = document.getElementById("thumbs");
    var main = mainFeed();
    var selfMain = grant && main === grant.janus_id;
    stage.setAttribute("data-main", main ? String(main) : "");
    Object.keys(tiles).forEach(function (key) {
      var tile = tiles[key];
      var feedId = Number(key);
      var isMain = feedId === main;
      tile.label.textContent = nameOf(feedId);
      var other = view && view.others.filter(function (o) { return o.janus_id === feedId; })[0];
      tile.figure.classList.toggle("speaking", !!(other && other.has_floor));
      tile.figure.classList.toggle("is-main", isMain);
      var parent = isMain ? stage : thumbs;
      if (tile.figure.parentNode !== parent) {
        parent.appendChild(tile.figure);
        play(tile.video);
      }
    });
    var selfTile = document.getElementById("self-tile");
    selfTile.classList.toggle("is-main", !!selfMain);
    var selfParent = selfMain ? stage : thumbs;
    if (selfTile.parentNode !== selfParent) {
      selfParent.insertBefore(selfTile, selfParent.firstChild);
      play(document.getElementById("self-video"));
    }
    var hasMain = selfMain || (main && tiles[main]);
    document.getElementById("stage-empty").classList.toggle("d-none", !!hasMain);
    document.getElementById("stage-label").textContent = hasMain ? t("main_picture") : "";
  }

  function dropFeed(feedId) {
    delete publishers[feedId];
    delete subscribed[feedId];
    var tile = tiles[feedId];
    if (tile) {
      tile.stream.getTracks().forEach(function (track) { tile.stream.removeTrack(track); });
      tile.figure.remove();
      delete tiles[feedId];
    }
    renderStage();
  }

  // ------------------------------------------------------------------ Janus

  function startJanus() {
    setConnection("secondary", t("connecting"));
    Janus.init({
      debug: false,
      callback: function () {
        janus = new Janus({
          server: grant.ws_url,
          token: grant.janus_token,
          iceServers: [],  // no public STUN server: the machines may be offline
          success: attachPublisher,
          error: function (error) {
            // The media server went away (a restart, a broken line): leave cleanly and come
            // back on our own, as a room PC without anyone at the keyboard must.
            if (finished) return;
            showError(t("media_failed", { reason: String(error) }));
            if (live) live.send({ action: "leave", reason: "lost" });
            finish("lost");
          },
          destroyed: function () { /* our own hang-up */ },
        });
      },
    });
  }

  function attachPublisher() {
    janus.attach({
      plugin: "janus.plugin.videoroom",
      success: function (handle) {
        publisher = handle;
        live.call("publisher", { session_id: janus.getSessionId(), handle_id: handle.getId() })
          .catch(function (error) { showError(L.errorText(error)); });
      },
      error: function (error) { showError(t("media_failed", { reason: String(error) })); },
      onmessage: function (message, jsep) {
        var event = message.videoroom;
        if (event === "joined") {
          publish();
          addPublishers(message.publishers);
        } else if (event === "event") {
          if (message.publishers) addPublishers(message.publishers);
          if (message.unpublished && message.unpublished !== "ok") dropFeed(message.unpublished);
          if (message.leaving && message.leaving !== "ok") dropFeed(message.leaving);
          if (message.error) showError(message.error);
        }
        if (jsep) publisher.handleRemoteJsep({ jsep: jsep });
      },
      onlocaltrack: function (track, on) {
        localStream.getTracks().forEach(function (old) {
          if (old.kind === track.kind && (!on || old.id !== track.id)) localStream.removeTrack(old);
        });
        if (on && !localStream.getTrackById(track.id)) localStream.addTrack(track);
        applyLocalAudio();
        var video = document.getElementById("self-video");
        if (video.srcObject !== localStream) video.srcObject = localStream;
        play(video);
      },
      webrtcState: function (up) {
        if (up) {
          setConnection("success", t("connected"));
          root.setAttribute("data-state", "connected");
          reportPublished();
          startQuality();
        } else if (!finished) {
          setConnection("warning", t("reconnecting"));
        }
      },
      onremotetrack: function () { /* a publisher receives nothing */ },
      oncleanup: function () { publishedSent = false; },
    });
  }

  function publish() {
    var chosen = devices();
    var tracks = [
      { type: "audio", capture: chosen.audio ? { deviceId: { ideal: chosen.audio } } : true, recv: false },
      { type: "video", capture: chosen.video ? { deviceId: { ideal: chosen.video } } : true, recv: false },
    ];
    publisher.createOffer({
      tracks: tracks,
      success: function (jsep) {
        publisher.send({ message: { request: "configure", audio: true, video: true }, jsep: jsep });
      },
      error: function (error) {
        showError(t("no_devices", { reason: (error && (error.message || error.name)) || String(error) }));
      },
    });
  }

  function reportPublished() {
    if (publishedSent || !publisher || !publisher.webrtcStuff.pc) return;
    var audio = "";
    var video = "";
    publisher.webrtcStuff.pc.getTransceivers().forEach(function (transceiver) {
      var track = transceiver.sender && transceiver.sender.track;
      if (!transceiver.mid || !track) return;
      if (track.kind === "audio" && !audio) audio = transceiver.mid;
      if (track.kind === "video" && !video) video = transceiver.mid;
    });
    publishedSent = true;
    live.call("published", { audio_mid: audio, video_mid: video })
      .catch(function (error) { publishedSent = false; showError(L.errorText(error)); });
  }

  function addPublishers(list) {
    (list || []).forEach(function (p) {
      if (grant && p.id === grant.janus_id) return;
      publishers[p.id] = p.display || "";
    });
    subscribeMissing();
  }

  function subscribeMissing() {
    if (subscribing || finished) return;
    var wanted = Object.keys(publishers).map(Number).filter(function (id) { return !subscribed[id]; });
    if (!wanted.length) return;
    subscribing = true;
    wanted.forEach(function (id) { subscribed[id] = true; });
    if (subscriber) {
      // Further pictures on the same handle: no PIN is needed for a `subscribe`.
      subscriber.send({ message: { request: "subscribe", streams: wanted.map(function (id) { return { feed: id }; }) } });
      return;
    }
    janus.attach({
      plugin: "janus.plugin.videoroom",
      success: function (handle) {
        subscriber = handle;
        live.call("subscriber", { session_id: janus.getSessionId(), handle_id: handle.getId(), feeds: wanted })
          .catch(function (error) {
            wanted.forEach(function (id) { delete subscribed[id]; });
            subscribing = false;
            subscriber.detach();
            subscriber = null;
            showError(L.errorText(error));
          });
      },
      error: function (error) { subscribing = false; showError(String(error)); },
      onmessage: onSubscriberMessage,
      onremotetrack: onRemoteTrack,
      oncleanup: function () { /* tiles go with their publishers */ },
    });
  }

  function onSubscriberMessage(message, jsep) {
    (message.streams || []).forEach(function (stream) {
      if (stream.feed_id) midFeed[stream.mid] = stream.feed_id;
      if (stream.feed_display && stream.feed_id) publishers[stream.feed_id] = publishers[stream.feed_id] || stream.feed_display;
    });
    if (message.error) {
      showError(message.error);
      subscribing = false;
    }
    if (jsep) {
      subscriber.createAnswer({
        jsep: jsep,
        tracks: [{ type: "data" }],  // audio and video are received as offered
        success: function (answer) {
          subscriber.send({ message: { request: "start" }, jsep: answer });
          subscribing = false;
          subscribeMissing();
        },
        error: function (error) { subscribing = false; showError(String(error)); },
      });
    } else if (message.videoroom === "updated" || message.videoroom === "attached") {
      subscribing = false;
      subscribeMissing();
    }
  }

  function onRemoteTrack(track, mid, on) {
    var feedId = midFeed[mid];
    if (!feedId) return;
    var tile = tileFor(feedId);
    tile.stream.getTracks().forEach(function (old) {
      if (old.kind === track.kind && (!on || old.id !== track.id)) tile.stream.removeTrack(old);
    });
    if (on && !tile.stream.getTrackById(track.id)) tile.stream.addTrack(track);
    if (!tile.stream.getTracks().length && !on) {
      tile.figure.remove();
      delete tiles[feedId];
    }
    renderStage();
    if (tiles[feedId]) play(tile.video);
  }

  // ------------------------------------------------------------------ quality (R18)

  function startQuality() {
    if (qualityTimer) return;
    qualityTimer = window.setInterval(measureQuality, QUALITY_EVERY_MS);
  }

  function measureQuality() {
    var pcs = [publisher, subscriber].map(function (h) { return h && h.webrtcStuff && h.webrtcStuff.pc; })
      .filter(Boolean);
    if (!pcs.length || !live) return;
    Promise.all(pcs.map(function (pc) { return pc.getStats(); })).then(function (reports) {
      var rtt = null;
      var sentBytes = 0;
      var received = 0;
      var lost = 0;
      var remoteLoss = null;
      reports.forEach(function (report) {
        report.forEach(function (s) {
          if (s.type === "candidate-pair" && s.nominated && s.currentRoundTripTime !== undefined) {
            rtt = Math.max(rtt || 0, s.currentRoundTripTime * 1000);
          } else if (s.type === "remote-inbound-rtp") {
            if (s.roundTripTime !== undefined && rtt === null) rtt = s.roundTripTime * 1000;
            if (s.fractionLost !== undefined) remoteLoss = Math.max(remoteLoss || 0, s.fractionLost * 100);
          } else if (s.type === "outbound-rtp" && !s.isRemote) {
            sentBytes += s.bytesSent || 0;
          } else if (s.type === "inbound-rtp" && !s.isRemote) {
            received += s.packetsReceived || 0;
            lost += Math.max(0, s.packetsLost || 0);
          }
        });
      });
      var now = performance.now();
      var loss = remoteLoss;
      var bitrate = null;
      if (lastStats) {
        var seconds = (now - lastStats.at) / 1000;
        if (seconds > 0) bitrate = Math.round(((sentBytes - lastStats.sent) * 8) / seconds / 1000);
        var got = received - lastStats.received;
        var missing = lost - lastStats.lost;
        if (got + missing > 0) loss = Math.max(loss || 0, (100 * missing) / (got + missing));
      }
      lastStats = { at: now, sent: sentBytes, received: received, lost: lost };
      var sample = {
        rtt_ms: rtt === null ? null : Math.round(rtt),
        loss_percent: loss === null ? null : Math.round(loss * 10) / 10,
        bitrate_kbps: bitrate === null ? null : Math.max(0, bitrate),
      };
      live.call("quality", sample).catch(function () { /* the next sample goes */ });
      showQuality(sample);
    });
  }

  function showQuality(sample) {
    var level = "good";
    if ((sample.rtt_ms || 0) >= 500 || (sample.loss_percent || 0) >= 8) level = "poor";
    else if ((sample.rtt_ms || 0) >= 250 || (sample.loss_percent || 0) >= 2) level = "fair";
    var badge = document.getElementById("quality-badge");
    badge.className = "badge text-bg-" + window.diemcauStatus.colour("quality", level);
    badge.setAttribute("data-quality", level);
    badge.querySelector("span").textContent = t("quality_" + level) +
      (sample.rtt_ms !== null ? " · " + sample.rtt_ms + " ms" : "");
  }

  // ------------------------------------------------------------------ the end

  function finish(reason) {
    if (finished) return;
    finished = true;
    // "left" that this page did not ask for: the endpoint joined again from elsewhere.
    if (reason === "left" && !leaving) reason = "replaced";
    if (qualityTimer) window.clearInterval(qualityTimer);
    if (live) live.stop();
    if (janus) { try { janus.destroy({ cleanupHandles: true }); } catch (e) { /* gone */ } }
    localStream.getTracks().forEach(function (track) { track.stop(); });
    var texts = { kicked: "kicked", ended: "ended", lost: "lost", left: "left", replaced: "replaced" };
    document.getElementById("ended-text").textContent = t(texts[reason] || "ended");
    document.getElementById("room-ended").classList.remove("d-none");
    document.getElementById("join-again").classList.toggle("d-none", reason === "ended");
    root.setAttribute("data-state", "closed");
    root.setAttribute("data-closed-reason", reason);
    setConnection("secondary", t(texts[reason] || "ended"));
    ["hand-button", "leave-button", "mic-button", "yield-button"].forEach(function (id) { document.getElementById(id).disabled = true; });
    document.getElementById("stage").classList.add("is-closed");
    if (reason === "lost") rejoinLater();
  }

  // A lost connection joins again by itself, waiting longer after each failed try (5 s,
  // 10 s … 60 s) so a node that is restarting is not flooded; kicked, ended and replaced
  // connections never come back on their own.
  var REJOIN_KEY = "diemcau-rejoin-delay";

  function rejoinLater() {
    var delay = Number(window.sessionStorage.getItem(REJOIN_KEY) || 5);
    window.sessionStorage.setItem(REJOIN_KEY, String(Math.min(delay * 2, 60)));
    var left = delay;
    var text = document.getElementById("ended-text");
    var base = text.textContent;
    var tick = function () {
      text.textContent = base + " " + t("rejoining", { n: left });
      if (left <= 0) { window.location.reload(); return; }
      left -= 1;
      window.setTimeout(tick, 1000);
    };
    tick();
  }

  // ------------------------------------------------------------------ buttons

  document.getElementById("hand-button").addEventListener("click", function () {
    if (!view || !live) return;
    var action = view.me.hand_raised_at ? "lower_hand" : "raise_hand";
    live.call(action).catch(function (error) { showError(L.errorText(error)); });
  });

  document.getElementById("mic-button").addEventListener("click", function (event) {
    if (!view || !live) return;
    var button = event.currentTarget;
    button.disabled = true;
    live.call(view.me.audio_muted ? "unmute_self" : "mute_self").then(function () {
      showError("");
    }, function (error) { showError(L.errorText(error)); }).finally(function () { button.disabled = false; });
  });

  document.getElementById("yield-button").addEventListener("click", function (event) {
    if (!view || !live) return;
    var button = event.currentTarget;
    button.disabled = true;
    live.call("yield_floor").then(function () {
      showError("");
    }, function (error) { showError(L.errorText(error)); }).finally(function () { button.disabled = false; });
  });

  document.getElementById("attendees-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("attendees-input");
    live.call("attendees", { count: Number(input.value) }).then(function () {
      input.classList.add("is-valid");
      input.title = t("attendees_sent");
      showError("");
    }).catch(function (error) { showError(L.errorText(error)); });
  });

  document.getElementById("leave-button").addEventListener("click", function () {
    leaving = true;
    var done = function () { finish("left"); };
    if (live) live.call("leave").then(done, done); else done();
  });

  document.getElementById("enable-sound").addEventListener("click", function (event) {
    document.querySelectorAll("#live-room video").forEach(function (video) { video.play(); });
    event.currentTarget.classList.add("d-none");
  });

  window.addEventListener("pagehide", function () {
    if (live && !finished) live.send({ action: "leave" });
  });

  // ------------------------------------------------------------------ start

  obtainGrant().then(function (given) {
    if (!given || !given.ok) {
      setConnection("danger", t("refused"));
      showError(L.errorText(given));
      document.getElementById("hand-button").disabled = true;
      // While rejoining, a media server still restarting (409) is tried again later; a
      // refusal (403, 422) is final.
      if (window.sessionStorage.getItem(REJOIN_KEY) && given && given.status === 409) {
        finish("lost");
      }
      return;
    }
    window.sessionStorage.removeItem(REJOIN_KEY);
    grant = given;
    document.getElementById("me-display").textContent = given.display || "";
    connectBackend();
  }).catch(function () {
    showError(t("network_error"));
  });
})();
