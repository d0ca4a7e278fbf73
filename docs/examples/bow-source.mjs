// Usage (after npm run build): node docs/examples/bow-source.mjs — the BoW baseline on a real 3-class task built from
// the bundled corpora: which corpus (SOTU, Moby-Dick, Brown) a sentence of ≥ 8 words comes from (docs/beyond-classification.md).
import { loadBundledCorpus } from '../../build/src/text/node/corpus.js';
import { trainBow } from '../../build/src/electra/bow.js';
import { HostRng } from '../../build/src/nn/init.js';
import { bestDevice } from '../../build/src/node/device.js';
const r = new HostRng(1);
const all = [];
for (const name of ['sotu', 'moby-dick', 'brown']) {
  const sents = loadBundledCorpus(name).flat().filter((s) => s.split(' ').length >= 8);
  for (let i = 0; i < 1400; i++) all.push({ text: sents[Math.floor(r.uniform() * sents.length)], label: name });
}
for (let i = all.length - 1; i > 0; i--) { const j = Math.floor(r.uniform() * (i + 1)); [all[i], all[j]] = [all[j], all[i]]; }
const train = { examples: all.slice(0, 3000), labels: ['brown', 'moby-dick', 'sotu'], name: 'src-train' };
const dev = { examples: all.slice(3000), labels: train.labels, name: 'src-dev' };
const device = await bestDevice();
const t0 = Date.now();
const res = await trainBow(train, dev, device, { epochs: 10, onEpoch: (e) => console.log(e.epoch, e.trainLoss.toFixed(4), JSON.stringify(e.dev)) });
console.log('features', res.model.vectorizer.size, 'best', res.best.epoch, res.best.dev, (Date.now() - t0) / 1000, 's', device.name);
process.exit(0);
