/**
 * Values known before running the model: initializers and Constant nodes. Gradient rules need them for
 * attributes that moved to inputs in newer opsets (Clip's min/max, Slice's starts, Pad's pads, Reshape's
 * shape) and for folding constants such as BatchNormalization's scale.
 *
 * Given the graph and its static shapes (an analysis is made at one concrete input shape, and the hooked
 * model is pinned to it), integer values computed from shapes count as known too: exporters write
 * torch.chunk, flatten and view as Shape → Gather → Div → Slice/Reshape chains, and their results are
 * constants at that shape. Only ops whose integer result depends on nothing but shapes and constants are
 * folded; anything that reads a tensor's values (ArgMax, NonZero…) stays unknown.
 */
import type { NodeProto, TensorProto } from 'onnx-buf';
import type { TensorName } from '../../../src-shared/api';
import { knownShape, type GraphAnalysis } from '../graph/analyze-graph';
import type { GraphIndex } from '../graph/graph-index';
import type { ModelProto } from '../onnx/decode-model';
import { copyBytes, floatValues } from '../onnx/tensor-data';
import { broadcast, concat, slice, transpose, type IntTensor } from './int-tensors';

const INT64 = 7;
const INT32 = 6;

function intValues(t: TensorProto): number[] | null {
  const n = t.dims.reduce((a, d) => a * Number(d), 1);
  if (t.dataType === INT64) {
    if (t.rawData.byteLength >= n * 8) return Array.from(new BigInt64Array(copyBytes(t.rawData, n * 8)), Number);
    return t.int64Data.length === n ? t.int64Data.map(Number) : null;
  }
  if (t.dataType === INT32) {
    if (t.rawData.byteLength >= n * 4) return Array.from(new Int32Array(copyBytes(t.rawData, n * 4)));
    return t.int32Data.length === n ? [...t.int32Data] : null;
  }
  return null;
}

/** What folding shape arithmetic needs: the graph's producers, and a tensor's static shape and type. */
export interface ShapeContext {
  index: GraphIndex;
  shapeOf(name: string): number[] | null;
  dtypeOf(name: string): string | null;
}

const INTEGER_TYPES = new Set(['int64', 'int32', 'bool']);

/** Shape arithmetic is small; anything longer is not an index list. */
const MAX_FOLDED = 64;

/** Ops whose output shape depends on the values of their data, not only on shapes and constants. */
const DATA_SHAPED = new Set(['NonZero', 'Compress', 'Unique', 'NonMaxSuppression', 'Loop', 'If', 'Scan', 'StringSplit']);

/**
 * Inputs whose values (not shapes) set an op's output shape: the shape is only as static as those values
 * are constant. Axes given as inputs count too (opset 13+ Squeeze, Unsqueeze, ReduceSum, Split).
 */
const SHAPING_INPUTS: Record<string, number[]> = {
  Reshape: [1],
  Expand: [1],
  Tile: [1],
  Slice: [1, 2, 3, 4],
  Pad: [1],
  Resize: [1, 2, 3],
  Upsample: [1],
  Range: [0, 1, 2],
  ConstantOfShape: [0],
  OneHot: [1],
  TopK: [1],
  Squeeze: [1],
  Unsqueeze: [1],
  Split: [1],
  ReduceSum: [1],
  ReduceMean: [1],
  ReduceMax: [1],
  ReduceMin: [1],
  ReduceProd: [1],
  ReduceL2: [1],
  CenterCropPad: [1],
};

export class ConstantValues {
  private readonly tensors = new Map<string, TensorProto>();
  private readonly nodes = new Map<string, NodeProto>();
  private readonly aliases = new Map<string, string>();
  private readonly folded = new Map<string, number[] | null>();
  private readonly staticShapes = new Map<string, boolean>();

  /** The analysed model's constants, shape arithmetic at the analysis's input shape included. */
  static of(analysis: GraphAnalysis): ConstantValues {
    return new ConstantValues(analysis.runnable, {
      index: analysis.index,
      shapeOf: (name) => knownShape(analysis, name),
      dtypeOf: (name) => analysis.shapes.get(name as TensorName)?.dtype ?? null,
    });
  }

  constructor(
    model: ModelProto,
    private readonly shapes: ShapeContext | null = null,
  ) {
    for (const t of model.graph?.initializer ?? []) this.tensors.set(t.name, t);
    for (const n of model.graph?.node ?? []) {
      if (n.opType === 'Constant' && n.output[0]) this.nodes.set(n.output[0], n);
      // PyTorch's exporter writes a parameter equal to another (BatchNorm weights of ones in a fresh model)
      // as an Identity of the first.
      if (n.opType === 'Identity' && n.output[0] && n.input[0]) this.aliases.set(n.output[0], n.input[0]);
    }
  }

