// The loaders on every source: a directory (Node), URLs (fetch against a local server), File objects (what a page
// gets from a drop) and memory load the same discriminator, generator, encoder, classifier and tokenizer, and
// refuse a bad file with the same problem, each naming the file its own way. The files a page offers for download
// are byte for byte the ones Node writes, and the stored zip that carries them reads back through our zip reader.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectReplaced, fillMask } from '../../src/electra/tasks/infer.js';
import { predictSequence } from '../../src/electra/tasks/finetune.js';
import { type ModelSource, fileSource, folderSources, memorySource, urlSource } from '../../src/electra/formats/source.js';
import * as load from '../../src/electra/tasks/load.js';
import { headModelFiles, pairFiles } from '../../src/electra/tasks/save.js';
import { zipStored } from '../../src/electra/formats/zip.js';
import { readZipDirectory, zipEntryData } from '../../src/electra/formats/torchbin.js';
import { namedParameters } from '../../src/nn/module.js';
import { directorySource } from '../../src/node/files.js';
import { loadDiscriminator as loadDiscriminatorDir, loadGenerator as loadGeneratorDir } from '../../src/node/electra-io.js';
import { loadHeadModel as loadHeadModelDir } from '../../src/node/finetune-io.js';
import { loadTokenizer as loadTokenizerFile } from '../../src/text/node/files.js';
import { cpu } from '../helpers.js';
import { writeTinyModels } from './tiny-model.js';

const s = suite('model sources');

const root = mkdtempSync(join(tmpdir(), 'electra-sources-'));
let paths: Awaited<ReturnType<typeof writeTinyModels>>;
let server: { url: string; http: Server };

/** A static server of `dir` at /runs/ (404 for anything missing), on a free localhost port. */
function serve(dir: string): Promise<{ url: string; http: Server }> {
  const http = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    try {
      if (!path.startsWith('/runs/') || path.includes('..')) throw new Error('outside');
      const body = await readFile(join(dir, path.slice('/runs/'.length)));
      res.writeHead(200, { 'content-length': body.length }).end(body);
    } catch { res.writeHead(404).end(); }
  });
  return new Promise((ok) => http.listen(0, '127.0.0.1', () => ok({ url: `http://127.0.0.1:${(http.address() as { port: number }).port}/`, http })));
}
const TEXT = 'the big red cat sat on the mat.';

/** Every file of a directory as File objects, as a page receives them from a drop. */
const filesOf = (dir: string) => readdirSync(dir).map((n) => new File([readFileSync(join(dir, n))], n));

/** The directory's four sources: the file system, URLs, dropped files, memory. */
function sourcesOf(dir: string, urlPath: string): [string, ModelSource][] {
  return [
    ['directory', directorySource(dir)],
    ['url', urlSource(new URL(urlPath, server.url))],
    ['files', fileSource(filesOf(dir))],
    ['memory', memorySource(new Map(readdirSync(dir).map((n) => [n, new Uint8Array(readFileSync(join(dir, n)))])), 'mem')],
  ];
}

/** The problem an error states, without the file name in front (every source names files its own way). */
async function problem(p: Promise<unknown>): Promise<{ message: string; rest: string }> {
  try { await p; } catch (e) {
    const message = (e as Error).message;
    return { message, rest: message.slice(message.indexOf(': ') + 2) };
  }
  throw new Error('expected an error');
}

s.before(async () => {
  paths = await writeTinyModels(root);
  server = await serve(root);
});
s.after(async () => {
  await new Promise((r) => server.http.close(r));
  rmSync(root, { recursive: true, force: true });
});

