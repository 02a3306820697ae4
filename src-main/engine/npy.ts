/**
 * Reads NumPy .npy files holding float32 tensors (little-endian, C order), the way users hand LayerLens an
 * input "fed exactly as is". Anything else is refused with the reason.
 */
import { firstNonFinite } from './classify';
import { EngineError } from './errors';

export interface NpyArray {
  data: Float32Array;
  shape: number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function isNpy(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 6 && MAGIC.every((b, i) => bytes[i] === b);
}

export function readNpy(bytes: Uint8Array, displayName: string): NpyArray {
  const fail = (why: string): never => {
    throw new EngineError('bad-input', `${displayName} is not a usable .npy tensor: ${why}.`);
  };
  if (!isNpy(bytes)) fail('missing the NUMPY magic bytes');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    if (bytes.byteLength < 10) fail('truncated header');
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.byteLength < 12) fail('truncated header');
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    return fail(`unknown format version ${String(major)}`);
  }
  if (headerStart + headerLength > bytes.byteLength) fail('truncated header');
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerStart, headerStart + headerLength));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) return fail('unreadable header');
  if (descr !== '<f4' && descr !== '|f4' && descr !== 'f4') {
    fail(`its dtype is ${descr}, LayerLens feeds float32 ('<f4') tensors as is — convert with arr.astype(np.float32)`);
  }
  if (fortran === 'True') fail('it is in Fortran order — save it with np.ascontiguousarray');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) fail('invalid shape');
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLength;
  if (bytes.byteLength - dataStart < count * 4) fail(`truncated data (expected ${count} float32 values)`);
  // Copy: the file's bytes may sit at any offset (Node pools small reads), Float32Array needs 4-byte alignment.
  const raw = new Uint8Array(count * 4);
  raw.set(bytes.subarray(dataStart, dataStart + count * 4));
  const data = new Float32Array(raw.buffer, 0, count);
  const bad = firstNonFinite(data);
  if (bad >= 0) fail(`value ${bad} is ${String(data[bad])}; a model's input must be finite numbers`);
  return { data, shape };
}

/** Writes a float32 .npy (used by tests and by exports). */
export function writeNpy(data: Float32Array, shape: number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
