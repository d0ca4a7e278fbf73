// Seeded pseudo-random numbers for the data pipeline (example building, shuffling): small, fast, and the same
// sequence on every platform. Not for cryptography.

/** A PRNG (sfc32) seeded from any 32-bit integers; `state` can be saved and restored. */
export class Rng {
  private a: number; private b: number; private c: number; private d: number;
  constructor(...seed: number[]) {
    // splitmix32 spreads the seed words over the 128-bit state.
    let h = 0x9e3779b9;
    const mix = () => {
      h = (h + 0x9e3779b9) | 0;
      let z = h;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    for (const s of seed) h = (h ^ Math.imul(s | 0, 0x27d4eb2d)) | 0, mix();
    this.a = mix(); this.b = mix(); this.c = mix(); this.d = mix();
    for (let i = 0; i < 12; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** Uniform in [0, 1). */
  random(): number { return this.u32() / 4294967296; }
  /** Uniform integer in [lo, hi], both inclusive (Python's random.randint). */
  randint(lo: number, hi: number): number { return lo + Math.floor(this.random() * (hi - lo + 1)); }
}
