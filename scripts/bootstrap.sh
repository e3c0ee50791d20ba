#!/usr/bin/env bash
# Create .venv and install the pinned dependencies. On a fresh Debian machine, install the
# few system packages that Python needs first (as root, or through sudo).
#   scripts/bootstrap.sh           the Python environment
#   scripts/bootstrap.sh --janus   Debian's janus when it is missing (`make run` asks each
#                                  time); on failure it says so and exits 0: the site then
#                                  runs without media
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# apt_install PACKAGE…: install through apt-get; returns 1 (with the reason on stderr) when
# this machine has no apt-get or we are neither root nor able to use sudo.
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "diemcau: please install $* (no apt-get on this machine)" >&2; return 1
  fi
  if [ -n "$SUDO" ] && ! command -v sudo >/dev/null 2>&1; then
    echo "diemcau: please install $* as root (not root, and no sudo)" >&2; return 1
  fi
  echo "diemcau: installing system packages: $*"
  $SUDO apt-get update -q || return 1
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" || return 1
}

install_janus() {
  local binary=${DIEMCAU_JANUS_BINARY:-/usr/bin/janus}
  [ -x "$binary" ] && return 0
  # Debian's janus.service runs /etc/janus: every address, demo rooms, demo ports. diemcau
  # only runs Janus on its own generated folder (R22), so the service is masked before the
  # package could start it (`systemctl unmask janus` gives it back).
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl mask janus.service >/dev/null 2>&1 || true
  fi
  if apt_install janus && [ -x "$binary" ]; then
    return 0
  fi
  echo "diemcau: Janus could not be installed; the site runs without media (meetings get" \
       "no rooms). Install it later with: sudo apt-get install janus" >&2
}

# The mixer of SIP terminals (R24): GStreamer's plugins and typelibs from Debian, and
# Kamailio, the SIP front terminals dial. Without them the site runs with browsers only.
install_mixer() {
  [ "${DIEMCAU_SIP:-1}" = "0" ] && return 0
  local missing=()
  for pkg in gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
             gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-nice \
             gir1.2-gst-plugins-bad-1.0 kamailio; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  # Debian's kamailio.service would take port 5060 on every address with its sample config;
  # the mixer agent runs Kamailio on the node's own generated config instead.
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl mask kamailio.service >/dev/null 2>&1 || true
  fi
  apt_install "${missing[@]}" && return 0
  echo "diemcau: GStreamer could not be installed; no SIP terminals (browsers only)." \
       "Install it later with: sudo apt-get install ${missing[*]}" >&2
}

if [ "${1:-}" = "--janus" ]; then
  install_janus
  install_mixer
  exit 0
fi

need_apt=()
command -v "$PYTHON" >/dev/null 2>&1 || need_apt+=(python3)
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then need_apt+=(python3-venv); fi
command -v msgfmt >/dev/null 2>&1 || need_apt+=(gettext)
# WeasyPrint (the printable invitation and the reports' PDF) draws its text with Pango, in
# fonts with Vietnamese letters: DejaVu for the invitation, Liberation Serif 2 (Times New
# Roman's metrics) for the reports.
ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || need_apt+=(libpango-1.0-0 libpangoft2-1.0-0)
[ -d /usr/share/fonts/truetype/dejavu ] || need_apt+=(fonts-dejavu-core)
[ -f /usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf ] || need_apt+=(fonts-liberation2)
# PyGObject (the mixer's GStreamer binding) is built by pip against GLib and cairo.
if ! pkg-config --exists gobject-introspection-1.0 cairo 2>/dev/null; then
  need_apt+=(pkg-config gcc libgirepository1.0-dev libcairo2-dev)
  "$PYTHON" -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    || need_apt+=(python3-dev)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  apt_install "${need_apt[@]}" || exit 1
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r requirements.lock
.venv/bin/python -m pip install -q --no-deps -e .
echo "diemcau: Python environment ready in .venv"
