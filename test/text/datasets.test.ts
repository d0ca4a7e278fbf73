// Labelled-data parsing: CSV (RFC 4180) and GLUE-style TSV edge cases, JSONL, column selection and the errors
// (file:line and the problem), every GLUE layout on small hand-written files, SQuAD v1.1/v2, Brown tag parsing and
// the universal mapping, the stratified split, and e-mail cleaning on hand-made MIME messages.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  parseCsv, parseTsv, parseTable, parseSquad, parseBrownTagged, brownToUniversal, stratifiedSplit, DatasetError, UNIVERSAL_TAGS,
  cleanEmail, parseEmail, htmlToText, decodeQuotedPrintable, decodeBase64, decodeMimeWords, decodeCharset, decodeWindows1252,
} from '../../src/text/index.js';
import { readTable, glueTask, readSquad } from '../../src/text/node/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'electra-datasets-'));
const put = (rel: string, text: string | Uint8Array): string => {
  const p = join(tmp, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
};
const throwsWith = (f: () => unknown, ...parts: (string | RegExp)[]): void => {
  try { f(); } catch (e) {
    const msg = (e as Error).message;
    for (const p of parts) assert.ok(typeof p === 'string' ? msg.includes(p) : p.test(msg), `error ${JSON.stringify(msg)} lacks ${p}`);
    return;
  }
  assert.unreachable(`expected an error mentioning ${parts.join(', ')}`);
};

test('CSV: quotes, escaped quotes, embedded newlines, CRLF, BOM, empty fields, line numbers', () => {
  const text = '\ufefftext,label\r\n"hello, world",pos\r\n"she said ""hi""",neg\r\n"two\r\nlines",pos\r\n,neg\r\n\r\nplain "inch" mark,pos\r\n""," pos "';
  const t = parseCsv(text, 'x.csv');
  assert.equal(t.columns, ['text', 'label']);
  assert.equal(t.rows.map((r) => r.fields.text), ['hello, world', 'she said "hi"', 'two\r\nlines', '', 'plain "inch" mark', '']);
  assert.equal(t.rows.map((r) => r.line), [2, 3, 4, 6, 8, 9]);
  const ds = parseTable(text, 'x.csv', { textCol: 'text', labelCol: 'label' });
  assert.equal(ds.labels, ['neg', 'pos']);
  assert.is(ds.examples[5].label, 'pos', 'labels are trimmed');
  // last record without a trailing newline, and LF-only files
  assert.equal(parseCsv('a,b\n1,2', 'y.csv').rows[0].fields, { a: '1', b: '2' });
  assert.equal(parseCsv('a;b\n"1;x";2\n', 'y.csv', { delimiter: ';' }).rows[0].fields, { a: '1;x', b: '2' });
});

test('CSV errors: unterminated quote, junk after a closing quote, ragged rows, empty file, missing column', () => {
  throwsWith(() => parseCsv('a,b\n1,"open\n2,3\n', 'f.csv'), 'f.csv:2', 'unterminated');
  throwsWith(() => parseCsv('a,b\n"x"y,2\n', 'f.csv'), 'f.csv:2', 'after a closing quote');
  throwsWith(() => parseCsv('a,b\n1,2\n1,2,3\n', 'f.csv'), 'f.csv:3', 'ragged', '3 fields', 'header has 2');
  throwsWith(() => parseTable('', 'e.csv', { textCol: 'a' }), 'e.csv', 'empty');
  throwsWith(() => parseTable('\ufeff\n\n', 'e.csv', { textCol: 'a' }), 'e.csv', 'empty');
  throwsWith(() => parseTable('a,b\n', 'h.csv', { textCol: 'a' }), 'h.csv', 'no data rows');
  throwsWith(() => parseTable('sentence,label\nx,1\n', 'm.csv', { textCol: 'text', labelCol: 'label' }), 'm.csv', 'no column "text"', '"sentence", "label"');
  throwsWith(() => parseTable('a,b\nx,1\n', 'm.csv', { textCol: 'a', labelCol: 'c' }), 'no column "c"');
  throwsWith(() => parseCsv('a,a\n1,2\n', 'd.csv'), 'd.csv:1', 'duplicate column "a"');
});

test('labels: regression numbers, non-numeric errors, fixed label sets, numeric sort, unlabeled, pairs', () => {
  const reg = parseTable('s1\ts2\tscore\na\tb\t4.5\nc\td\t0\n', 'r.tsv', { textCol: 's1', textColB: 's2', labelCol: 'score', regression: true });
  assert.is(reg.labels, null);
  assert.equal(reg.examples, [{ text: 'a', textB: 'b', label: 4.5 }, { text: 'c', textB: 'd', label: 0 }]);
  throwsWith(() => parseTable('s\tscore\na\t4.5\nb\thigh\n', 'r.tsv', { textCol: 's', labelCol: 'score', regression: true }), 'r.tsv:3', '"high"', 'not a number');
  throwsWith(() => parseTable('s\tscore\na\t\n', 'r.tsv', { textCol: 's', labelCol: 'score', regression: true }), 'r.tsv:2', 'not a number');
  throwsWith(() => parseTable('s,l\na,x\nb,\n', 'c.csv', { textCol: 's', labelCol: 'l' }), 'c.csv:3', 'empty label');
  throwsWith(() => parseTable('s,l\na,x\nb,z\n', 'c.csv', { textCol: 's', labelCol: 'l', labels: ['x', 'y'] }), 'c.csv:3', '"z"', 'not one of "x", "y"');
  assert.equal(parseTable('s,l\na,x\n', 'c.csv', { textCol: 's', labelCol: 'l', labels: ['y', 'x'] }).labels, ['y', 'x']);
  assert.equal(parseTable('s,l\na,10\nb,2\nc,2\n', 'n.csv', { textCol: 's', labelCol: 'l' }).labels, ['2', '10']);
  const un = parseTable('s,l\na,x\n', 'u.csv', { textCol: 's' });
  assert.ok(un.unlabeled);
  assert.equal(un.examples, [{ text: 'a', label: '' }]);
  throwsWith(() => parseTable('s,l\n', 'q.txt', { textCol: 's' }), 'q.txt', "format 'csv', 'tsv' or 'jsonl'");
});

test('TSV GLUE style: quotes are literal, CRLF, BOM, ragged rows error or skip', () => {
  const t = parseTsv('\ufeffsentence\tlabel\r\n"quoted" text , with comma\t1\r\n', 'g.tsv');
  assert.equal(t.rows[0].fields, { sentence: '"quoted" text , with comma', label: '1' });
  throwsWith(() => parseTsv('a\tb\n1\t2\n1\n', 'g.tsv'), 'g.tsv:3', 'ragged', '1 field', '"a", "b"');
  const skipped = parseTsv('a\tb\n1\t2\n1\n3\t4\n', 'g.tsv', { ragged: 'skip' });
  assert.is(skipped.skipped, 1);
  assert.is(skipped.rows.length, 2);
  throwsWith(() => parseTsv('', 'z.tsv'), 'z.tsv', 'empty');
});

test('JSONL: fields, numeric and boolean labels, bad lines', () => {
  const ds = parseTable('{"text":"a","label":1}\n\n{"text":"b","label":0,"extra":[1]}\n', 'j.jsonl', { textCol: 'text', labelCol: 'label' });
  assert.equal(ds.examples.map((e) => e.label), ['1', '0']);
  assert.equal(ds.labels, ['0', '1']);
  const reg = parseTable('{"t":"a","y":"2.5"}\n{"t":"b","y":-1}\n', 'j.jsonl', { textCol: 't', labelCol: 'y', regression: true });
  assert.equal(reg.examples.map((e) => e.label), [2.5, -1]);
  throwsWith(() => parseTable('{"text":"a","label":1}\n{"text":"b",\n', 'j.jsonl', { textCol: 'text', labelCol: 'label' }), 'j.jsonl:2', 'invalid JSON');
  throwsWith(() => parseTable('[1,2]\n', 'j.jsonl', { textCol: 'text' }), 'j.jsonl:1', 'JSON object');
  throwsWith(() => parseTable('{"text":"a","label":1}\n{"txt":"b","label":1}\n', 'j.jsonl', { textCol: 'text', labelCol: 'label' }), 'j.jsonl:2', 'no field "text"', '"txt", "label"');
  throwsWith(() => parseTable('{"text":null,"label":1}\n', 'j.jsonl', { textCol: 'text', labelCol: 'label' }), 'j.jsonl:1', 'must be a string, got null');
});

test('readTable: format from the extension, errors name the file', () => {
  const p = put('user/train.csv', 'review,stars\n"great, really",5\nbad,1\n');
  const ds = readTable(p, { textCol: 'review', labelCol: 'stars' });
  assert.equal(ds.examples.map((e) => e.text), ['great, really', 'bad']);
  assert.equal(ds.labels, ['1', '5']);
  const j = put('user/dev.jsonl', '{"review":"ok","stars":3}\n');
  assert.is(readTable(j, { textCol: 'review', labelCol: 'stars', regression: true }).examples[0].label, 3);
  throwsWith(() => readTable(put('user/empty.csv', ''), { textCol: 'a' }), 'empty.csv', 'empty');
  throwsWith(() => readTable(join(tmp, 'user/missing.csv'), { textCol: 'a' }), 'missing.csv', 'cannot read');
});

// Small files in the exact layouts of the GLUE download (headers, column orders, CoLA without header).
const GLUE_FILES: Record<string, string> = {
  'CoLA/train.tsv': 'gj04\t1\t\tOur friends won\'t buy this analysis, let alone the next one we propose.\ngj04\t0\t*\tThey drank the pub.\n',
  'CoLA/dev.tsv': 'gj04\t1\t\tThe sailors rode the breeze clear of the rocks.\n',
  'CoLA/test.tsv': 'index\tsentence\n0\tBill whistled past the house.\n',
  'SST-2/train.tsv': 'sentence\tlabel\nhide new secretions from the parental units \t0\nthe greatest musicians \t1\n',
  'SST-2/dev.tsv': 'sentence\tlabel\nit \'s a charming and often affecting journey . \t1\n',
  'SST-2/test.tsv': 'index\tsentence\n0\tuneasy mishmash of styles and genres .\n',
  'MRPC/train.tsv': '\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t702876\t702977\tAmrozi accused his brother , whom he called " the witness " .\tReferring to him as only " the witness " , Amrozi accused his brother .\n',
  'MRPC/test.tsv': 'index\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t1089874\t1089925\tPCCW \'s chief operating officer .\tCurrent Chief Operating Officer .\n',
  'QQP/train.tsv': 'id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n133273\t213221\t213222\tHow is the life of a math student?\tWhich level of prepration is enough?\t0\n9\t10\tWhy do "quotes" break parsers?\n402555\t536040\t536041\tHow do I control my horny emotions?\tHow do you control your horniness?\t1\n',
  'QQP/test.tsv': 'id\tquestion1\tquestion2\n0\tWhy am I mentally very lonely?\tFind the remainder when 23^24 is divided by 24?\n',
  'STS-B/train.tsv': 'index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n0\tmain-captions\tMSRvid\t2012test\t0001\tnone\tnone\tA plane is taking off.\tAn air plane is taking off.\t5.000\n',
  'STS-B/test.tsv': 'index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\n0\tmain-captions\tMSRvid\t2012test\t0024\tnone\tnone\tA girl is styling her hair.\tA girl is brushing her hair.\n',
  'MNLI/train.tsv': 'index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n0\t31193\t31193n\tgovernment\t( x )\t( y )\t(ROOT x)\t(ROOT y)\tConceptually cream skimming has two basic dimensions.\tProduct and geography are what make cream skimming work. \tneutral\tneutral\n',
  'MNLI/dev_matched.tsv': 'index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tlabel2\tlabel3\tlabel4\tlabel5\tgold_label\n0\t63735\t63735n\tslate\t( x )\t( y )\t(ROOT x)\t(ROOT y)\tThe new rights are nice enough\tEveryone really likes the newest benefits \tneutral\tentailment\tneutral\tneutral\tneutral\tneutral\n',
  'MNLI/dev_mismatched.tsv': 'index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tlabel2\tlabel3\tlabel4\tlabel5\tgold_label\n0\t75290\t75290c\tletters\t( x )\t( y )\t(ROOT x)\t(ROOT y)\tYour contribution helped make it possible.\tYour contributions were of no help.\tcontradiction\tcontradiction\tcontradiction\tcontradiction\tcontradiction\tcontradiction\n',
  'MNLI/test_matched.tsv': 'index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\tsentence2_parse\tsentence1\tsentence2\n0\t31493\t31493\ttravel\t( x )\t( y )\t(ROOT x)\t(ROOT y)\tHierbas, ans seco, ans dulce, and frigola.\tThe liquors are all Spanish.\n',
  'QNLI/train.tsv': 'index\tquestion\tsentence\tlabel\n0\tWhen did the third Digimon series begin?\tUnlike the two seasons before it, it was darker.\tnot_entailment\n',
  'RTE/dev.tsv': 'index\tsentence1\tsentence2\tlabel\n0\tDana Reeve, the widow of Christopher Reeve, has died.\tChristopher Reeve had an accident.\tnot_entailment\n',
  'WNLI/train.tsv': 'index\tsentence1\tsentence2\tlabel\n0\tI stuck a pin through a carrot.\tThe carrot had a hole.\t1\n',
};

test('glueTask: every GLUE layout, root or task directory, test splits unlabeled, MNLI dev sets', () => {
  const root = join(tmp, 'glue');
  for (const [rel, text] of Object.entries(GLUE_FILES)) put(join('glue', rel), text);
  const cola = glueTask('cola', root, 'train');
  assert.equal(cola.examples.map((e) => [e.text, e.label]), [["Our friends won't buy this analysis, let alone the next one we propose.", '1'], ['They drank the pub.', '0']]);
  assert.equal(cola.labels, ['0', '1']);
  assert.is(glueTask('cola', join(root, 'CoLA'), 'dev').examples.length, 1, 'the task directory itself works too');
  const colaTest = glueTask('cola', root, 'test');
  assert.ok(colaTest.unlabeled);
  assert.equal(colaTest.examples, [{ text: 'Bill whistled past the house.', label: '', id: '0' }]);
  assert.is(glueTask('sst2', root, 'train').examples[1].text, 'the greatest musicians ');
  assert.is(glueTask('sst2', root, 'dev').examples[0].label, '1');
  const mrpc = glueTask('mrpc', root, 'train').examples[0];
  assert.equal([mrpc.textB, mrpc.label], ['Referring to him as only " the witness " , Amrozi accused his brother .', '1']);
  assert.is(glueTask('mrpc', root, 'test').examples[0].id, '0');
  const qqp = glueTask('qqp', root, 'train');
  assert.is(qqp.skipped, 1, 'the malformed QQP row is skipped and counted');
  assert.equal(qqp.examples.map((e) => [e.id, e.label]), [['133273', '0'], ['402555', '1']]);
  assert.is(glueTask('qqp', root, 'test').examples[0].textB, 'Find the remainder when 23^24 is divided by 24?');
  const sts = glueTask('stsb', root, 'train');
  assert.is(sts.labels, null);
  assert.equal(sts.examples[0], { text: 'A plane is taking off.', textB: 'An air plane is taking off.', label: 5 });
  assert.ok(Number.isNaN(glueTask('stsb', root, 'test').examples[0].label as number));
  const mnli = glueTask('mnli', root, 'train');
  assert.equal(mnli.labels, ['contradiction', 'entailment', 'neutral']);
  assert.is(mnli.examples[0].label, 'neutral');
  assert.is(glueTask('mnli', root, 'dev').examples[0].text, 'The new rights are nice enough', "'dev' is dev_matched");
  assert.is(glueTask('mnli', root, 'dev_mismatched').examples[0].label, 'contradiction');
  assert.is(glueTask('mnli', root, 'test').examples[0].textB, 'The liquors are all Spanish.');
  assert.is(glueTask('qnli', root, 'train').examples[0].label, 'not_entailment');
  assert.is(glueTask('rte', root, 'dev').examples[0].textB, 'Christopher Reeve had an accident.');
  assert.is(glueTask('wnli', root, 'train').examples[0].label, '1');
  // errors
  throwsWith(() => glueTask('rte', root, 'train'), 'GLUE rte train', 'train.tsv', join(root, 'RTE', 'train.tsv'));
  throwsWith(() => glueTask('sst2', root, 'dev_mismatched'), 'unknown split');
  throwsWith(() => glueTask('nope' as 'cola', root, 'train'), 'unknown GLUE task', 'sst2');
  put('glue/SST-2/train.tsv', 'sentence\tlabel\ngood\t1\nbad\tnegative\n');
  throwsWith(() => glueTask('sst2', root, 'train'), 'SST-2/train.tsv:3', '"negative"', 'not one of "0", "1"');
  put('glue/STS-B/dev.tsv', GLUE_FILES['STS-B/train.tsv'].replace('5.000', 'five'));
  throwsWith(() => glueTask('stsb', root, 'dev'), 'STS-B/dev.tsv:2', '"five"', 'not a number');
});

test('SQuAD v1.1 and v2: examples, unanswerable questions, structural errors', () => {
  const v2 = {
    version: 'v2.0',
    data: [{ title: 'Normans', paragraphs: [{
      context: 'The Normans were the people who in the 10th and 11th centuries gave their name to Normandy.',
      qas: [
        { id: 'q1', question: 'In what country is Normandy located?', answers: [], is_impossible: true, plausible_answers: [{ text: 'France', answer_start: 0 }] },
        { id: 'q2', question: 'When?', answers: [{ text: '10th and 11th centuries', answer_start: 39 }, { text: '10th', answer_start: 39 }] },
      ],
    }] }],
  };
  const p = put('squad/dev-v2.json', JSON.stringify(v2));
  const ex = readSquad(p);
  assert.is(ex.length, 2);
  assert.equal(ex[0].answers, []);
  assert.equal(ex[1].answers[0], { text: '10th and 11th centuries', start: 39 });
  assert.is(ex[1].context.slice(39, 39 + ex[1].answers[0].text.length), '10th and 11th centuries');
  throwsWith(() => parseSquad({ data: [{ paragraphs: [{ context: 'abc', qas: [{ id: 'x', question: 'q', answers: [{ text: 'abcd', answer_start: 0 }] }] }] }] }, 's.json'), 's.json', 'data[0].paragraphs[0].qas[0].answers[0]', 'outside');
  throwsWith(() => parseSquad({ version: '1.1' }, 's.json'), 's.json', '"data" array');
  throwsWith(() => readSquad(put('squad/bad.json', '{"data": [')), 'bad.json', 'invalid JSON');
});

test('Brown tags: word/tag parsing at the last slash, NLTK universal mapping', () => {
  const s = parseBrownTagged('\n\n\tThe/at Fulton/np-tl 1/2/cd wasn\'t/bedz* ./.\n\n\tHi/uh !/.\n', 'ca01');
  assert.equal(s[0].words, ['The', 'Fulton', '1/2', "wasn't", '.']);
  assert.equal(s[0].tags, ['AT', 'NP-TL', 'CD', 'BEDZ*', '.']);
  assert.is(s[0].id, 'ca01:3');
  assert.is(s.length, 2);
  throwsWith(() => parseBrownTagged('\tgood/jj bad\n', 'cb02'), 'cb02:1', '"bad"', 'word/tag');
  // spot checks against NLTK's en-brown.map (including its surprising entries)
  const expect: [string, string][] = [['AT', 'DET'], ['NP-TL', 'NOUN'], ['NN-HL', 'NOUN'], ['BEDZ*', 'VERB'], ['*', 'ADV'], ['AP$', 'PRT'],
    ['PPS+BEZ', 'PRT'], ['FW-NN', 'X'], ['FW-IN+NP-TL', 'X'], ['CS', 'ADP'], ['TO', 'PRT'], ['PP$', 'DET'], ['PP$$', 'PRON'], ['OD', 'ADJ'],
    ['CD$', 'NOUN'], ['NIL', 'X'], ['``', '.'], ['--', '.'], ['QL', 'ADV'], ['WPS', 'PRON'], ['MD*', 'VERB'], ['JJ$-TL', 'PRT'], ['np$', 'NOUN']];
  for (const [b, u] of expect) assert.is(brownToUniversal(b), u, b);
  assert.is(brownToUniversal('NOT-A-TAG'), 'X');
  for (const t of ['AT', 'NN', 'VB', 'JJ', 'RB', 'IN', 'CC', 'CD', 'PPS', 'RP', 'FW-NN', '.']) assert.ok(UNIVERSAL_TAGS.includes(brownToUniversal(t) as typeof UNIVERSAL_TAGS[number]));
});

test('stratifiedSplit: proportions per class, order independence, duplicates stay together', () => {
  const items = Array.from({ length: 1000 }, (_, i) => ({ c: i % 4 === 0 ? 'b' : 'a', key: `k${i % 950}` }));
  const [tr, dv, te] = stratifiedSplit(items, (x) => x.c, (x) => x.key, [0.8, 0.1, 0.1]);
  assert.is(tr.length + dv.length + te.length, 1000);
  for (const [part, frac] of [[tr, 0.8], [dv, 0.1], [te, 0.1]] as const) {
    const b = part.filter((x) => x.c === 'b').length;
    assert.ok(Math.abs(b - 250 * frac) <= 3, `class b in a split: ${b} vs ${250 * frac}`);
  }
  const where = new Map<string, number>();
  [tr, dv, te].forEach((p, s) => p.forEach((x) => {
    const k = `${x.c}/${x.key}`;
    assert.ok(!where.has(k) || where.get(k) === s, `duplicate ${k} split across sets`);
    where.set(k, s);
  }));
  const shuffled = [...items].reverse();
  const again = stratifiedSplit(shuffled, (x) => x.c, (x) => x.key, [0.8, 0.1, 0.1]);
  assert.equal(again.map((p) => p.map((x) => x.key).sort()), [tr, dv, te].map((p) => p.map((x) => x.key).sort()));
  assert.throws(() => stratifiedSplit(items, (x) => x.c, (x) => x.key, [-1, 1]), (e: Error) => e instanceof DatasetError);
});

test('e-mail decoding pieces: quoted-printable, base64, RFC 2047 words, charsets, HTML', () => {
  const td = new TextDecoder();
  assert.is(td.decode(decodeQuotedPrintable('caf=C3=A9 soft=\nbreak =3D ok =ZZ')), 'café softbreak = ok =ZZ');
  assert.is(td.decode(decodeBase64('aGVs\r\nbG8g\nd29y bGQ=')), 'hello world');
  assert.is(decodeMimeWords('=?UTF-8?B?w7xiZXI=?= =?iso-8859-1?Q?caf=E9_au_lait?= plain'), 'übercafé au lait plain');
  assert.is(decodeCharset(new Uint8Array([0x63, 0x61, 0x66, 0xe9])), 'café', 'invalid UTF-8 falls back to windows-1252');
  assert.is(decodeCharset(new Uint8Array([0x93, 0x68, 0x69, 0x94, 0x80]), 'iso-8859-1'), '“hi”€', 'latin-1 labels mean windows-1252');
  assert.is(decodeCharset(new Uint8Array([0xc4, 0xe3, 0xba, 0xc3]), 'gb2312'), '你好');
  assert.is(decodeCharset(new Uint8Array([0x61]), 'x-no-such-charset'), 'a');
  assert.is(decodeWindows1252(new Uint8Array([0x80, 0x85, 0x96, 0x9f, 0xa9, 0xe9, 0x41])), '€…–Ÿ©éA');
  const text = htmlToText('<html><head><title>T</title><style>p{}</style></head><body><!-- c --><p>Win &amp; save&nbsp;now</p>a<br>b<script>x()</script><table><tr><td>1</td><td>2</td></tr></table>&#8364;5 &#x41; &bogus;</body></html>');
  assert.not.match(text, /[<>]|p\{\}|x\(\)|\bT\b/);
  assert.match(text, /Win & save now\n/);
  assert.match(text, /a\nb/);
  assert.match(text, /1\s+2/);
  assert.match(text, /€5 A &bogus;/);
  assert.is(htmlToText('<head><meta x><body>kept</body>').trim(), 'kept', 'an unclosed <head> stops at <body>');
});

test('cleanEmail: headers dropped except Subject, multipart, base64, quoted-printable, HTML, charsets', () => {
  const b64 = Buffer.from('Cheap <b>meds</b> &amp; more!', 'utf8').toString('base64');
  const raw = [
    'From spammer@example.com  Thu Aug 22 12:36:23 2002',
    'Return-Path: <spammer@example.com>',
    'Received: from relay (relay [10.0.0.1])',
    '\tby mx with ESMTP id 123',
    'X-Spam-Status: Yes, hits=12.3',
    'Subject: =?utf-8?Q?Gro=C3=9Fe?=',
    '  Savings',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="outer"',
    '',
    'This is a multi-part message in MIME format.',
    '--outer',
    'Content-Type: multipart/alternative; boundary=inner',
    '',
    '--inner',
    'Content-Type: text/plain; charset=iso-8859-1',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Caf=E9 prices =',
    'today.',
    '--inner',
    'Content-Type: text/html',
    '',
    '<p>HTML twin that must not appear</p>',
    '--inner--',
    '--outer',
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    b64,
    '--outer',
    'Content-Type: image/gif; name="x.gif"',
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="x.gif"',
    '',
    'R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7R0lGODlhAQABAIAAAAAAAP',
    '--outer--',
    'epilogue',
  ].join('\r\n');
  const e = parseEmail(new TextEncoder().encode(raw));
  assert.is(e.subject, 'Große Savings');
  assert.is(e.headers['x-spam-status'], 'Yes, hits=12.3');
  const clean = cleanEmail(new TextEncoder().encode(raw));
  assert.is(clean, 'Große Savings\n\nCafé prices today.\n\nCheap meds & more!');
  assert.not.match(clean, /X-Spam|Received|relay|multi-part|R0lGOD|HTML twin|epilogue/);
  // a message with no MIME headers and an undeclared 8-bit body
  const latin = new Uint8Array([...new TextEncoder().encode('Subject: hi\n\nna'), 0xef, 0x76, 0x65]);
  assert.is(cleanEmail(latin), 'hi\n\nnaïve');
  // undeclared base64 blobs and PGP signatures are dropped from plain text
  const pgp = 'Subject: s\n\nsigned text\n-----BEGIN PGP SIGNATURE-----\nVersion: GnuPG\n\niD8DBQE9\n-----END PGP SIGNATURE-----\n' +
    'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9w\n'.repeat(4) + 'end';
  assert.is(cleanEmail(pgp), 's\n\nsigned text\n\nend');
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