  /** The constant an Identity chain ends at, or the name itself. */
  private resolve(name: string): string {
    let current = name;
    for (let hops = 0; hops < 64 && this.aliases.has(current); hops++) current = this.aliases.get(current) as string;
    return current;
  }

  private tensor(alias: string): TensorProto | null {
    const name = this.resolve(alias);
    const t = this.tensors.get(name);
    if (t) return t;
    const node = this.nodes.get(name);
    const attr = node?.attribute.find((a) => a.name === 'value');
    return attr?.t ?? null;
  }

  isConstant(alias: TensorName): boolean {
    const name = this.resolve(alias);
    return this.tensors.has(name) || this.nodes.has(name);
  }

  floats(alias: string): Float32Array | null {
    const t = this.tensor(alias);
    if (t) return floatValues(t);
    const node = this.nodes.get(this.resolve(alias));
    const f = node?.attribute.find((a) => a.name === 'value_float' || a.name === 'value_floats');
    if (f) return f.name === 'value_float' ? Float32Array.of(f.f) : Float32Array.from(f.floats);
    return null;
  }

  ints(name: string): number[] | null {
    const t = this.tensor(name);
    if (t) return intValues(t);
    const node = this.nodes.get(this.resolve(name));
    const i = node?.attribute.find((a) => a.name === 'value_int' || a.name === 'value_ints');
    if (i) return i.name === 'value_int' ? [Number(i.i)] : i.ints.map(Number);
    return this.fold(name);
  }

  /** The integer value of a shape computation, flattened, or null. Memoised; cycles cannot occur (a DAG). */
  private fold(name: string): number[] | null {
    if (!this.shapes) return null;
    if (this.folded.has(name)) return this.folded.get(name) ?? null;
    this.folded.set(name, null);
    const at = this.shapes.index.producer.get(name as TensorName);
    const node = at === undefined ? undefined : this.shapes.index.nodes[at];
    // Integer results only: a float Div or Cast would not truncate where this folding does.
    const integer = INTEGER_TYPES.has(this.shapes.dtypeOf(name) ?? '');
    const value = integer && node && node.output[0] === name ? this.evaluate(node) : null;
    const kept = value && value.length <= MAX_FOLDED && value.every(Number.isFinite) ? value : null;
    this.folded.set(name, kept);
    return kept;
  }

  /**
   * Whether `name`'s shape follows from the pinned input shape and constants alone. The probe that measured
   * the shapes ran on one (zero) input: a NonZero count or a Reshape to a computed size would fold to what
   * that input gave, wrong for any other.
   */
  private shapeIsStatic(name: string): boolean {
    const known = this.staticShapes.get(name);
    if (known !== undefined) return known;
    this.staticShapes.set(name, false);
    const index = this.shapes?.index;
    const at = index?.producer.get(name as TensorName);
    let result: boolean;
    if (at === undefined)
      result = true; // a graph input (pinned) or a constant
    else {
      const node = index?.nodes[at];
      if (!node || (node.domain !== '' && node.domain !== 'ai.onnx') || DATA_SHAPED.has(node.opType)) result = false;
      else {
        const shaping = SHAPING_INPUTS[node.opType] ?? [];
        result = node.input.every((input, k) =>
          !input ? true : shaping.includes(k) ? this.ints(input) !== null : this.shapeIsStatic(input),
        );
      }
    }
    this.staticShapes.set(name, result);
    return result;
  }

  /** An input's folded value with its static shape, or null. */
  private tensorOf(name: string | undefined): IntTensor | null {
    if (!name) return null;
    const data = this.ints(name);
    const shape = this.shapes?.shapeOf(name) ?? this.tensor(name)?.dims.map(Number) ?? null;
    return data && shape && data.length === shape.reduce((a, d) => a * d, 1) ? { data, shape } : null;
  }

