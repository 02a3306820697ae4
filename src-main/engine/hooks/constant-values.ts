/**
 * Values known before running the model: initializers and Constant nodes. Gradient rules need them for
 * attributes that moved to inputs in newer opsets (Clip's min/max, Slice's starts, Pad's pads, Reshape's
 * shape) and for folding constants such as BatchNormalization's scale.
 */
import type { NodeProto, TensorProto } from 'onnx-buf';
import type { TensorName } from '../../../src-shared/api';
import type { ModelProto } from '../onnx/decode-model';
import { copyBytes, floatValues } from '../onnx/tensor-data';

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

export class ConstantValues {
  private readonly tensors = new Map<string, TensorProto>();
  private readonly nodes = new Map<string, NodeProto>();

  constructor(model: ModelProto) {
    for (const t of model.graph?.initializer ?? []) this.tensors.set(t.name, t);
    for (const n of model.graph?.node ?? []) if (n.opType === 'Constant' && n.output[0]) this.nodes.set(n.output[0], n);
  }

  private tensor(name: string): TensorProto | null {
    const t = this.tensors.get(name);
    if (t) return t;
    const node = this.nodes.get(name);
    const attr = node?.attribute.find((a) => a.name === 'value');
    return attr?.t ?? null;
  }

  isConstant(name: TensorName): boolean {
    return this.tensors.has(name) || this.nodes.has(name);
  }

  floats(name: string): Float32Array | null {
    const t = this.tensor(name);
    if (t) return floatValues(t);
    const node = this.nodes.get(name);
    const f = node?.attribute.find((a) => a.name === 'value_float' || a.name === 'value_floats');
    if (f) return f.name === 'value_float' ? Float32Array.of(f.f) : Float32Array.from(f.floats);
    return null;
  }

  ints(name: string): number[] | null {
    const t = this.tensor(name);
    if (t) return intValues(t);
    const node = this.nodes.get(name);
    const i = node?.attribute.find((a) => a.name === 'value_int' || a.name === 'value_ints');
    if (i) return i.name === 'value_int' ? [Number(i.i)] : i.ints.map(Number);
    return null;
  }

  scalar(name: string): number | null {
    const f = this.floats(name);
    if (f && f.length === 1) return f[0] as number;
    const i = this.ints(name);
    return i && i.length === 1 ? (i[0] as number) : null;
  }
}
