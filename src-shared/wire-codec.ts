/**
 * Binary framing for API messages, used by every transport so that tensors never travel as JSON arrays.
 *
 * Frame: [u32 LE header length][UTF-8 JSON header][padding to 8][buffer 0][padding][buffer 1]...
 * In the header a typed array is replaced by {"$bin": index, "type": "Float32Array"}, an Error by
 * {"$err": {code, message}}. Object keys that start with "$" are escaped as "$$…" so that data from a model
 * (metadata keys, tensor names) can never be mistaken for a tag. Buffers are 8-byte aligned so the decoder
 * can return views over the frame without copying.
 */

const TYPED_ARRAYS = {
  Uint8Array,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const;
type TypedArrayName = keyof typeof TYPED_ARRAYS;
type AnyTypedArray = InstanceType<(typeof TYPED_ARRAYS)[TypedArrayName]>;

/** Hard limits that keep a hostile or broken peer from making the decoder allocate without bound. */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024;
export const MAX_BUFFERS = 100_000;
export const MAX_DEPTH = 64;

export class WireFormatError extends Error {
  override name = 'WireFormatError';
}

function typedArrayName(value: ArrayBufferView): TypedArrayName | null {
  const name = value.constructor.name;
  return Object.hasOwn(TYPED_ARRAYS, name) ? (name as TypedArrayName) : null;
}

const align8 = (n: number): number => (n + 7) & ~7;

export function encodeFrame(message: unknown): Uint8Array {
  const buffers: ArrayBufferView[] = [];
  const walk = (value: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH) throw new WireFormatError('message nests too deeply');
    if (value === null || typeof value !== 'object') {
      if (typeof value === 'bigint') throw new WireFormatError('bigint values are not supported');
      return value;
    }
    if (ArrayBuffer.isView(value)) {
      const type = typedArrayName(value);
      // Node's Buffer is a Uint8Array subclass: send it as one.
      const resolved = type ?? (value instanceof Uint8Array ? 'Uint8Array' : null);
      if (!resolved) throw new WireFormatError(`cannot encode ${value.constructor.name}`);
      buffers.push(value);
      return { $bin: buffers.length - 1, type: resolved };
    }
    if (value instanceof Error) {
      const raw = (value as Error & { code?: unknown }).code;
      const code = typeof raw === 'string' ? raw : 'internal';
      return { $err: { code, message: value.message } };
    }
    if (Array.isArray(value)) return value.map((item) => walk(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      out[key.startsWith('$') ? `$${key}` : key] = walk(item, depth + 1);
    }
    return out;
  };
  const header = walk(message, 0);
  const headerBytes = new TextEncoder().encode(JSON.stringify({ body: header, sizes: buffers.map((b) => b.byteLength) }));
  let total = align8(4 + headerBytes.byteLength);
  for (const b of buffers) total = align8(total + b.byteLength);
  const frame = new Uint8Array(total);
  new DataView(frame.buffer).setUint32(0, headerBytes.byteLength, true);
  frame.set(headerBytes, 4);
  let offset = align8(4 + headerBytes.byteLength);
  for (const b of buffers) {
    frame.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), offset);
    offset = align8(offset + b.byteLength);
  }
  return frame;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function decodeFrame(input: ArrayBuffer | ArrayBufferView): unknown {
  let bytes =
    input instanceof ArrayBuffer ? new Uint8Array(input) : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  // Views into the frame must be aligned for their element type: realign a frame that arrived at an odd offset.
  if (bytes.byteOffset % 8 !== 0) bytes = bytes.slice();
  if (bytes.byteLength < 4) throw new WireFormatError('frame shorter than its header length');
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  if (headerLength > MAX_HEADER_BYTES || 4 + headerLength > bytes.byteLength) {
    throw new WireFormatError('frame header length is out of range');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(4, 4 + headerLength)));
  } catch {
    throw new WireFormatError('frame header is not valid UTF-8 JSON');
  }
  if (!isRecord(parsed) || !Array.isArray(parsed.sizes) || parsed.sizes.length > MAX_BUFFERS) {
    throw new WireFormatError('frame header has no valid buffer table');
  }
  const views: { offset: number; size: number }[] = [];
  let offset = align8(4 + headerLength);
  for (const size of parsed.sizes) {
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || offset + size > bytes.byteLength) {
      throw new WireFormatError('frame buffer table does not match the frame');
    }
    views.push({ offset, size });
    offset = align8(offset + size);
  }
  const revive = (value: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH) throw new WireFormatError('message nests too deeply');
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((item) => revive(item, depth + 1));
    const record = value as Record<string, unknown>;
    if (Object.hasOwn(record, '$bin')) {
      const index = record.$bin;
      const type = record.type;
      if (typeof index !== 'number' || typeof type !== 'string' || !Object.hasOwn(TYPED_ARRAYS, type)) {
        throw new WireFormatError('malformed binary reference');
      }
      const view = views[index];
      if (!view) throw new WireFormatError('binary reference out of range');
      const Ctor = TYPED_ARRAYS[type as TypedArrayName];
      if (view.size % Ctor.BYTES_PER_ELEMENT !== 0) throw new WireFormatError('binary size does not fit its type');
      return new Ctor(
        bytes.buffer as ArrayBuffer,
        bytes.byteOffset + view.offset,
        view.size / Ctor.BYTES_PER_ELEMENT,
      ) as AnyTypedArray;
    }
    if (Object.hasOwn(record, '$err')) {
      const err = record.$err;
      const code = isRecord(err) && typeof err.code === 'string' ? err.code : 'internal';
      const message = isRecord(err) && typeof err.message === 'string' ? err.message : 'unknown error';
      return Object.assign(new Error(message), { code });
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(record)) {
      out[key.startsWith('$$') ? key.slice(1) : key] = revive(item, depth + 1);
    }
    return out;
  };
  return revive(parsed.body, 0);
}
