// The thin bridge between checkpoint host tensors (HF names, plain typed arrays) and a module tree's engine
// parameters (namedParameters: the dotted path is the HF name). Writing copies into the existing parameter
// storages in place (shapes must match exactly); reading is the one sanctioned readback, at checkpoint time.

import { namedParameters } from '../../nn/module.js';
import { CheckpointError, type HostTensor } from './safetensors.js';
import { IGNORED_BUFFERS, TIED } from './hf.js';

/** Every parameter of `root` as f32/i32 host copies, in walk order. */
export async function readStateDict(root: object): Promise<Map<string, HostTensor>> {
  const out = new Map<string, HostTensor>();
  for (const [name, t] of namedParameters(root)) {
    const d = await t.data();
    out.set(name, t.dtype === 'i32'
      ? { dtype: 'i32', shape: [...t.shape], data: d instanceof Int32Array ? d : Int32Array.from(d) }
      : { dtype: 'f32', shape: [...t.shape], data: d instanceof Float32Array ? d : Float32Array.from(d) });
  }
  return out;
}

export interface AssignOptions {
  /** Names in the file that the module lacks are errors unless this says to skip them (e.g. another head). */
  ignoreUnexpected?: (name: string) => boolean;
  /** Module parameters the file lacks are errors unless this says to keep their current values (e.g. a new head). */
  allowMissing?: (name: string) => boolean;
}

/**
 * Copies `tensors` into the module's parameters by name. All names, shapes and dtypes are checked first and
 * reported together; nothing is written unless everything matches. Tied aliases and ignored buffers in the
 * file are skipped when the module has no parameter of that name (a tied parameter is walked once).
 */
export function assignStateDict(root: object, tensors: Map<string, HostTensor>, source: string, opts: AssignOptions = {}): void {
  const params = new Map(namedParameters(root));
  const problems: string[] = [];
  for (const [name, p] of params) {
    const t = tensors.get(name);
    if (!t) { if (!opts.allowMissing?.(name)) problems.push(`missing '${name}'`); continue; }
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      problems.push(`'${name}' has shape [${t.shape}], the model expects [${p.shape}]`);
    } else if (t.dtype !== p.dtype) {
      problems.push(`'${name}' is ${t.dtype}, the model expects ${p.dtype}`);
    }
  }
  for (const name of tensors.keys()) {
    if (params.has(name) || name in TIED || IGNORED_BUFFERS.includes(name) || opts.ignoreUnexpected?.(name)) continue;
    problems.push(`unexpected '${name}'`);
  }
  if (problems.length) {
    const more = problems.length > 10 ? ` (and ${problems.length - 10} more)` : '';
    throw new CheckpointError(source, `does not fit the model: ${problems.slice(0, 10).join('; ')}${more}`);
  }
  for (const [name, p] of params) {
    const t = tensors.get(name);
    if (t) p.check(`assign ${name}`).device.write(p.storage, t.data, p.dtype);
  }
}
