#!/usr/bin/env bash
# Run on the host of an MCU node that is not the archive's machine (cron, every minute):
# hands each finished meeting's .mjr files to the archive (docs/archive.md).
#
#   push-recordings.sh RECORDINGS_DIR NODE_NAME ARCHIVE_HOST:INCOMING_DIR [QUIET [KEEP]]
#
# A meeting's folder is finished when no file in it changed for QUIET seconds (default 60).
# It is copied with rsync over SSH to INCOMING_DIR/NODE_NAME/<meeting>/, then a `.complete`
# mark is written there: the archive's worker takes a pushed folder only with that mark.
# The node's copy is kept KEEP days (default 7) after the push.
set -euo pipefail
src=${1:?recordings folder}; node=${2:?node name}; target=${3:?host:incoming folder}
quiet=${4:-60}; keep=${5:-7}
host=${target%%:*}; dir=${target#*:}
now=$(date +%s)
for folder in "$src"/*/; do
  [ -d "$folder" ] || continue
  meeting=$(basename "$folder")
  [ -e "$folder/.pushed" ] && continue
  newest=$(find "$folder" -name '*.mjr' -printf '%T@\n' | sort -n | tail -1 | cut -d. -f1)
  [ -n "$newest" ] || continue
  [ $((now - newest)) -ge "$quiet" ] || continue
  ssh "$host" mkdir -p "$dir/$node/$meeting"
  rsync -a --partial "$folder" "$host:$dir/$node/$meeting/"
  ssh "$host" touch "$dir/$node/$meeting/.complete"
  touch "$folder/.pushed"
done
find "$src" -mindepth 2 -maxdepth 2 -name .pushed -mtime +"$keep" -printf '%h\n' |
  while read -r done_folder; do rm -rf -- "$done_folder"; done
