/**
 * The sanity check's comparisons split between this thread and a worker running the same kernels from
 * their source: the figures must be exactly those of one thread.
 */
import { describe, expect, it } from 'vitest';
import { compareOnTwoThreads, comparisonHelperAlive } from '../../../../src-main/engine/trust/compare-pool';
import { mulberry32 } from '../../../../src-main/engine/trust/random';
import { compareAll } from '../../../../src-main/engine/trust/similarity';

describe('comparisons on two threads', () => {
  it('give exactly the figures of one thread, references shared by several pairs', async () => {
    const next = mulberry32(11);
    const [width, height] = [48, 40];
    const map = (): Float32Array =>
      Float32Array.from({ length: width * height }, () => {
        const r = next();
        return r < 0.3 ? 0 : Math.round(r * 50) / 50; // ties and zeros, as ReLU'd maps have
      });
    const refs = Array.from({ length: 8 }, map);
    const pairs = refs.flatMap((ref) => Array.from({ length: 11 }, () => [ref, map()]).flat());
    const here = compareAll(pairs, width, height);
    const split = await compareOnTwoThreads(pairs, width, height);
    expect(comparisonHelperAlive()).toBe(true);
    expect(Array.from(split)).toEqual(Array.from(here));
    expect(here.every((v) => Number.isFinite(v))).toBe(true);
  });
});
