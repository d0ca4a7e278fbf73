#!/usr/bin/env bash
# Installs Debian's Chromium for the real-browser tests (test/browser-chromium.test.ts, `node scripts/test.mjs browser`):
# playwright-core (an npm dev dependency) drives /usr/bin/chromium; no browser is downloaded by npm. Headless
# Chromium gets WebGPU from its own SwiftShader adapter (--enable-unsafe-webgpu), so no GPU or driver is needed.
# Safe to re-run. Needs root (or sudo).
set -euo pipefail
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "install ok installed"; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium >/dev/null
fi
echo "installed: $(dpkg-query -W -f='${Package} ${Version}\n' chromium)"
