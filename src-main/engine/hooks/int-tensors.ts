/**
 * Row-major integer tensors as flat arrays with their shapes: the few ops shape arithmetic uses (numpy
 * broadcasting, N-D Slice, Concat, Transpose), for folding constants. Small by construction (index lists).
 */

export interface IntTensor {
  data: number[];
  shape: number[];
}

const size = (shape: number[]): number => shape.reduce((a, d) => a * d, 1);

function strides(shape: number[]): number[] {
  const out = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) out[i] = (out[i + 1] as number) * (shape[i + 1] as number);
  return out;
}

/** The multi-index of flat position `flat` in `shape`. */
function unravel(flat: number, shape: number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i] as number;
    index[i] = flat % d;
    flat = Math.floor(flat / d);
  }
  return index;
}

/** numpy broadcasting of two operands, or null when their shapes do not broadcast. */
export function broadcast(a: IntTensor, b: IntTensor, fn: (x: number, y: number) => number): IntTensor | null {
  if (a.data.length !== size(a.shape) || b.data.length !== size(b.shape)) return null;
  const rank = Math.max(a.shape.length, b.shape.length);
  const pad = (s: number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const [as, bs] = [pad(a.shape), pad(b.shape)];
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) {
    const [x, y] = [as[i] as number, bs[i] as number];
    if (x !== y && x !== 1 && y !== 1) return null;
    shape.push(Math.max(x, y));
  }
  const [sa, sb] = [strides(as), strides(bs)];
  const data = Array.from({ length: size(shape) }, (_, flat) => {
    const index = unravel(flat, shape);
    let ia = 0;
    let ib = 0;
    index.forEach((v, i) => {
      ia += (as[i] === 1 ? 0 : v) * (sa[i] as number);
      ib += (bs[i] === 1 ? 0 : v) * (sb[i] as number);
    });
    return fn(a.data[ia] as number, b.data[ib] as number);
  });
  return { data, shape };
}

export function transpose(t: IntTensor, perm: number[]): IntTensor {
  const shape = perm.map((p) => t.shape[p] as number);
  const source = strides(t.shape);
  const data = Array.from({ length: t.data.length }, (_, flat) => {
    const index = unravel(flat, shape);
    return t.data[index.reduce((at, v, i) => at + v * (source[perm[i] as number] as number), 0)] as number;
  });
  return { data, shape };
}

export function concat(parts: IntTensor[], axis: number): IntTensor | null {
  const first = parts[0];
  if (!first) return null;
  const rank = first.shape.length;
  const at = axis < 0 ? axis + rank : axis;
  if (parts.some((p) => p.shape.length !== rank || p.shape.some((d, i) => i !== at && d !== first.shape[i]))) return null;
  const outer = size(first.shape.slice(0, at));
  const data: number[] = [];
  for (let o = 0; o < outer; o++)
    for (const p of parts) {
      const block = size(p.shape.slice(at));
      data.push(...p.data.slice(o * block, (o + 1) * block));
    }
  const shape = [...first.shape];
  shape[at] = parts.reduce((n, p) => n + (p.shape[at] as number), 0);
  return { data, shape };
}

/** ONNX Slice (opset 10+ semantics: negative steps, clamped starts and ends). */
export function slice(t: IntTensor, starts: number[], ends: number[], axes: number[], steps: number[]): IntTensor | null {
  const rank = t.shape.length;
  const begin = new Array<number>(rank).fill(0);
  const step = new Array<number>(rank).fill(1);
  const count = [...t.shape];
  for (let k = 0; k < axes.length; k++) {
    const a = (axes[k] as number) < 0 ? (axes[k] as number) + rank : (axes[k] as number);
    const n = t.shape[a];
    const s = steps[k] ?? 1;
    if (n === undefined || s === 0) return null;
    const wrap = (v: number) => (v < 0 ? v + n : v);
    const lo =
      s > 0 ? Math.min(Math.max(wrap(starts[k] as number), 0), n) : Math.min(Math.max(wrap(starts[k] as number), 0), n - 1);
    const hi = s > 0 ? Math.min(Math.max(wrap(ends[k] as number), 0), n) : Math.min(Math.max(wrap(ends[k] as number), -1), n - 1);
    begin[a] = lo;
    step[a] = s;
    count[a] = Math.max(0, Math.ceil((hi - lo) / s));
  }
  const source = strides(t.shape);
  const data = Array.from({ length: size(count) }, (_, flat) => {
    const index = unravel(flat, count);
    return t.data[
      index.reduce((at, v, i) => at + ((begin[i] as number) + v * (step[i] as number)) * (source[i] as number), 0)
    ] as number;
  });
  return { data, shape: count };
}
