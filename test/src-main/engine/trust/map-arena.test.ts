import { describe, expect, it } from 'vitest';
import { MapArena } from '../../../../src-main/engine/trust/map-arena';

describe('the arena of shown maps', () => {
  it('gives views that do not overlap, in shared memory, and reuses its blocks after a reset', () => {
    const arena = new MapArena();
    const sizes = [2304, 9, 2304, 300_000, 2304, 1 << 18];
    const views = sizes.map((n) => arena.take(n));
    views.forEach((v, i) => {
      expect(v.length).toBe(sizes[i]);
      expect(v.buffer).toBeInstanceOf(SharedArrayBuffer);
      v.fill(i + 1);
    });
    // Every view still holds what was written to it: none overlaps another.
    views.forEach((v, i) => expect(v.every((x) => x === i + 1)).toBe(true));
    const buffers = new Set(views.map((v) => v.buffer));
    arena.reset();
    const again = sizes.map((n) => arena.take(n));
    // The same sizes again fit in the same blocks: nothing new is allocated.
    expect(again.every((v) => buffers.has(v.buffer))).toBe(true);
    again.forEach((v, i) => v.fill(-(i + 1)));
    again.forEach((v, i) => expect(v.every((x) => x === -(i + 1))).toBe(true));
  });
});
