/** Reading initializer values (for weight statistics and the hook engine's constants), and writing new ones. */
import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema, type TensorProto } from 'onnx-buf';

const FLOAT = 1;
const INT64 = 7;
const FLOAT16 = 10;
const DOUBLE = 11;

/**
 * A fresh, aligned copy of the first `length` bytes. (Node's Buffer.slice returns a view, not a copy, so
 * `.slice().buffer` would be the whole file's buffer.)
 */
export function copyBytes(raw: Uint8Array, length: number): ArrayBuffer {
  const out = new Uint8Array(length);
  out.set(raw.subarray(0, length));
  return out.buffer;
}

/** A float32 initializer holding a copy of `values`. */
export function floatInitializer(name: string, dims: readonly (number | bigint)[], values: ArrayLike<number>): TensorProto {
  const data = Float32Array.from(values);
  return create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: FLOAT, rawData: new Uint8Array(data.buffer) });
}

/** An int64 initializer, 1-D unless `dims` says otherwise. */
export function int64Initializer(
  name: string,
  values: ArrayLike<number>,
  dims: readonly number[] = [values.length],
): TensorProto {
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i] as number);
  return create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: INT64, rawData: new Uint8Array(data.buffer) });
}

export function elementCount(t: TensorProto): number {
  return t.dims.reduce((n, d) => n * Number(d), 1);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Float values of a floating-point initializer stored inline, or null for other types / external data. */
export function floatValues(t: TensorProto): Float32Array | null {
  const n = elementCount(t);
  const raw = t.rawData;
  if (t.dataType === FLOAT) {
    if (raw.byteLength >= n * 4) {
      return new Float32Array(copyBytes(raw, n * 4));
    }
    return t.floatData.length === n ? Float32Array.from(t.floatData) : null;
  }
  if (t.dataType === DOUBLE) {
    if (raw.byteLength >= n * 8) return Float32Array.from(new Float64Array(copyBytes(raw, n * 8)));
    return t.doubleData.length === n ? Float32Array.from(t.doubleData) : null;
  }
  if (t.dataType === FLOAT16) {
    const out = new Float32Array(n);
    if (raw.byteLength >= n * 2) {
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    }
    if (t.int32Data.length === n) {
      for (let i = 0; i < n; i++) out[i] = halfToFloat(t.int32Data[i] as number);
      return out;
    }
  }
  return null;
}
