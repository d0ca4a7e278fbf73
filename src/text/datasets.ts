// Labelled datasets for fine-tuning, browser-safe: shared example types, CSV (RFC 4180) / TSV (GLUE style, no
// quoting) / JSONL parsing into TextDatasets with named columns, the GLUE task layouts, SQuAD v1.1/v2 JSON,
// Brown-corpus POS parsing with NLTK's Brown→universal tag mapping, and a deterministic stratified split.
// Every error names the source, the line (1-based, where the record starts) and the problem. File and npm-package
// readers (readTable, glueTask, loadSpamAssassin, loadBrownPos, readSquad) are in ./node/datasets.ts.

/** One example for sequence classification / regression; label is a class name (string) or a number (regression). */
export interface TextExample { text: string; textB?: string; label: string | number; id?: string }
/** One example for token classification: words and one tag per word. */
export interface TaggedExample { words: string[]; tags: string[]; id?: string }
/** One SQuAD-style QA example; answer `start` is a character offset into `context`. */
export interface QaExample { id: string; question: string; context: string; answers: { text: string; start: number }[] }

/** A labelled dataset plus its label set (null labels = regression). `unlabeled` (additive): the source had no
 *  label column (a GLUE test split, or readTable without labelCol); every label is then '' (NaN for regression).
 *  `skipped` (additive): rows dropped as malformed where the layout allows it (GLUE QQP). */
export interface TextDataset { examples: TextExample[]; labels: string[] | null; name: string; unlabeled?: boolean; skipped?: number }

export class DatasetError extends Error {
  override name = 'DatasetError';
}

export type TableFormat = 'csv' | 'tsv' | 'jsonl';

/** A parsed table: header names and rows of fields (CSV/TSV: strings; JSONL: any JSON value), each with the
 *  1-based line it starts on. */
export interface Table {
  columns: string[];
  rows: { line: number; fields: Record<string, unknown> }[];
  /** Rows dropped by `ragged: 'skip'`. */
  skipped: number;
  /** JSONL: each row has its own keys, so a missing column is reported per line. */
  keyed?: boolean;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function quoteList(names: readonly string[]): string {
  return names.length ? names.map((n) => JSON.stringify(n)).join(', ') : '(none)';
}

function duplicateCheck(columns: string[], source: string): void {
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c)) throw new DatasetError(`${source}:1: duplicate column ${JSON.stringify(c)} in the header`);
    seen.add(c);
  }
}

function rowsFromRecords(records: { line: number; values: string[] }[], source: string, opts: { header?: boolean; columns?: string[]; ragged?: 'error' | 'skip' }): Table {
  let columns: string[];
  let start = 0;
  if (opts.columns) columns = opts.columns;
  else if (opts.header === false) columns = (records[0]?.values ?? []).map((_, i) => String(i));
  else {
    if (records.length === 0) throw new DatasetError(`${source}: file is empty (no header line)`);
    columns = records[0].values.map((c) => c.trim());
    start = 1;
  }
  duplicateCheck(columns, source);
  const rows: Table['rows'] = [];
  let skipped = 0;
  for (let r = start; r < records.length; r++) {
    const { line, values } = records[r];
    if (values.length !== columns.length) {
      if (opts.ragged === 'skip') { skipped++; continue; }
      throw new DatasetError(`${source}:${line}: ragged row: ${values.length} field${values.length === 1 ? '' : 's'} where the ${opts.columns || opts.header !== false ? 'header has' : 'first row has'} ${columns.length} (${quoteList(columns)})`);
    }
    const fields: Record<string, unknown> = {};
    for (let c = 0; c < columns.length; c++) fields[columns[c]] = values[c];
    rows.push({ line, fields });
  }
  if (rows.length === 0) throw new DatasetError(`${source}: no data rows${start ? ' after the header' : ''}${skipped ? ` (${skipped} ragged rows skipped)` : ''}`);
  return { columns, rows, skipped };
}

