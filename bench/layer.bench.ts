// `layer-x1-step` / `layer-x12-step` on our engine: L ELECTRA-small encoder layers (hidden 256, 4 heads,
// FFN 1024, exact GELU, post-LN, dropout 0.1, key-padding mask: the odd sequences end in 16 padding
// tokens), batch 8 × seq 128; loss = mean((out − y)²) against a fixed target (as bench/peers/tfjs-layer.ts,
// the same workload), forward + backward + AdamW. Wall clock per step including the loss readback a
// logging loop does. Also `electra-small-step`: a full pre-training step of the
// paper's ELECTRA-Small (generator ¼ width + discriminator, vocabulary 30522), batch 8 × seq 128.

import { presetConfig } from '../src/electra/model/config.js';
import { createElectraPair, disposeStep, electraStep, pairModules } from '../src/electra/model/pretrain.js';
import { HostRng } from '../src/nn/init.js';
import { type EncoderConfig, Encoder } from '../src/nn/layers.js';
import { disposeModule, namedParameters } from '../src/nn/module.js';
import { AdamW } from '../src/nn/optim.js';
import type { Device } from '../src/device/device.js';
import * as o from '../src/tensor/ops.js';
import { Rng } from '../src/tensor/random.js';
import { tensor, tidy } from '../src/tensor/tensor.js';

/** A bench workload (see bench/run.ts): setup on a device → one timed run and a cleanup. */
export interface StepWorkload { name: string; tokens: number; setup(dev: Device): { run: () => Promise<unknown>; dispose: () => void } }

export const layerWorkload = (layers: number): StepWorkload => ({
  name: `layer-x${layers}-step`,
  tokens: 8 * 128,
  setup(device) {
    const B = 8, T = 128, H = 256;
    const cfg: EncoderConfig & { numHiddenLayers: number } = {
      hiddenSize: H, numAttentionHeads: 4, intermediateSize: 1024, numHiddenLayers: layers,
      hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1, layerNormEps: 1e-12,
    };
    const host = new HostRng(1234);
    const enc = new Encoder(cfg, { rng: host, device, std: 0.02 });
    // AdamW with decoupled decay on every parameter, as the TF.js peer.
    const opt = new AdamW(namedParameters(enc), { lr: 1e-4, eps: 1e-6, weightDecay: 0.01, excludeFromDecay: () => false });
    const rnd = (n: number) => Float32Array.from({ length: n }, () => host.normal());
    const x = tensor(rnd(B * T * H), [B, T, H], { device });
    const y = tensor(rnd(B * T * H), [B, T, H], { device });
    // The odd sequences end in 16 padding tokens.
    const mask = tensor(Float32Array.from({ length: B * T }, (_, i) => (Math.floor(i / T) % 2 === 1 && i % T >= T - 16 ? 0 : 1)), [B, T], { device });
    const rng = new Rng(7);
    return {
      run: async () => {
        const l = tidy(() => {
          const l = o.mean(o.square(o.sub(enc.forward(x, mask, { training: true, rng }), y)));
          l.backward();
          opt.step();
          opt.zeroGrad();
          return l;
        });
        const v = await l.item();
        l.dispose();
        if (!Number.isFinite(v)) throw new Error(`layer step: loss ${v}`);
      },
      dispose: () => { opt.dispose(); disposeModule(enc); x.dispose(); y.dispose(); mask.dispose(); },
    };
  },
});

/** A full ELECTRA pre-training step (generator + discriminator, loss readback) of a preset at batch B × 128. */
export function electraStepWorkload(o: { name: string; preset?: string; batch?: number; vocab?: number }): StepWorkload {
  const B = o.batch ?? 8, T = 128, V = o.vocab ?? 30522;
  return {
    name: o.name,
    tokens: B * T,
    setup(device) {
      const pair = createElectraPair({ ...presetConfig(o.preset ?? 'small'), vocabSize: V }, 'electra', 0, device);
      const opt = new AdamW(namedParameters(pairModules(pair)), { lr: 5e-4, eps: 1e-6, weightDecay: 0.01, maxGradNorm: 1 });
      const host = new HostRng(3);
      const ids = new Int32Array(B * T);
      for (let i = 0; i < B * T; i++) ids[i] = i % T === 0 ? 101 : i % T === T - 1 ? 102 : 200 + Math.floor(host.uniform() * (V - 200));
      const batch = { B, T, inputIds: ids, tokenTypeIds: new Int32Array(B * T), attentionMask: new Int32Array(B * T).fill(1) };
      const so = { maskProb: 0.15, discWeight: 50, genWeight: 1, temperature: 1, objective: 'electra' as const, special: { pad: 0, cls: 101, sep: 102, mask: 103 } };
      const rng = new Rng(5);
      let i = 0;
      return {
        run: async () => {
          const r = electraStep(pair, batch, so, new HostRng(i++), rng, device, true);
          opt.step(5e-4, { loss: r.loss }); opt.zeroGrad();
          const v = await r.loss.item();
          disposeStep(r);
          if (!Number.isFinite(v)) throw new Error(`electra step: loss ${v}`);
        },
        dispose: () => { opt.dispose(); disposeModule(pairModules(pair)); },
      };
    },
  };
}

/** The paper's ELECTRA-Small (vocabulary 30522) at batch 8: the lavapipe-sized step. */
export const electraSmallWorkload = electraStepWorkload({ name: 'electra-small-step' });
/** GPU-sized: batch 128 × 128 tokens, vocabularies 8192 (the bundled corpus's) and 30522 (BERT's). */
export const electraSmallB128 = [8192, 30522].map((vocab) => electraStepWorkload({ name: `electra-small-b128-v${vocab}`, batch: 128, vocab }));
