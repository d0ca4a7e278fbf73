# The PyTorch peer of bench/gpu/matmul.ts (run on the GPU machine by bench/gpu/run.sh).
"""PyTorch f32 matmul on the GPU at square sizes: fp32 (no TF32), TF32, bf16. JSON lines {engine,size,ms,gflops}."""
import json, sys, torch
sizes = [int(s) for s in sys.argv[1:]] or [1024, 2048, 4096, 8192]
for mode in ('fp32', 'tf32', 'bf16'):
    torch.backends.cuda.matmul.allow_tf32 = mode == 'tf32'
    for n in sizes:
        dt = torch.bfloat16 if mode == 'bf16' else torch.float32
        a = torch.randn(n, n, device='cuda', dtype=dt); b = torch.randn(n, n, device='cuda', dtype=dt)
        for _ in range(3): a @ b
        torch.cuda.synchronize()
        reps = 50 if n <= 4096 else 10
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        ts = []
        for _ in range(3):
            s.record()
            for _ in range(reps): a @ b
            e.record(); torch.cuda.synchronize(); ts.append(s.elapsed_time(e) / reps)
        ms = sorted(ts)[1]
        print(json.dumps(dict(engine=f'torch-{mode}', size=n, ms=ms, gflops=2 * n ** 3 / ms / 1e6)), flush=True)
