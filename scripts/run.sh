#!/usr/bin/env bash
# Serve diemcau on one machine: the Huey worker (notifications, reply deadlines, periodic jobs)
# and uvicorn. When uvicorn stops (Ctrl+C, SIGTERM to this script, or a crash), the worker is
# stopped too.   Usage: scripts/run.sh   (HOST, PORT, BIN and DIEMCAU_HUEY_WORKERS may be set)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}

worker=""
server=""
stop_all() {
  trap - EXIT INT TERM
  # uvicorn and Huey both shut down gracefully: uvicorn on SIGTERM, Huey on SIGINT (it
  # finishes the tasks it is running; an interrupted delivery is retried anyway).
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -TERM "$server" 2>/dev/null || true; fi
  if [ -n "$worker" ] && kill -0 "$worker" 2>/dev/null; then kill -INT "$worker" 2>/dev/null || true; fi
  wait 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$BIN/diemcau" run_huey --workers "${DIEMCAU_HUEY_WORKERS:-2}" --flush-locks &
worker=$!
"$BIN/uvicorn" diemcau.asgi:application --host "$HOST" --port "$PORT" &
server=$!
# Returns when uvicorn exits, or at once when a signal arrives (then the traps stop both).
wait "$server"
