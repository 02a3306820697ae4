import { describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../../../src-main/engine/npy';

describe('npy', () => {
  it('round-trips float32 tensors with their shape', () => {
    const data = new Float32Array([1, 2, 3, 4, 5, 6]);
    const npy = readNpy(writeNpy(data, [1, 2, 3]), 'x.npy');
    expect(npy.shape).toEqual([1, 2, 3]);
    expect(Array.from(npy.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('writes headers aligned to 64 bytes as NumPy requires', () => {
    const bytes = writeNpy(new Float32Array(1), [1]);
    const headerLength = new DataView(bytes.buffer).getUint16(8, true);
    expect((10 + headerLength) % 64).toBe(0);
  });

  const withHeader = (header: string, payload = new Uint8Array(16)): Uint8Array => {
    const h = header.padEnd(118, ' ') + '\n';
    const out = new Uint8Array(10 + h.length + payload.byteLength);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(out.buffer).setUint16(8, h.length, true);
    out.set(new TextEncoder().encode(h), 10);
    out.set(payload, 10 + h.length);
    return out;
  };

  it('explains float64 input instead of misreading it', () => {
    expect(() => readNpy(withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"), 'a.npy')).toThrow(
      /dtype is <f8.*astype\(np.float32\)/,
    );
  });

  it('refuses Fortran order and truncated data', () => {
    expect(() => readNpy(withHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }"), 'a.npy')).toThrow(/Fortran/);
    expect(() => readNpy(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (100,), }"), 'a.npy')).toThrow(
      /truncated data/,
    );
    expect(() => readNpy(new Uint8Array([0x93, 0x4e]), 'a.npy')).toThrow(/magic/);
  });
});
