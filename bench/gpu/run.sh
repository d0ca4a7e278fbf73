#!/usr/bin/env bash
# Everything measured on the GPU machine, in one call: `bash bench/gpu/pack.sh` here first, then a device run
# with carry [".gpu"] of:   bash bench/gpu/run.sh "$OUT" [stage …]
# Each stage has its own timeout and writes into $OUT as it goes (a stage that hangs loses nothing); the last
# stage writes $OUT/<gpu>-<date>-summary.json with our tokens/s against PyTorch's (ratioVsTorchFp32 = ours ÷
# PyTorch fp32 eager, full logits, as the issue defines it). Commit the results under bench/results/.
# Stages (default: all, in this order of importance; about 9 minutes in all, each stage bounded by its
# timeout; if the call runs out of time, the logs that came back still make the summary here:
# node build/bench/gpu/summarize.js <the returned folder>):
#   adapter      what Dawn sees (features, limits, subgroup-matrix configs)
#   step         our ELECTRA-Small step, batch 128 × 128, vocab 8192, with a per-kernel GPU profile
#   torch        the PyTorch peer on the same shapes: fp32 (full logits and masked-rows LM head), TF32, bf16
#   matmul       our f32 matmul 1024/2048/4096 against PyTorch fp32/TF32/bf16
#   tests        the test suite with WebGPU required (every kernel against its CPU reference, on this GPU)
#   step30522    ours and PyTorch fp32 at vocab 30522
#   peers        TF.js and jax-js in the same process: matmul-1024, layer-x12-step
#   f16          mixed precision: the f16 and tensor-core kernel tests (Dawn's f16 toggles on), f16 matmul
#                1024/2048/4096, the step with --precision f16
#   summary      the summary file
# Not in the default list (a second call, when the device time allows):
#   lab          the tile sweep of bench/matmul.bench.ts (variant 8) on the square and ELECTRA shapes
set -uo pipefail
OUT=${1:-bench/results/gpu-run}; shift || true
STAGES=${*:-adapter step torch matmul f16 tests step30522 peers summary}
mkdir -p "$OUT"
source .gpu/env.sh > "$OUT/env.txt" 2>&1
export REQUIRE_WEBGPU=1
npm run -s build > "$OUT/build.log" 2>&1 || { echo "build failed"; tail -20 "$OUT/build.log"; exit 1; }
# stage NAME SECONDS COMMAND…: runs with a timeout, output to $OUT/NAME.log, exit status to $OUT/stages.txt
stage() {
  local name=$1 secs=$2; shift 2
  local t0=$SECONDS
  timeout "$secs" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  echo "$name rc=$rc $((SECONDS - t0)) s" >> "$OUT/stages.txt"
  echo "== $name rc=$rc ($((SECONDS - t0)) s)"; tail -3 "$OUT/$name.log"
}
for s in $STAGES; do
  case $s in
    adapter) stage adapter 30 node build/bench/gpu/adapter.js ;;
    step) stage step-ours-v8192 150 node build/bench/gpu/step.js --batch 128 --vocab 8192 --steps 20 --profile --json "$OUT/step-ours-v8192.json" ;;
    torch)
      stage step-torch-v8192-fp32 60 python3 bench/peers/torch_step.py --preset small --batch 128 --vocab 8192 --precision fp32 --json "$OUT/step-torch-v8192-fp32.json"
      stage step-torch-v8192-fp32-gather 60 python3 bench/peers/torch_step.py --preset small --batch 128 --vocab 8192 --precision fp32 --gather --json "$OUT/step-torch-v8192-fp32-gather.json"
      stage step-torch-v8192-tf32 45 python3 bench/peers/torch_step.py --preset small --batch 128 --vocab 8192 --precision tf32 --json "$OUT/step-torch-v8192-tf32.json"
      stage step-torch-v8192-bf16 45 python3 bench/peers/torch_step.py --preset small --batch 128 --vocab 8192 --precision bf16 --json "$OUT/step-torch-v8192-bf16.json" ;;
    matmul)
      stage matmul-ours 60 node build/bench/gpu/matmul.js 1024 2048 4096
      stage matmul-torch 45 python3 bench/peers/torch_matmul.py 1024 2048 4096 ;;
    tests) stage tests 180 node scripts/test.mjs ;;
    step30522)
      stage step-ours-v30522 90 node build/bench/gpu/step.js --batch 128 --vocab 30522 --steps 10 --json "$OUT/step-ours-v30522.json"
      stage step-torch-v30522-fp32 60 python3 bench/peers/torch_step.py --preset small --batch 128 --vocab 30522 --precision fp32 --json "$OUT/step-torch-v30522-fp32.json" ;;
    peers)
      stage peers-matmul 60 node build/bench/run.js --peers --filter matmul-1024 --reps 5 --passes 3 --json "$OUT/peers-matmul-1024.json"
      stage peers-layer 90 node build/bench/run.js --peers --filter layer-x12-step --reps 3 --passes 3 --json "$OUT/peers-layer-x12.json" ;;
    f16)
      stage tests-f16 90 env DAWN_FLAGS='enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia' node scripts/test.mjs matmul-f16
      stage matmul-ours-f16 60 node build/bench/gpu/matmul.js --f16 1024 2048 4096
      stage step-ours-v8192-f16 120 node build/bench/gpu/step.js --batch 128 --vocab 8192 --steps 20 --precision f16 --json "$OUT/step-ours-v8192-f16.json" ;;
    summary) stage summary 30 node build/bench/gpu/summarize.js "$OUT" ;;
    lab) stage matmul-lab 240 node build/bench/matmul.bench.js --variants 8 --shapes all --reps 5 ;;
    *) echo "unknown stage $s"; exit 2 ;;
  esac
done
