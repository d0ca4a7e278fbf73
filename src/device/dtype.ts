// Element types. f32 is the working type on every device; the CPU device can hold f32 tensors as
// float64 (for finite-difference gradient checks). i32 carries token ids, labels and masks-as-ints.

export type DType = 'f32' | 'i32';

/** The CPU-side array of a tensor's elements. */
export type HostArray = Float32Array | Float64Array | Int32Array;

export function hostArray(dtype: DType, n: number, f64 = false): HostArray {
  return dtype === 'i32' ? new Int32Array(n) : f64 ? new Float64Array(n) : new Float32Array(n);
}

export const BYTES: Record<DType, number> = { f32: 4, i32: 4 };