s('a directory, its URLs, its files and memory load the same discriminator, generator, encoder, classifier and tokenizer', async () => {
  const tok = loadTokenizerFile(paths.disc);
  const detect = await detectReplaced((await loadDiscriminatorDir(paths.disc, cpu)).model, tok, TEXT, cpu);
  const fill = await fillMask((await loadGeneratorDir(paths.gen, cpu)).model, tok, 'the [MASK] sat on the mat.', 3, cpu);
  const head = await loadHeadModelDir(paths.cls, cpu);
  const clsTok = loadTokenizerFile(paths.cls);
  const predicted = await predictSequence(head.model, clsTok, head.labels, [{ text: TEXT }], cpu);
  for (const [kind, src] of sourcesOf(paths.disc, '/runs/pair/discriminator/')) {
    const t = await load.loadTokenizer(src);
    assert.equal(t.tokens, tok.tokens, `${kind}: tokenizer`);
    const d = await load.loadDiscriminator(src, cpu);
    assert.is(d.source, src);
    assert.equal(await detectReplaced(d.model, t, TEXT, cpu), detect, `${kind}: detect`);
    const enc = await load.loadEncoder(src, cpu);
    const want = new Map(namedParameters({ electra: d.model.electra }));
    for (const [name, p] of namedParameters({ electra: enc })) assert.equal(Array.from(await p.data()), Array.from(await want.get(name)!.data()), `${kind}: encoder ${name}`);
  }
  for (const [kind, src] of sourcesOf(paths.gen, '/runs/pair/generator/')) {
    assert.equal(await fillMask((await load.loadGenerator(src, cpu)).model, tok, 'the [MASK] sat on the mat.', 3, cpu), fill, `${kind}: fill-mask`);
  }
  for (const [kind, src] of sourcesOf(paths.cls, '/runs/cls/')) {
    const h = await load.loadHeadModel(src, cpu);
    assert.equal([h.kind, h.labels, h.problemType], ['sequence', ['ham', 'spam'], 'single_label_classification'], `${kind}: head info`);
    const t = await load.loadTokenizer(src);
    assert.equal(t.options, clsTok.options, `${kind}: tokenizer_config.json honoured`);
    assert.equal(await predictSequence(h.model, t, h.labels, [{ text: TEXT }], cpu), predicted, `${kind}: predict`);
    const init = await load.initHeadModel(src, cpu, { kind: 'sequence', labels: ['ham', 'spam'], seed: 1 });
    assert.ok(init.headLoaded, `${kind}: initHeadModel keeps a matching head`);
  }
});

s('Hugging Face\'s own directories (every class, written by transformers) and a pytorch_model.bin load from dropped files as from disk', async () => {
  const golden = join(process.cwd(), 'test/fixtures/hf-golden');
  const same = async (a: object, b: object, what: string) => {
    const want = new Map(namedParameters(b));
    const got = namedParameters(a);
    assert.equal(got.map(([n]) => n), [...want.keys()], `${what}: names`);
    for (const [n, t] of got) assert.equal(Array.from(await t.data()), Array.from(await want.get(n)!.data()), `${what}: ${n}`);
  };
  const dir = (name: string) => join(golden, name);
  await same((await load.loadDiscriminator(fileSource(filesOf(dir('discriminator'))), cpu)).model, (await loadDiscriminatorDir(dir('discriminator'), cpu)).model, 'discriminator');
  await same((await load.loadGenerator(fileSource(filesOf(dir('generator'))), cpu)).model, (await loadGeneratorDir(dir('generator'), cpu)).model, 'generator');
  for (const [name, kind] of [['sequence-classification', 'sequence'], ['token-classification', 'token'], ['question-answering', 'qa']] as const) {
    const h = await load.loadHeadModel(fileSource(filesOf(dir(name))), cpu);
    assert.is(h.kind, kind, name);
    await same(h.model, (await loadHeadModelDir(dir(name), cpu)).model, name);
  }
  // A pytorch_model.bin (legacy LayerNorm names, position_ids) beside a config, no safetensors: the torch reader runs.
  const fix = (f: string) => new Uint8Array(readFileSync(join(process.cwd(), 'test/fixtures/checkpoint', f)));
  const tinyConfig = { vocab_size: 40, embedding_size: 8, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 12 };
  const bin = memorySource({ 'config.json': JSON.stringify(tinyConfig), 'pytorch_model.bin': fix('tiny-gen-legacy.bin') }, 'bin');
  const files = await load.readModelFiles(bin);
  assert.equal([files.format, files.kind, files.weightsPath], ['torch-zip', 'generator', 'bin/pytorch_model.bin']);
  assert.ok((await load.loadGenerator(bin, cpu)).model);
});