  private evaluate(node: NodeProto): number[] | null {
    const attr = (n: string) => node.attribute.find((a) => a.name === n);
    const input = (k: number): number[] | null => (node.input[k] ? this.ints(node.input[k]) : null);
    switch (node.opType) {
      case 'Shape': {
        const shape = this.shapes?.shapeOf(node.input[0] ?? '');
        if (!shape || !this.shapeIsStatic(node.input[0] ?? '')) return null;
        const rank = shape.length;
        const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
        const start = attr('start');
        const end = attr('end');
        return shape.slice(clamp(start ? Number(start.i) : 0), clamp(end ? Number(end.i) : rank));
      }
      case 'Size': {
        const shape = this.shapes?.shapeOf(node.input[0] ?? '');
        return shape && this.shapeIsStatic(node.input[0] ?? '') ? [shape.reduce((a, d) => a * d, 1)] : null;
      }
      case 'Identity':
      case 'Reshape':
      case 'Squeeze':
      case 'Unsqueeze':
        return input(0);
      case 'Cast':
        return input(0)?.map(Math.trunc) ?? null;
      case 'Concat': {
        const parts = node.input.map((n) => this.tensorOf(n));
        if (parts.some((p) => p === null)) return null;
        return concat(parts as IntTensor[], Number(attr('axis')?.i ?? 0))?.data ?? null;
      }
      case 'Transpose': {
        const t = this.tensorOf(node.input[0]);
        if (!t) return null;
        const perm = attr('perm')?.ints.map(Number) ?? t.shape.map((_, i) => t.shape.length - 1 - i);
        return transpose(t, perm).data;
      }
      case 'ConstantOfShape': {
        const shape = input(0);
        const value = attr('value')?.t;
        const fill = value ? (intValues(value)?.[0] ?? null) : 0;
        return shape && fill !== null ? new Array<number>(shape.reduce((a, d) => a * d, 1)).fill(fill) : null;
      }
      case 'Gather': {
        const data = input(0);
        const indices = input(1);
        const dataShape = this.shapes?.shapeOf(node.input[0] ?? '');
        if (!data || !indices || !dataShape || dataShape.length > 1) return null;
        return indices.map((i) => data[i < 0 ? i + data.length : i] ?? NaN);
      }
      case 'Slice': {
        const t = this.tensorOf(node.input[0]);
        if (!t) return null;
        const listed = (n: string) => node.attribute.find((a) => a.name === n)?.ints.map(Number);
        const starts = listed('starts') ?? input(1);
        const ends = listed('ends') ?? input(2);
        const axes = listed('axes') ?? (node.input[3] ? input(3) : starts?.map((_, i) => i));
        const steps = node.input[4] ? input(4) : starts?.map(() => 1);
        if (!starts || !ends || !axes || !steps) return null;
        return slice(t, starts, ends, axes, steps)?.data ?? null;
      }
      case 'Where': {
        // torch's expand(-1, …) exports as Where(Equal(shape, −1), ones, shape).
        const [c, x, y] = [0, 1, 2].map((k) => this.tensorOf(node.input[k]));
        if (!c || !x || !y) return null;
        const picked = broadcast(c, x, (cv, xv) => (cv ? xv : Number.NaN));
        return picked ? (broadcast(picked, y, (a, yv) => (Number.isNaN(a) ? yv : a))?.data ?? null) : null;
      }
      case 'Equal':
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div':
      case 'Min':
      case 'Max':
      case 'Mod': {
        // Integer Mod (fmod 0) takes the divisor's sign; Min and Max are variadic: fold every operand in turn.
        if (node.opType === 'Mod' && Number(attr('fmod')?.i ?? 0) !== 0) return null;
        let out = this.tensorOf(node.input[0]);
        for (let k = 1; k < node.input.length && out; k++) {
          const next = this.tensorOf(node.input[k]);
          out = next ? broadcast(out, next, (x, y) => arithmetic(node.opType, x, y)) : null;
        }
        return node.input.length >= 2 ? (out?.data ?? null) : null;
      }
      default:
        return null;
    }
  }

  scalar(name: string): number | null {
    const f = this.floats(name);
    if (f && f.length === 1) return f[0] as number;
    const i = this.ints(name);
    return i && i.length === 1 ? (i[0] as number) : null;
  }
}

function arithmetic(op: string, x: number, y: number): number {
  switch (op) {
    case 'Add':
      return x + y;
    case 'Sub':
      return x - y;
    case 'Mul':
      return x * y;
    case 'Div':
      // Integer division truncates (toward zero), as onnxruntime's does.
      return y === 0 ? NaN : Math.trunc(x / y);
    case 'Min':
      return Math.min(x, y);
    case 'Mod':
      return y === 0 ? NaN : ((x % y) + y) % y;
    case 'Equal':
      return x === y ? 1 : 0;
    default:
      return Math.max(x, y);
  }
}
