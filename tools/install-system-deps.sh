#!/usr/bin/env bash
# System libraries that PyQt6 and OpenCV need on a bare Debian machine (and Xvfb for a real window).
# Installs only what is missing; needs root (or sudo) and apt-get. Elsewhere it says what to install.
set -euo pipefail
packages=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
          libxcb-shape0 libxcb-xinerama0 libfontconfig1 libdbus-1-3 libglib2.0-0 xvfb xauth
          fonts-dejavu-core poppler-utils
          fonts-droid-fallback fonts-symbola   # the PDF report's CJK and emoji glyphs (embedded)
          libpulse0   # QtMultimedia (alarm tones) loads libpulse even where no sound server runs
          libportaudio2   # sounddevice (the cot microphone) loads PortAudio on import
          ffmpeg   # tests make clips with ffmpeg (variable frame rate, sound tracks, damaged files)
          systemd)    # systemd-analyze checks the shipped user unit (packaging/linux/painmon.service)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "install these system packages with your package manager: ${missing[*]}" >&2
  exit 0
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
