import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, WireFormatError } from '../../src-shared/wire-codec';

describe('wire codec', () => {
  it('round-trips typed arrays as binary, aligned, without JSON number arrays', () => {
    const logits = new Float32Array([0.5, -1.25, 3]);
    const bytes = new Uint8Array([1, 2, 3]);
    const frame = encodeFrame({ t: 's', r: { logits, bytes, n: 3, s: 'x' } });
    const header = new TextDecoder().decode(frame.subarray(4, 4 + new DataView(frame.buffer).getUint32(0, true)));
    expect(header).not.toContain('-1.25');
    const decoded = decodeFrame(frame) as { r: { logits: Float32Array; bytes: Uint8Array; n: number; s: string } };
    expect(decoded.r.logits).toBeInstanceOf(Float32Array);
    expect(Array.from(decoded.r.logits)).toEqual([0.5, -1.25, 3]);
    expect(decoded.r.logits.byteOffset % 4).toBe(0);
    expect(Array.from(decoded.r.bytes)).toEqual([1, 2, 3]);
    expect(decoded.r.n).toBe(3);
  });

  it('decodes a frame that arrives at an unaligned offset (as Node sockets deliver them)', () => {
    const frame = encodeFrame({ x: new Float64Array([Math.PI]) });
    const shifted = new Uint8Array(frame.byteLength + 3);
    shifted.set(frame, 3);
    const decoded = decodeFrame(shifted.subarray(3)) as { x: Float64Array };
    expect(decoded.x[0]).toBe(Math.PI);
  });

  it('keeps user keys that look like tags as data', () => {
    const metadata = { $bin: 'not a buffer', $err: 'not an error', $$x: 'two', plain: 'ok' };
    expect(decodeFrame(encodeFrame({ metadata }))).toEqual({ metadata });
  });

  it('carries errors as code + message', () => {
    const error = Object.assign(new Error('model is broken'), { code: 'bad-model' });
    const decoded = decodeFrame(encodeFrame({ e: error })) as { e: Error & { code: string } };
    expect(decoded.e).toBeInstanceOf(Error);
    expect(decoded.e.message).toBe('model is broken');
    expect(decoded.e.code).toBe('bad-model');
  });

  it.each([
    ['empty', new Uint8Array(0)],
    ['header longer than frame', new Uint8Array([255, 255, 0, 0, 1, 2])],
    [
      'header not JSON',
      (() => {
        const f = new Uint8Array(8);
        new DataView(f.buffer).setUint32(0, 3, true);
        f.set([123, 123, 123], 4);
        return f;
      })(),
    ],
  ])('rejects a malformed frame: %s', (_name, frame) => {
    expect(() => decodeFrame(frame)).toThrow(WireFormatError);
  });

  it('rejects binary references that point outside the frame', () => {
    const header = new TextEncoder().encode(JSON.stringify({ body: { $bin: 5, type: 'Float32Array' }, sizes: [] }));
    const frame = new Uint8Array(4 + header.byteLength);
    new DataView(frame.buffer).setUint32(0, header.byteLength, true);
    frame.set(header, 4);
    expect(() => decodeFrame(frame)).toThrow(/out of range/);
  });

  it('rejects a buffer table larger than the frame', () => {
    const header = new TextEncoder().encode(JSON.stringify({ body: 1, sizes: [1_000_000] }));
    const frame = new Uint8Array(4 + header.byteLength);
    new DataView(frame.buffer).setUint32(0, header.byteLength, true);
    frame.set(header, 4);
    expect(() => decodeFrame(frame)).toThrow(/buffer table/);
  });
});
