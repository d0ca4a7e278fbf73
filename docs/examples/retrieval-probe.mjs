// Usage (after npm run build): node docs/examples/retrieval-probe.mjs RUN/discriminator [more model dirs]
// Nearest-neighbour source agreement: 500 SOTU + 500 Moby-Dick sentences; for each, the share of its 5 nearest
// neighbours (cosine, excluding itself) from the same corpus. Chance: 0.5.
import { loadBundledCorpus } from '../../build/src/text/node/corpus.js';
import { embedTexts, searchIndex } from '../../build/src/electra/embed.js';
import { loadEncoder } from '../../build/src/node/embed-io.js';
import { loadTokenizer } from '../../build/src/text/node/files.js';
import { bestDevice } from '../../build/src/node/device.js';
import { HostRng } from '../../build/src/nn/init.js';
const r = new HostRng(3), texts = [], src = [];
for (const name of ['sotu', 'moby-dick']) {
  const s = loadBundledCorpus(name).flat().filter((x) => x.split(' ').length >= 6);
  for (let i = 0; i < 500; i++) { texts.push(s[Math.floor(r.uniform() * s.length)]); src.push(name); }
}
const device = await bestDevice();
for (const dir of process.argv.slice(2)) {
  const tok = loadTokenizer(dir);
  const m = await loadEncoder(dir, device);
  for (const pooling of ['mean', 'cls']) {
    const e = await embedTexts(m, tok, texts, device, { pooling, batchSize: 64 });
    const ix = { ...e, texts, model: dir };
    for (const center of [false, true]) {
      let agree = 0;
      for (let i = 0; i < texts.length; i++) {
        const hits = searchIndex(ix, e.vectors.subarray(i * e.dim, (i + 1) * e.dim), 6, { center }).filter((h) => h.id !== i).slice(0, 5);
        agree += hits.filter((h) => src[h.id] === src[i]).length / 5;
      }
      console.log(`${dir} ${pooling}${center ? ' centred' : ''}: same-source precision@5 ${(agree / texts.length).toFixed(3)}`);
    }
  }
}
process.exit(0);
