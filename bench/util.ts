// Shared bench plumbing: argument parsing, the timing method and the JSON record shape.
// Timing: wall clock around (dispatch → result read back or device sync) per rep, after warm-up; median.

export interface BenchRecord {
  name: string; device: string; ms: number; gflops?: number; gbps?: number; tokensPerSec?: number; spread?: number;
  /**
   * With --peers: median over passes of (the fastest peer's ms in that pass) / our ms, passes alternating ours,
   * then each peer; and its range. With one peer (older records: TF.js only) that peer's ratio.
   */
  peerRatio?: number; peerRatioRange?: [number, number];
  /** With --peers: the same per peer record device ('tfjs-webgpu', 'jax-webgpu'). */
  peerRatios?: Record<string, { ratio: number; range: [number, number] }>;
}

export interface BenchArgs { json?: string; filter: string; reps: number; warmup: number; device: 'webgpu' | 'cpu'; peers: boolean; passes: number }

export function parseArgs(argv: string[]): BenchArgs {
  const a: BenchArgs = { filter: '', reps: 5, warmup: 2, device: 'webgpu', peers: false, passes: 1 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--json') a.json = argv[++i];
    else if (v === '--filter') a.filter = argv[++i];
    else if (v === '--reps') a.reps = Number(argv[++i]);
    else if (v === '--warmup') a.warmup = Number(argv[++i]);
    else if (v === '--passes') a.passes = Number(argv[++i]);
    else if (v === '--device') a.device = argv[++i] as BenchArgs['device'];
    else if (v === '--peers') a.peers = true;
    else throw new Error(`bench: unknown argument ${v} (options: --json FILE --filter S --reps N --warmup N --passes N --device webgpu|cpu --peers)`);
  }
  return a;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Median ms of `reps` timed calls after `warmup` untimed ones; `run` must end with a read back or sync.
 * `cpuMs`: median CPU time of the whole process per call (lavapipe's worker threads included): on a
 * shared machine it moves far less with other load than wall time, so kernel variants compare by it.
 */
export async function timeIt(run: () => Promise<unknown>, reps: number, warmup: number): Promise<{ ms: number; all: number[]; cpuMs: number }> {
  for (let i = 0; i < warmup; i++) await run();
  const all: number[] = [], cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await run();
    all.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { ms: median(all), all, cpuMs: median(cpu) };
}

export function printTable(rows: BenchRecord[]): void {
  const fmt = (x: number | undefined, d = 2) => (x === undefined ? '' : x.toFixed(d));
  const w = Math.max(24, ...rows.map((r) => r.name.length));
  console.log(`${'name'.padEnd(w)}  ${'device'.padEnd(12)}  ${'ms'.padStart(9)}  ${'GFLOP/s'.padStart(8)}  ${'GB/s'.padStart(7)}  ${'tokens/s'.padStart(9)}  ${'spread'.padStart(6)}`);
  for (const r of rows) {
    console.log(`${r.name.padEnd(w)}  ${r.device.padEnd(12)}  ${fmt(r.ms).padStart(9)}  ${fmt(r.gflops).padStart(8)}  ${fmt(r.gbps).padStart(7)}  ${fmt(r.tokensPerSec, 0).padStart(9)}  ${fmt(r.spread).padStart(6)}`);
  }
}