s('the Node entry\'s loaders take a path or any source; the browser entry\'s take sources', async () => {
  const nodeEntry = await import('../../src/node/index.js');
  const core = await import('../../src/index.js');
  const url = urlSource(new URL('/runs/pair/discriminator/', server.url));
  const a = await nodeEntry.loadDiscriminator(paths.disc, cpu), b = await nodeEntry.loadDiscriminator(url, cpu);
  assert.equal([a.dir, a.vocabPath], [paths.disc, join(paths.disc, 'vocab.txt')]);
  assert.equal([b.dir, b.vocabPath], [url.label, null]);
  const tok = await nodeEntry.loadTokenizer(paths.disc);
  assert.equal((await nodeEntry.loadTokenizer(url)).tokens, tok.tokens);
  assert.equal((await core.loadTokenizer(url)).tokens, tok.tokens);
  assert.is(core.loadDiscriminator, load.loadDiscriminator);
  assert.is.not(nodeEntry.loadDiscriminator, core.loadDiscriminator);
  assert.equal(await detectReplaced(b.model, tok, TEXT, cpu), await detectReplaced((await core.loadDiscriminator(url, cpu)).model, tok, TEXT, cpu));
  assert.ok((await nodeEntry.loadEncoder(url, cpu)).config, 'loadEncoder returns the ElectraModel in both entries');
  assert.ok((await core.loadEncoder(url, cpu)).config);
});

s('a bad file is refused with the same problem from every source, each naming the file', async () => {
  const bad = join(root, 'bad');
  cpSync(paths.disc, bad, { recursive: true });
  const st = readFileSync(join(bad, 'model.safetensors'));
  writeFileSync(join(bad, 'model.safetensors'), st.subarray(0, st.length - 100)); // truncated: a download that stopped
  const seen = await Promise.all(sourcesOf(bad, '/runs/bad/').map(async ([kind, src]) => ({ kind, src, ...(await problem(load.loadDiscriminator(src, cpu))) })));
  for (const x of seen) {
    assert.ok(x.message.startsWith(x.src.where('model.safetensors') + ': '), `${x.kind}: "${x.message}" names ${x.src.where('model.safetensors')}`);
    assert.is(x.rest, seen[0].rest, `${x.kind}: same problem`);
  }
  assert.match(seen[0].rest, /data|offset|bytes/);
  assert.match(seen.find((x) => x.kind === 'url')!.message, /^http:\/\/127\.0\.0\.1:\d+\/runs\/bad\/model\.safetensors: /);

  // A generator's directory loaded as a discriminator; a directory without weights; a binary vocab.txt.
  for (const [kind, src] of sourcesOf(paths.gen, '/runs/pair/generator/')) {
    const { message } = await problem(load.loadDiscriminator(src, cpu));
    assert.ok(message.includes('holds a generator checkpoint, not a discriminator'), `${kind}: ${message}`);
  }
  const noWeights = fileSource(filesOf(paths.disc).filter((f) => f.name !== 'model.safetensors'));
  assert.match((await problem(load.loadDiscriminator(noWeights, cpu))).message, /neither model\.safetensors nor pytorch_model\.bin in the directory/);
  assert.match((await problem(load.loadDiscriminator(urlSource(new URL('/runs/nothing-here/', server.url)), cpu))).message, /\/runs\/nothing-here\/: no config\.json in the directory/);
  const binaryVocab = fileSource([...filesOf(paths.disc).filter((f) => f.name !== 'vocab.txt'), new File([new Uint8Array([0x5b, 0, 0x5d])], 'vocab.txt')]);
  assert.match((await problem(load.loadTokenizer(binaryVocab))).message, /^vocab\.txt: looks binary \(NUL byte at offset 1\)/);
  const noVocab = memorySource({ 'config.json': '{}' }, 'mem');
  assert.match((await problem(load.loadTokenizer(noVocab))).message, /^mem: directory has neither tokenizer\.json nor vocab\.txt/);
  const badConfig = memorySource({ 'config.json': '{"hidden_size": -3}' }, 'mem');
  assert.match((await problem(load.loadDiscriminator(badConfig, cpu))).message, /^mem\/config\.json: .*hidden_size/);
});

