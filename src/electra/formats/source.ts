// Where a model directory's files come from: a ModelSource maps a file name (config.json, model.safetensors,
// vocab.txt, …) to its bytes, and names each file the way errors should name it. The loaders
// (electra/tasks/load.ts) parse and check bytes only, so one loader serves every source: a directory in Node
// (src/node/files.ts), URLs (fetch), File/Blob objects (a model folder dropped on a page), or bytes in memory.
// Browser-safe: fetch, Blob and TextEncoder are web APIs (Node has them too). A source reads a file only when
// asked and never guesses: a file that is not there is `null`; any other failure throws, naming the file.

import { CheckpointError } from './safetensors.js';

/** Where files are, for messages: a directory, a base URL, dropped files. */
export interface ModelLocation {
  /** The whole source in one phrase: `runs/tiny/discriminator`, `http://localhost:8080/runs/tiny/discriminator/`. */
  readonly label: string;
  /** One file as errors name it: `runs/tiny/discriminator/config.json`, a full URL, a dropped file's path. */
  where(name: string): string;
}

export interface ModelSource extends ModelLocation {
  /** The file's bytes, or null when the source has no such file. Any other failure throws, naming the file. */
  read(name: string): Promise<Uint8Array | null>;
}

export interface UrlSourceOptions {
  /** Resolves a relative base (default: the page's address, `globalThis.location`). */
  relativeTo?: string | URL;
  /** Passed to every fetch (credentials, headers, an AbortSignal). */
  init?: RequestInit;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

/**
 * Files under a base URL: `urlSource('/runs/tiny/discriminator')` reads `/runs/tiny/discriminator/config.json`
 * and so on. 404 and 410 mean "no such file"; other HTTP statuses and network failures are errors naming the URL.
 */
export function urlSource(base: string | URL, opts: UrlSourceOptions = {}): ModelSource {
  const rel = opts.relativeTo ?? (globalThis as { location?: { href?: string } }).location?.href;
  let root: URL;
  try { root = new URL(base, rel); } catch { throw new CheckpointError(String(base), 'not a URL (give an absolute URL, or a path on a page)'); }
  if (!root.pathname.endsWith('/')) root.pathname += '/';
  const get = opts.fetch ?? globalThis.fetch;
  const where = (name: string) => new URL(name, root).href;
  return {
    label: root.href,
    where,
    async read(name) {
      const url = where(name);
      let res: Response;
      try { res = await get(url, opts.init); } catch (e) { throw new CheckpointError(url, `cannot fetch (${(e as Error).message})`); }
      if (res.status === 404 || res.status === 410) { await res.body?.cancel(); return null; }
      if (!res.ok) { await res.body?.cancel(); throw new CheckpointError(url, `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`); }
      try { return new Uint8Array(await res.arrayBuffer()); } catch (e) { throw new CheckpointError(url, `download failed (${(e as Error).message})`); }
    },
  };
}

/** A file as a page gets it: a File (its name, and webkitRelativePath for a folder pick), or a Blob with a path. */
export type DroppedFile = File | { path: string; file: Blob };

function pathOf(f: DroppedFile): string {
  if ('path' in f && 'file' in f) return f.path;
  const file = f as File;
  return (file as { webkitRelativePath?: string }).webkitRelativePath || file.name;
}

function blobOf(f: DroppedFile): Blob { return 'path' in f && 'file' in f ? f.file : (f as File); }

const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);
const folderOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');

/**
 * One model directory's files (File objects from an <input type=file> or a drop): read by base name, so the
 * folder they came from does not matter. Two files with one name are refused: drop one model directory at a
 * time, or split a dropped run folder with `folderSources`.
 */
export function fileSource(files: Iterable<DroppedFile> | ArrayLike<DroppedFile>, label?: string): ModelSource {
  const byName = new Map<string, { path: string; blob: Blob }>();
  for (const f of Array.from(files)) {
    const path = pathOf(f), name = baseName(path);
    const prev = byName.get(name);
    if (prev) throw new CheckpointError(label ?? 'dropped files', `two files named ${name} (${prev.path} and ${path}): give one model directory at a time`);
    byName.set(name, { path, blob: blobOf(f) });
  }
  const folders = new Set([...byName.values()].map((e) => folderOf(e.path)));
  const lbl = label ?? (folders.size === 1 && [...folders][0] ? [...folders][0] : `dropped files (${[...byName.keys()].sort().join(', ')})`);
  return {
    label: lbl,
    where: (name) => byName.get(name)?.path ?? name,
    async read(name) {
      const e = byName.get(name);
      if (!e) return null;
      try { return new Uint8Array(await e.blob.arrayBuffer()); } catch (err) { throw new CheckpointError(e.path, `cannot read (${(err as Error).message})`); }
    },
  };
}

/**
 * Dropped files grouped by the folder that holds them (paths as `fileSource` reads them): a dropped run
 * directory gives `tiny/discriminator` and `tiny/generator`. Keys are folder paths ('' for loose files).
 */
export function folderSources(files: Iterable<DroppedFile> | ArrayLike<DroppedFile>): Map<string, ModelSource> {
  const groups = new Map<string, DroppedFile[]>();
  for (const f of Array.from(files)) {
    const folder = folderOf(pathOf(f));
    let g = groups.get(folder);
    if (!g) groups.set(folder, (g = []));
    g.push(f);
  }
  return new Map([...groups].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([folder, g]) => [folder, fileSource(g, folder || undefined)]));
}

/** Files held in memory (name → bytes or text), e.g. a model trained in the page, or a test's fixture. */
export function memorySource(files: Map<string, Uint8Array | string> | Record<string, Uint8Array | string>, label = 'memory'): ModelSource {
  const m = files instanceof Map ? files : new Map(Object.entries(files));
  const enc = new TextEncoder();
  return {
    label,
    where: (name) => `${label}/${name}`,
    async read(name) {
      const v = m.get(name);
      return v === undefined ? null : typeof v === 'string' ? enc.encode(v) : v;
    },
  };
}