/** CSV per RFC 4180: `delimiter`-separated fields, double-quoted fields may hold delimiters, CR/LF and "" for a
 *  quote; LF or CRLF line ends; a UTF-8 BOM is ignored; empty lines are skipped. A quote inside an unquoted field is
 *  kept literally (as Excel and Python do); text after a closing quote or an unterminated quote is an error. */
export function parseCsv(text: string, source: string, opts: { header?: boolean; columns?: string[]; delimiter?: string } = {}): Table {
  const delim = opts.delimiter ?? ',';
  if (delim.length !== 1 || delim === '"' || delim === '\n' || delim === '\r') throw new DatasetError(`${source}: CSV delimiter must be one character other than quote or newline, got ${JSON.stringify(delim)}`);
  const s = stripBom(text);
  const records: { line: number; values: string[] }[] = [];
  let line = 1;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const startLine = line;
    const values: string[] = [];
    let field = '';
    let quoted = false;
    let endOfRecord = false;
    while (!endOfRecord) {
      if (s[i] === '"') {
        quoted = true;
        const quoteLine = line;
        i++;
        for (;;) {
          if (i >= n) throw new DatasetError(`${source}:${quoteLine}: unterminated quoted field (the quote opened on line ${quoteLine} is never closed)`);
          const ch = s[i];
          if (ch === '"') {
            if (s[i + 1] === '"') { field += '"'; i += 2; continue; }
            i++;
            break;
          }
          if (ch === '\n') line++;
          field += ch;
          i++;
        }
        const after = s[i];
        if (i < n && after !== delim && after !== '\n' && !(after === '\r' && s[i + 1] === '\n') && after !== '\r') {
          throw new DatasetError(`${source}:${line}: unexpected ${JSON.stringify(after)} after a closing quote (a quote inside a quoted field must be doubled: "")`);
        }
      } else {
        while (i < n && s[i] !== delim && s[i] !== '\n' && s[i] !== '\r') field += s[i++];
      }
      values.push(field);
      field = '';
      if (i >= n) endOfRecord = true;
      else if (s[i] === delim) i++;
      else {
        if (s[i] === '\r') i++;
        if (s[i] === '\n') i++;
        line++;
        endOfRecord = true;
      }
    }
    if (values.length === 1 && values[0] === '' && !quoted) continue; // an empty line, not a record
    records.push({ line: startLine, values });
  }
  return rowsFromRecords(records, source, opts);
}

/** TSV as GLUE writes it: tab-separated, no quoting at all (quotes are ordinary characters), LF or CRLF, BOM
 *  ignored, empty lines skipped. `columns` names a headerless file's columns; `ragged: 'skip'` drops rows whose
 *  field count differs from the header's (counted in `skipped`) instead of failing. */
export function parseTsv(text: string, source: string, opts: { header?: boolean; columns?: string[]; ragged?: 'error' | 'skip' } = {}): Table {
  const lines = stripBom(text).split('\n');
  const records: { line: number; values: string[] }[] = [];
  for (let k = 0; k < lines.length; k++) {
    const l = lines[k].endsWith('\r') ? lines[k].slice(0, -1) : lines[k];
    if (l === '') continue;
    records.push({ line: k + 1, values: l.split('\t') });
  }
  if (records.length === 0) throw new DatasetError(`${source}: file is empty`);
  return rowsFromRecords(records, source, opts);
}