s('urlSource: 404 is a missing file; other statuses and refused connections are errors naming the URL', async () => {
  const src = urlSource(new URL('/runs/pair/discriminator', server.url)); // no trailing slash: still the folder
  assert.is(src.where('config.json'), new URL('/runs/pair/discriminator/config.json', server.url).href);
  assert.ok(await src.read('config.json'));
  assert.is(await src.read('tokenizer.json'), null);
  const failing = urlSource('http://example.test/m/', { fetch: async () => new Response('no', { status: 500, statusText: 'Internal Server Error' }) });
  assert.match((await problem(failing.read('config.json'))).message, /^http:\/\/example\.test\/m\/config\.json: HTTP 500 Internal Server Error/);
  const refused = urlSource('http://127.0.0.1:9/m/'); // the discard port: nothing listens
  assert.match((await problem(refused.read('config.json'))).message, /^http:\/\/127\.0\.0\.1:9\/m\/config\.json: cannot fetch/);
  assert.throws(() => urlSource('/relative/without/a/page/'), /not a URL/);
});

s('fileSource refuses two files of one name; folderSources splits a dropped run folder', async () => {
  const dropped = [...filesOf(paths.disc).map((file) => ({ path: `pair/discriminator/${file.name}`, file })), ...filesOf(paths.gen).map((file) => ({ path: `pair/generator/${file.name}`, file }))];
  assert.throws(() => fileSource(dropped), /two files named (config\.json|model\.safetensors|vocab\.txt) \(pair\/discriminator\/.* and pair\/generator\/.*\): give one model directory at a time/);
  const folders = folderSources(dropped);
  assert.equal([...folders.keys()], ['pair/discriminator', 'pair/generator']);
  const d = folders.get('pair/discriminator')!;
  assert.is(d.label, 'pair/discriminator');
  assert.is(d.where('config.json'), 'pair/discriminator/config.json');
  assert.ok((await load.loadGenerator(folders.get('pair/generator')!, cpu)).model);
});

s('a page writes the files Node writes: pairFiles and headModelFiles equal the directories, zipStored reads back', async () => {
  // The fixture directories were written by exportPair / saveHeadModel from the same models: load and re-save.
  const d = await loadDiscriminatorDir(paths.disc, cpu), g = await loadGeneratorDir(paths.gen, cpu);
  const files = await pairFiles({ config: d.config, embeddings: d.model.electra.embeddings, generator: g.model, discriminator: d.model }, loadTokenizerFile(paths.disc).tokens);
  assert.equal([...files.keys()], ['discriminator/model.safetensors', 'discriminator/vocab.txt', 'discriminator/config.json', 'generator/model.safetensors', 'generator/vocab.txt', 'generator/config.json']);
  const enc = new TextEncoder();
  const bytes = (x: Uint8Array | string) => Array.from(typeof x === 'string' ? enc.encode(x) : x);
  for (const [name, data] of files) {
    // The discriminator's embeddings are the generator's too: the tied pair re-saved from two loads is identical.
    assert.equal(bytes(data), Array.from(readFileSync(join(paths.run, name))), name);
  }
  const h = await loadHeadModelDir(paths.cls, cpu);
  const headFiles = await headModelFiles(h.model, loadTokenizerFile(paths.cls), { labels: h.labels, problemType: h.problemType });
  for (const [name, data] of headFiles) assert.equal(bytes(data), Array.from(readFileSync(join(paths.cls, name))), `cls/${name}`);

  const zip = zipStored([...files, ['naïve/ünïcode.txt', 'ok\n']]);
  assert.equal(Array.from(zipStored([...files, ['naïve/ünïcode.txt', 'ok\n']])), Array.from(zip), 'same files, same bytes');
  const entries = readZipDirectory(zip, 'test.zip');
  assert.equal([...entries.keys()], [...files.keys(), 'naïve/ünïcode.txt']);
  for (const [name, data] of files) assert.equal(Array.from(zipEntryData(zip, entries.get(name)!, 'test.zip')), bytes(data), `zip ${name}`);
  assert.throws(() => zipStored([['../evil', 'x']]), /must be a relative path/);
  assert.throws(() => zipStored([['/abs', 'x']]), /must be a relative path/);
});

s.run();
