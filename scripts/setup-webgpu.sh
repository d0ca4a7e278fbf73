#!/usr/bin/env bash
# Installs a WebGPU-capable Vulkan driver for Dawn on Debian bookworm: Mesa's software rasteriser
# (lavapipe) from bookworm-backports, since bookworm's own Mesa 22 is too old for Dawn.
# Safe to re-run. Needs root (or sudo). Afterwards set XDG_RUNTIME_DIR (this script prints how).
set -euo pipefail
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "adding the bookworm-backports suite"
  $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
echo "installed: $(dpkg-query -W -f='${Package} ${Version}\n' mesa-vulkan-drivers)"
echo "WebGPU needs XDG_RUNTIME_DIR; e.g.  export XDG_RUNTIME_DIR=\${XDG_RUNTIME_DIR:-/tmp/xdg-\$(id -u)}"
