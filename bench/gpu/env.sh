# Sourced at the start of every GPU-machine run (bench/gpu/run.sh does it): unpacks the Node, node_modules and
# Vulkan loader that bench/gpu/pack.sh put in .gpu/, and points Dawn at NVIDIA's Vulkan driver.
for f in .gpu/*.deb; do dpkg -x "$f" / ; done
ldconfig
unxz_to() { if command -v xz >/dev/null; then xz -dc "$1"; else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer, 1<<20)' "$1"; fi; }
mkdir -p /tmp/gpunode
[ -x /tmp/gpunode/node ] || { unxz_to .gpu/node.xz > /tmp/gpunode/node && chmod +x /tmp/gpunode/node; }
export PATH=/tmp/gpunode:$PATH
[ -d node_modules ] || unxz_to .gpu/node_modules.tar.xz | tar -xf -
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd
node --version
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
true
