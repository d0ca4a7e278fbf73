// `electra tokenize`: text in (arguments, or UTF-8 lines on stdin), one output line per input line.
import { guard, tokenizerFrom, parse } from './text-common.js';
import type { WordPieceTokenizer } from '../text/wordpiece.js';
import { firstInvalidUtf8 } from '../text/node/files.js';

export const help = `usage: electra tokenize (--vocab vocab.txt | --tokenizer tokenizer.json|DIR) [options] [TEXT...]

Tokenizes each TEXT argument, or each line of UTF-8 text on stdin, and writes one line per input line.

  --vocab FILE        a vocab.txt (tokenizer_config.json beside it is honoured)
  --tokenizer PATH    a Hugging Face tokenizer.json or a directory holding one
  --ids               space-separated ids without [CLS]/[SEP] (for scripts)
  --tokens            space-separated WordPiece tokens (the default)
  --json              the full encoding with [CLS]/[SEP]: ids, typeIds, attentionMask, offsets
  --cased             do not lowercase or strip accents`;

function render(tok: WordPieceTokenizer, line: string, mode: 'ids' | 'tokens' | 'json'): string {
  if (mode === 'ids') return tok.tokenizeToIds(line).join(' ');
  if (mode === 'tokens') return tok.tokenize(line).join(' ');
  const e = tok.encode(line);
  return JSON.stringify({ ids: e.ids, typeIds: e.typeIds, attentionMask: e.attentionMask, offsets: e.offsets });
}

export function run(argv: string[]): Promise<number> {
  return guard('tokenize', async () => {
    const { values, positionals } = parse(argv, {
      vocab: { type: 'string' }, tokenizer: { type: 'string' }, ids: { type: 'boolean' }, tokens: { type: 'boolean' },
      json: { type: 'boolean' }, cased: { type: 'boolean' },
  });
  const tok = tokenizerFrom(values);
  const mode = values.ids ? 'ids' : values.json ? 'json' : 'tokens';
  if (positionals.length > 0) {
    for (const t of positionals) process.stdout.write(render(tok, t, mode) + '\n');
    return 0;
  }
  // Stream stdin: strict UTF-8 (an invalid byte is an error naming its offset), output in large writes.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let rest = '', offset = 0, out = '';
  const flush = async () => {
    if (!out) return;
    const chunk = out; out = '';
    if (!process.stdout.write(chunk)) await new Promise<void>((r) => process.stdout.once('drain', () => r()));
  };
  for await (const chunk of process.stdin as AsyncIterable<Uint8Array>) {
    let text: string;
    try { text = decoder.decode(chunk, { stream: true }); } catch {
      throw new Error(`<stdin>: invalid UTF-8 at byte ${offset + Math.max(0, firstInvalidUtf8(chunk))}`);
    }
    offset += chunk.length;
    const lines = (rest + text).split('\n');
    rest = lines.pop()!;
    for (const l of lines) out += render(tok, l.endsWith('\r') ? l.slice(0, -1) : l, mode) + '\n';
    if (out.length > 1 << 16) await flush();
  }
  try { rest += decoder.decode(); } catch { throw new Error(`<stdin>: input ends inside a UTF-8 sequence (byte ${offset})`); }
  if (rest) out += render(tok, rest.endsWith('\r') ? rest.slice(0, -1) : rest, mode) + '\n';
  await flush();
  return 0;
  });
}
