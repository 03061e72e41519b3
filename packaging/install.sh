#!/usr/bin/env bash
# Install deskscribe into ./.venv on Debian/Ubuntu.
#   packaging/install.sh         the app and its default offline models (SmolLM2, Tesseract OCR)
#   packaging/install.sh --dev   also the test tools and the virtual X desktop the tests use
# GPU: run with CMAKE_ARGS="-DGGML_CUDA=on" (NVIDIA) to build llama.cpp with offload.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1

runtime_pkgs=(python3-venv python3-dev gcc g++ make linux-libc-dev
  libegl1 libgl1 libglib2.0-0 libdbus-1-3 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
  libxcb-image0 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xfixes0 libxcb-xkb1 fonts-dejavu-core
  tesseract-ocr-eng  # OCR's English data (models/ocr_engine; tesserocr's wheel brings the library)
  at-spi2-core dbus-x11)  # the accessibility bus: the element under each click (capture/accessibility)
dev_pkgs=(xvfb xauth x11-utils xdotool xterm openbox trayer mousepad x11-apps dbus-daemon strace)

pkgs=("${runtime_pkgs[@]}")
[ "$dev" = 1 ] && pkgs+=("${dev_pkgs[@]}")

if command -v apt-get >/dev/null 2>&1; then
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "installing system packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  echo "note: not a Debian system; install the equivalents of: ${pkgs[*]}" >&2
fi

py="${PYTHON:-}"
if [ -z "$py" ]; then
  for cand in python3.12 python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" 2>/dev/null -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 13)))'; then
      py="$cand"; break
    fi
  done
fi
[ -n "$py" ] || { echo "deskscribe needs Python 3.11 or 3.12 (set PYTHON=/path/to/python)" >&2; exit 1; }

[ -x .venv/bin/python ] || "$py" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "$dev" = 1 ]; then
  .venv/bin/python -m pip install -q -e ".[test]" --config-settings editable_mode=strict
else
  .venv/bin/python -m pip install -q .
fi
echo "deskscribe installed in $(pwd)/.venv — run .venv/bin/deskscribe --help"
