// A progress line for long work: rewritten in place on a terminal, printed every `every` updates
// (and at the end) when stdout is a file or pipe, so logs stay readable. Shows ETA from the mean rate.

export class Progress {
  private start = Date.now();
  private lastPrint = 0;
  /** `out`: where lines go (stderr when stdout carries machine-readable output). */
  constructor(private readonly total: number, private readonly label = '', private readonly every = 10,
    private readonly out: NodeJS.WriteStream = process.stdout) {}

  update(done: number, fields: Record<string, string | number> = {}): void {
    const tty = this.out.isTTY;
    const final = done >= this.total;
    if (!tty && !final && done - this.lastPrint < this.every) return;
    this.lastPrint = done;
    const elapsed = (Date.now() - this.start) / 1000;
    const eta = done > 0 ? (elapsed / done) * (this.total - done) : NaN;
    const parts = [`${this.label}${done}/${this.total}`];
    for (const [k, v] of Object.entries(fields)) parts.push(`${k} ${typeof v === 'number' ? fmtNum(v) : v}`);
    parts.push(final ? `done in ${fmtTime(elapsed)}` : `ETA ${fmtTime(eta)}`);
    const line = parts.join(' | ');
    if (tty) this.out.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
    else this.out.write(line + '\n');
  }
}

export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(4);
}

export function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60), sec = Math.floor(s % 60);
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : `${m}:${String(sec).padStart(2, '0')}`;
}
