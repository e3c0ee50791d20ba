#!/usr/bin/env bash
# Serve diemcau on one machine: this machine's Janus (the MCU node) with its SIP plugin, the
# node's mixer agent (SIP terminals and the upstream link), the Huey worker (notifications,
# reply deadlines, rooms, periodic jobs) and uvicorn. When uvicorn stops (Ctrl+C, SIGTERM to
# this script, or a crash), the others are stopped too.
#   Usage: scripts/run.sh   (HOST, PORT, BIN, DIEMCAU_HUEY_WORKERS and the DIEMCAU_JANUS_*,
#   DIEMCAU_SIP* settings may be set; DIEMCAU_JANUS=0 serves without media, DIEMCAU_SIP=0
#   without SIP terminals)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
JANUS_BINARY=${DIEMCAU_JANUS_BINARY:-/usr/bin/janus}

# DEBUG is never on in a site served to the network (R22): Django's debug pages show the
# settings and the code. Only a loopback HOST keeps the developer's default.
case "$HOST" in
  127.*|localhost|::1|"[::1]") ;;
  *)
    case "${DIEMCAU_DEBUG:-}" in
      ""|0|false|no|off) ;;
      *) echo "diemcau: refusing DIEMCAU_DEBUG=$DIEMCAU_DEBUG on HOST=$HOST (a network" \
              "address); debug pages are for 127.0.0.1 only" >&2
         exit 2 ;;
    esac
    export DIEMCAU_DEBUG=0
    if [ -z "${DIEMCAU_ALLOWED_HOSTS:-}" ]; then
      # This machine's names and addresses, so that it answers on the local network.
      names="$(hostname 2>/dev/null || true) $(hostname -f 2>/dev/null || true)"
      names="$names $(hostname -I 2>/dev/null || true) 127.0.0.1 localhost"
      DIEMCAU_ALLOWED_HOSTS=$(echo $names | tr ' ' '\n' | awk 'NF && !seen[$0]++ { print ($0 ~ /:/) ? "[" $0 "]" : $0 }' | paste -sd, -)
      export DIEMCAU_ALLOWED_HOSTS
    fi
    if [ -z "${DIEMCAU_HTTPS:-}" ]; then
      # Plain HTTP straight from uvicorn: cookies cannot be TLS-only. In production a TLS
      # reverse proxy goes in front (README), with DIEMCAU_HTTPS=1 (the default then).
      export DIEMCAU_HTTPS=0
      echo "diemcau: serving plain HTTP on $HOST with DEBUG off; put a TLS reverse proxy" \
           "in front for production (README), and browsers allow cameras only over HTTPS" >&2
    fi
    echo "diemcau: DEBUG off; answering for $DIEMCAU_ALLOWED_HOSTS" ;;
esac