/** JSON Lines: one JSON object per non-empty line. Columns are the keys of the first object (for messages). */
export function parseJsonl(text: string, source: string): Table {
  const lines = stripBom(text).split('\n');
  const rows: Table['rows'] = [];
  for (let k = 0; k < lines.length; k++) {
    const l = lines[k].trim();
    if (l === '') continue;
    let v: unknown;
    try { v = JSON.parse(l); } catch (e) {
      throw new DatasetError(`${source}:${k + 1}: invalid JSON (${(e as Error).message})`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new DatasetError(`${source}:${k + 1}: expected a JSON object per line, got ${Array.isArray(v) ? 'an array' : JSON.stringify(v)?.slice(0, 40)}`);
    rows.push({ line: k + 1, fields: v as Record<string, unknown> });
  }
  if (rows.length === 0) throw new DatasetError(`${source}: file is empty (no JSON lines)`);
  return { columns: Object.keys(rows[0].fields), rows, skipped: 0, keyed: true };
}

/** Which columns make the examples. labelCol omitted → unlabeled. `labels` fixes the class list and its order
 *  (so train and dev agree even if dev lacks a class); otherwise it is the sorted set of labels seen. */
export interface ColumnOptions {
  textCol: string;
  textColB?: string;
  labelCol?: string;
  regression?: boolean;
  labels?: readonly string[];
  idCol?: string;
}

function fieldString(v: unknown, what: string, where: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new DatasetError(`${where}: ${what} must be a string, got ${v === null ? 'null' : typeof v}`);
}

/** Sorts labels numerically when all look like numbers ("2" before "10"), else by code unit. */
export function sortLabels(labels: Iterable<string>): string[] {
  const all = [...new Set(labels)];
  const numeric = all.every((l) => l.trim() !== '' && Number.isFinite(Number(l)));
  return numeric ? all.sort((a, b) => Number(a) - Number(b)) : all.sort();
}

/** Rows of a parsed table → a TextDataset, with errors naming the source, line and column. */
export function tableToDataset(table: Table, source: string, name: string, opts: ColumnOptions): TextDataset {
  const wanted = [opts.textCol, opts.textColB, opts.labelCol, opts.idCol].filter((c): c is string => c !== undefined);
  for (const c of wanted) {
    if (!table.keyed && !table.columns.includes(c)) throw new DatasetError(`${source}: no column ${JSON.stringify(c)}; the columns are ${quoteList(table.columns)}`);
  }
  const fixed = opts.labels ? new Set(opts.labels) : null;
  const seen: string[] = [];
  const examples: TextExample[] = [];
  for (const { line, fields } of table.rows) {
    const where = `${source}:${line}`;
    const get = (col: string): unknown => {
      if (!(col in fields)) throw new DatasetError(`${where}: no field ${JSON.stringify(col)}; the fields are ${quoteList(Object.keys(fields))}`);
      return fields[col];
    };
    const ex: TextExample = { text: fieldString(get(opts.textCol), `column ${JSON.stringify(opts.textCol)}`, where), label: '' };
    if (opts.textColB !== undefined) ex.textB = fieldString(get(opts.textColB), `column ${JSON.stringify(opts.textColB)}`, where);
    if (opts.idCol !== undefined) ex.id = fieldString(get(opts.idCol), `column ${JSON.stringify(opts.idCol)}`, where);
    if (opts.labelCol !== undefined) {
      const raw = get(opts.labelCol);
      if (opts.regression) {
        const num = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
        if (!Number.isFinite(num)) throw new DatasetError(`${where}: regression label ${JSON.stringify(raw)} in column ${JSON.stringify(opts.labelCol)} is not a number`);
        ex.label = num;
      } else {
        const lab = fieldString(raw, `label column ${JSON.stringify(opts.labelCol)}`, where).trim();
        if (lab === '') throw new DatasetError(`${where}: empty label in column ${JSON.stringify(opts.labelCol)}`);
        if (fixed && !fixed.has(lab)) throw new DatasetError(`${where}: label ${JSON.stringify(lab)} in column ${JSON.stringify(opts.labelCol)} is not one of ${quoteList([...fixed])}`);
        ex.label = lab;
        seen.push(lab);
      }
    } else if (opts.regression) ex.label = NaN;
    examples.push(ex);
  }
  const unlabeled = opts.labelCol === undefined;
  const labels = opts.regression ? null : opts.labels ? [...opts.labels] : unlabeled ? [] : sortLabels(seen);
  return unlabeled ? { examples, labels, name, unlabeled } : { examples, labels, name };
}

/** Format from a file name: .csv → csv, .tsv/.tab → tsv, .jsonl/.ndjson/.json → jsonl; null when unknown. */
export function formatFromName(path: string): TableFormat | null {
  const m = /\.([a-z]+)$/i.exec(path);
  const ext = m ? m[1].toLowerCase() : '';
  return ext === 'csv' ? 'csv' : ext === 'tsv' || ext === 'tab' ? 'tsv' : ext === 'jsonl' || ext === 'ndjson' || ext === 'json' ? 'jsonl' : null;
}

/** Text of a CSV/TSV/JSONL file → TextDataset (the pure half of readTable). */
export function parseTable(text: string, source: string, opts: ColumnOptions & { format?: TableFormat; name?: string; header?: boolean; columns?: string[]; ragged?: 'error' | 'skip' }): TextDataset {
  const format = opts.format ?? formatFromName(source);
  if (!format) throw new DatasetError(`${source}: cannot tell the format from the file name; pass format 'csv', 'tsv' or 'jsonl'`);
  if (stripBom(text).trim() === '') throw new DatasetError(`${source}: file is empty`);
  const table = format === 'csv' ? parseCsv(text, source, opts) : format === 'tsv' ? parseTsv(text, source, opts) : parseJsonl(text, source);
  const ds = tableToDataset(table, source, opts.name ?? source, opts);
  return table.skipped ? { ...ds, skipped: table.skipped } : ds;
}

// ---------------------------------------------------------------------------------------------------------------
// GLUE (the TSV files written by the GLUE benchmark's download script; Wang et al. 2018)

export type GlueTaskName = 'cola' | 'sst2' | 'mrpc' | 'qqp' | 'stsb' | 'mnli' | 'qnli' | 'rte' | 'wnli';
export type GlueSplit = 'train' | 'dev' | 'test' | 'dev_matched' | 'dev_mismatched' | 'test_matched' | 'test_mismatched';
export const GLUE_TASKS: readonly GlueTaskName[] = ['cola', 'sst2', 'mrpc', 'qqp', 'stsb', 'mnli', 'qnli', 'rte', 'wnli'];

export interface GlueLayout {
  /** The task's directory in the GLUE download (CoLA, SST-2, …). */
  dir: string;
  file: string;
  /** Column names for a headerless file (CoLA train/dev); otherwise the header line names them. */
  columns?: string[];
  textCol: string;
  textColB?: string;
  labelCol?: string;
  idCol?: string;
  labels: string[] | null;
  ragged: 'error' | 'skip';
}

const GLUE: Record<GlueTaskName, { dir: string; text: string; textB?: string; label: string; labels: string[] | null; testId: string }> = {
  // CoLA train/dev: no header; source, label, original author mark, sentence. Test: header "index sentence".
  cola: { dir: 'CoLA', text: 'sentence', label: 'label', labels: ['0', '1'], testId: 'index' },
  sst2: { dir: 'SST-2', text: 'sentence', label: 'label', labels: ['0', '1'], testId: 'index' },
  mrpc: { dir: 'MRPC', text: '#1 String', textB: '#2 String', label: 'Quality', labels: ['0', '1'], testId: 'index' },
  qqp: { dir: 'QQP', text: 'question1', textB: 'question2', label: 'is_duplicate', labels: ['0', '1'], testId: 'id' },
  stsb: { dir: 'STS-B', text: 'sentence1', textB: 'sentence2', label: 'score', labels: null, testId: 'index' },
  mnli: { dir: 'MNLI', text: 'sentence1', textB: 'sentence2', label: 'gold_label', labels: ['contradiction', 'entailment', 'neutral'], testId: 'index' },
  qnli: { dir: 'QNLI', text: 'question', textB: 'sentence', label: 'label', labels: ['entailment', 'not_entailment'], testId: 'index' },
  rte: { dir: 'RTE', text: 'sentence1', textB: 'sentence2', label: 'label', labels: ['entailment', 'not_entailment'], testId: 'index' },
  wnli: { dir: 'WNLI', text: 'sentence1', textB: 'sentence2', label: 'label', labels: ['0', '1'], testId: 'index' },
};

/** File and columns of a GLUE task split. MNLI's 'dev'/'test' are the matched sets (dev_matched.tsv); the other
 *  tasks accept only train/dev/test. Label sets and orders follow the GLUE reference processors (as in
 *  Hugging Face's run_glue). QQP's known malformed rows (too few fields) are skipped, as those processors do. */
export function glueLayout(task: GlueTaskName, split: GlueSplit): GlueLayout {
  const t = GLUE[task];
  if (!t) throw new DatasetError(`unknown GLUE task ${JSON.stringify(task)}; choose one of ${GLUE_TASKS.join(', ')}`);
  const mnliSplits: Record<string, string> = { train: 'train', dev: 'dev_matched', test: 'test_matched', dev_matched: 'dev_matched', dev_mismatched: 'dev_mismatched', test_matched: 'test_matched', test_mismatched: 'test_mismatched' };
  let base: string;
  if (task === 'mnli') {
    if (!(split in mnliSplits)) throw new DatasetError(`GLUE mnli: unknown split ${JSON.stringify(split)}; choose one of ${Object.keys(mnliSplits).join(', ')}`);
    base = mnliSplits[split];
  } else {
    if (split !== 'train' && split !== 'dev' && split !== 'test') throw new DatasetError(`GLUE ${task}: unknown split ${JSON.stringify(split)}; choose train, dev or test`);
    base = split;
  }
  const test = base.startsWith('test');
  const layout: GlueLayout = { dir: t.dir, file: `${base}.tsv`, textCol: t.text, textColB: t.textB, labels: t.labels, ragged: task === 'qqp' ? 'skip' : 'error' };
  if (test) layout.idCol = t.testId;
  else layout.labelCol = t.label;
  if (task === 'cola' && !test) layout.columns = ['source', 'label', 'original_label', 'sentence'];
  if (task === 'qqp' && !test) layout.idCol = 'id';
  return layout;
}

/** Text of one GLUE split file → TextDataset (the pure half of glueTask). */
export function parseGlue(task: GlueTaskName, split: GlueSplit, text: string, source: string): TextDataset {
  const l = glueLayout(task, split);
  return parseTable(text, source, {
    format: 'tsv', name: `glue-${task}-${split}`, columns: l.columns, ragged: l.ragged,
    textCol: l.textCol, textColB: l.textColB, labelCol: l.labelCol, idCol: l.idCol,
    regression: l.labels === null, labels: l.labels ?? undefined,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// SQuAD v1.1 / v2.0 JSON

/** SQuAD JSON (already parsed) → one QaExample per question. v2 unanswerable questions (is_impossible) get no
 *  answers. Answers are kept as given; an answer_start outside the context is an error. */
export function parseSquad(json: unknown, source: string): QaExample[] {
  const obj = json as { data?: unknown };
  if (!obj || typeof obj !== 'object' || !Array.isArray(obj.data)) throw new DatasetError(`${source}: not SQuAD JSON (expected an object with a "data" array)`);
  const out: QaExample[] = [];
  const ids = new Set<string>();
  obj.data.forEach((article: unknown, a: number) => {
    const paragraphs = (article as { paragraphs?: unknown })?.paragraphs;
    if (!Array.isArray(paragraphs)) throw new DatasetError(`${source}: data[${a}] has no "paragraphs" array`);
    paragraphs.forEach((para: unknown, p: number) => {
      const where = `${source}: data[${a}].paragraphs[${p}]`;
      const { context, qas } = (para ?? {}) as { context?: unknown; qas?: unknown };
      if (typeof context !== 'string') throw new DatasetError(`${where}.context must be a string`);
      if (!Array.isArray(qas)) throw new DatasetError(`${where}.qas must be an array`);
      qas.forEach((qa: unknown, q: number) => {
        const w = `${where}.qas[${q}]`;
        const { id, question, answers, is_impossible } = (qa ?? {}) as { id?: unknown; question?: unknown; answers?: unknown; is_impossible?: unknown };
        if (typeof id !== 'string' && typeof id !== 'number') throw new DatasetError(`${w}.id must be a string`);
        if (typeof question !== 'string') throw new DatasetError(`${w}.question must be a string`);
        if (ids.has(String(id))) throw new DatasetError(`${w}: duplicate question id ${JSON.stringify(String(id))}`);
        ids.add(String(id));
        const list = answers === undefined ? [] : answers;
        if (!Array.isArray(list)) throw new DatasetError(`${w}.answers must be an array`);
        const ans = is_impossible === true ? [] : list.map((x: unknown, k: number) => {
          const { text, answer_start } = (x ?? {}) as { text?: unknown; answer_start?: unknown };
          if (typeof text !== 'string' || typeof answer_start !== 'number' || !Number.isInteger(answer_start)) throw new DatasetError(`${w}.answers[${k}] needs a string "text" and an integer "answer_start"`);
          if (answer_start < 0 || answer_start + text.length > context.length) throw new DatasetError(`${w}.answers[${k}]: answer_start ${answer_start} + ${text.length} characters is outside the ${context.length}-character context`);
          return { text, start: answer_start };
        });
        out.push({ id: String(id), question, context, answers: ans });
      });
    });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Brown corpus part-of-speech tags

/** The 12 universal tags of Petrov, Das & McDonald (2012), in NLTK's order. */
export const UNIVERSAL_TAGS = ['VERB', 'NOUN', 'PRON', 'ADJ', 'ADV', 'ADP', 'CONJ', 'DET', 'NUM', 'PRT', 'X', '.'] as const;

// Base Brown tags (no -HL/-TL/-NC suffix, no FW- prefix) → universal tag, grouped by target. Together with the two
// rules in brownToUniversal this reproduces NLTK's en-brown.map (the universal-pos-tags mapping NLTK uses for
// brown.tagged_words(tagset='universal')) on all 472 Brown tags; checked on every token of the corpus.
const BROWN_BASE: Record<string, string> = {};
for (const [uni, tags] of Object.entries({
  '.': "' '' ( ) , -- . : ``",
  ADV: '* QL QLP RB RB+CS RBR RBR+CS RBT RN WQL WRB',
  PRT: 'ABL ABN AP$ DT+BEZ DT+MD DTS+BEZ EX EX+BEZ EX+HVD EX+HVZ EX+MD JJ$ NN+BEZ NN+HVD NN+HVZ NN+MD NNS+MD NP+BEZ NP+HVZ NP+MD NR+MD PN+BEZ PN+HVD PN+HVZ PN+MD PPS+BEZ PPS+HVD PPS+HVZ PPS+MD PPSS+BEM PPSS+BER PPSS+BER-N PPSS+BEZ PPSS+BEZ* PPSS+HV PPSS+HVD PPSS+MD PPSS+VB RB$ RB+BEZ RP RP+IN TO TO+VB UH WDT+BER WDT+BEZ WDT+DOD WDT+HVZ WPS+BEZ WPS+HVD WPS+HVZ WPS+MD WRB+BER WRB+BEZ WRB+DO WRB+DOD WRB+DOD* WRB+DOZ WRB+IN WRB+MD',
  DET: 'ABX AT DT DT$ DTI DTS DTX PP$ WDT WP$',
  ADJ: 'AP AP+AP JJ JJ+JJ JJR JJR+CS JJS JJT OD',
  VERB: 'BE BED BED* BEDZ BEDZ* BEG BEM BEM* BEN BER BER* BEZ BEZ* DO DO* DOD DOD* DOZ DOZ* HV HV* HV+TO HVD HVD* HVG HVN HVZ HVZ* MD MD* MD+HV MD+PPSS MD+TO VB VB+AT VB+IN VB+JJ VB+PPO VB+RP VB+TO VB+VB VBD VBG VBG+TO VBN VBN+TO VBZ',
  CONJ: 'CC',
  NUM: 'CD',
  ADP: 'CS IN IN+IN IN+PPO',
  NOUN: 'CD$ NN NN$ NN+IN NN+NN NNS NNS$ NP NP$ NPS NPS$ NR NR$ NRS PN PN$',
  PRON: 'PP$$ PPL PPLS PPO PPS PPSS WPO WPS',
  X: 'DO+PPSS NIL WDT+BER+PP WDT+DO+PPS',
})) for (const t of tags.split(' ')) BROWN_BASE[t] = uni;

/** A Brown tag (either case) → its universal tag, as NLTK's map_tag('en-brown', 'universal', tag): headline (-HL),
 *  title (-TL) and cited-word (-NC) suffixes do not change the class, foreign words (FW-…) are X, and tags
 *  outside the table are X (NLTK's default). */
export function brownToUniversal(tag: string): string {
  const t = tag.toUpperCase();
  if (t.startsWith('FW-')) return 'X';
  return BROWN_BASE[t.replace(/(-(HL|TL|NC))+$/, '')] ?? 'X';
}

/** One Brown corpus file (form C, "word/tag" tokens, one sentence per indented line) → tagged sentences with
 *  upper-cased Brown tags, as NLTK reads them. Tokens split at their last '/', so "1/2/cd" is word "1/2". */
export function parseBrownTagged(text: string, source: string): TaggedExample[] {
  const out: TaggedExample[] = [];
  const lines = text.split('\n');
  for (let k = 0; k < lines.length; k++) {
    const l = lines[k].trim();
    if (!l) continue;
    const words: string[] = [];
    const tags: string[] = [];
    for (const tok of l.split(/\s+/)) {
      const slash = tok.lastIndexOf('/');
      if (slash <= 0 || slash === tok.length - 1) throw new DatasetError(`${source}:${k + 1}: token ${JSON.stringify(tok)} is not word/tag`);
      words.push(tok.slice(0, slash));
      tags.push(tok.slice(slash + 1).toUpperCase());
    }
    out.push({ words, tags, id: `${source}:${k + 1}` });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Deterministic splits

/** FNV-1a 32-bit hash of a string's UTF-16 code units: a stable, documented ordering key across runtimes. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Stratified split: items of each class are ordered by (hash of key, key) and cut at the given fractions
 *  (rounded), so every split keeps the class balance and the assignment never depends on input order. Items
 *  with the same key land in the same split (exact duplicates cannot leak between train and test). */
export function stratifiedSplit<T>(items: readonly T[], classOf: (x: T) => string, keyOf: (x: T) => string, fractions: readonly number[]): T[][] {
  const total = fractions.reduce((a, b) => a + b, 0);
  if (fractions.some((f) => !(f >= 0)) || !(total > 0)) throw new DatasetError(`split fractions must be non-negative with a positive sum, got ${fractions.join(', ')}`);
  const byClass = new Map<string, { x: T; key: string; h: number }[]>();
  for (const x of items) {
    const c = classOf(x);
    const key = keyOf(x);
    let arr = byClass.get(c);
    if (!arr) byClass.set(c, (arr = []));
    arr.push({ x, key, h: fnv1a(key) });
  }
  const out: T[][] = fractions.map(() => []);
  for (const c of [...byClass.keys()].sort()) {
    const arr = byClass.get(c)!.sort((a, b) => a.h - b.h || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    let acc = 0;
    let start = 0;
    for (let s = 0; s < fractions.length; s++) {
      acc += fractions[s];
      let end = s === fractions.length - 1 ? arr.length : Math.round((arr.length * acc) / total);
      while (end > start && end < arr.length && arr[end].key === arr[end - 1].key) end++; // keep duplicates together
      end = Math.max(end, start);
      for (let k = start; k < end; k++) out[s].push(arr[k].x);
      start = end;
    }
  }
  return out;
}