janus=""
mixer=""
worker=""
server=""
stop_all() {
  trap - EXIT INT TERM
  # All shut down gracefully: uvicorn, the mixer agent and Janus on SIGTERM, Huey on SIGINT
  # (it finishes the tasks it is running; an interrupted delivery is retried anyway).
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -TERM "$server" 2>/dev/null || true; fi
  if [ -n "$worker" ] && kill -0 "$worker" 2>/dev/null; then kill -INT "$worker" 2>/dev/null || true; fi
  if [ -n "$mixer" ] && kill -0 "$mixer" 2>/dev/null; then
    kill -TERM "$mixer" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$mixer" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$mixer" 2>/dev/null || true
  fi
  if [ -n "$janus" ] && janus_running; then
    kill -TERM "$janus" 2>/dev/null || true
    # Janus can hang while shutting down: it gets 10 s, then SIGKILL (its rooms are in
    # memory only and come back by reconcile anyway).
    for _ in $(seq 100); do janus_running || break; sleep 0.1; done
    if janus_running; then
      echo "diemcau: Janus did not stop within 10 s; killing it" >&2
      kill -KILL "$janus" 2>/dev/null || true
    fi
  fi
  wait 2>/dev/null || true
}
# Whether Janus is still running: an exited child stays a zombie until `wait`, and kill -0
# cannot tell the two apart.
janus_running() {
  local state
  state=$(cut -d' ' -f3 "/proc/$janus/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_janus() {
  # `janus run` writes the config folder under var/janus (never /etc/janus), records this
  # Janus as the MCU node DIEMCAU_JANUS_NODE_NAME (default mcu-1, the demo's node), prints
  # its URLs, then runs Janus.
  # --rewrite: settings changed since the last run take effect; the secrets are kept.
  # --free-ports: a second checkout running at the same time gets the next free ports.
  # --debug-level 3: warnings and errors only, so the terminal stays readable.
  # --supervised: Janus leaves the terminal's process group, so a Ctrl+C does not reach it
  #   besides our own SIGTERM (two signals at once hang Janus), and it stops if we die.
  # --keep-running: the command stays as Janus's parent and starts a Janus that dies again
  #   after 1 s, without Python and Django starting again (seconds on a busy machine); our
  #   SIGTERM reaches Janus through it. $janus is then the command's pid.
  "$BIN/diemcau" janus run --register --rewrite --free-ports --debug-level 3 --supervised \
    --keep-running </dev/null &
  janus=$!
}

# The node's mixer agent (R24): it waits for `janus run --register` to record the node with
# its SIP address, then calls and mixes the SIP terminals the consoles ask for.
start_mixer() {
  "$BIN/diemcau" mixer run --wait 60 </dev/null &
  mixer=$!
}
mixer_missing() {
  "$BIN/python" -c 'import sys; from diemcau.mixer.gst import unavailable_reason as r; m = r(); print(m); sys.exit(1 if m else 0)'
}

if [ "${DIEMCAU_JANUS:-1}" = "0" ]; then
  echo "diemcau: DIEMCAU_JANUS=0: serving without media"
elif [ -x "$JANUS_BINARY" ]; then
  start_janus
  if [ "${DIEMCAU_SIP:-1}" = "0" ]; then
    echo "diemcau: DIEMCAU_SIP=0: no SIP terminals (browsers only)"
  elif reason=$(mixer_missing); then
    start_mixer
    # What a hardware terminal dials for each open meeting (the demo's among them), once
    # Janus has registered the node with its SIP address.
    ( "$BIN/diemcau" mixer addresses --wait 60 2>/dev/null \
        | sed 's/^/diemcau: a SIP terminal dials /' ) &
  else
    echo "diemcau: no SIP terminals: the mixer cannot run here ($reason)" >&2
  fi
else
  echo "diemcau: Janus is not installed ($JANUS_BINARY): serving without media," \
       "meetings get no rooms (install: apt-get install janus)" >&2
fi
# Links in e-mails and join links point where this server answers, unless the public address
# (a TLS reverse proxy in production, README) was set.
if [ -z "${DIEMCAU_PUBLIC_URL:-}${DIEMCAU_BASE_URL:-}" ]; then
  case "$HOST" in
    0.0.0.0|::|"[::]") export DIEMCAU_PUBLIC_URL="http://$(hostname -f 2>/dev/null || hostname):$PORT" ;;
    *:*) export DIEMCAU_PUBLIC_URL="http://[$HOST]:$PORT" ;;
    *) export DIEMCAU_PUBLIC_URL="http://$HOST:$PORT" ;;
  esac
fi
"$BIN/diemcau" run_huey --workers "${DIEMCAU_HUEY_WORKERS:-2}" --flush-locks &
worker=$!
"$BIN/uvicorn" diemcau.asgi:application --host "$HOST" --port "$PORT" &
server=$!
# Until uvicorn exits (a signal ends the loop at once: the traps stop all), Janus is kept
# running: one that dies (a crash, a kill) is started again after 1 s, as a service manager
# would; the worker's node watch sees it answer within a second, recreates its rooms and
# tells the participants' pages to join again.
while kill -0 "$server" 2>/dev/null; do
  if [ -n "$mixer" ] && ! kill -0 "$mixer" 2>/dev/null; then
    wait "$mixer" 2>/dev/null || true
    echo "diemcau: the mixer agent stopped; starting it again in 3 s" >&2
    sleep 3 & wait $!
    start_mixer
  fi
  if [ -n "$janus" ] && ! janus_running; then
    wait "$janus" 2>/dev/null || true
    echo "diemcau: Janus stopped; starting it again in 1 s" >&2
    sleep 1 & wait $!
    start_janus
  fi
  sleep 1 & wait $!
done
wait "$server"
