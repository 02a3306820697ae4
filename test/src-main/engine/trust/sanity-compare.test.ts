import { describe, expect, it } from 'vitest';
import { CoincidingMaps, mapHash, sameMap } from '../../../../src-main/engine/trust/sanity-compare';

const map = (width: number, height: number, values: number[]) => ({ width, height, data: Float32Array.from(values) });

describe('CoincidingMaps', () => {
  it('makes once what equal maps show, and apart what differs in a value or a size', () => {
    const made = new CoincidingMaps<string>();
    let count = 0;
    const make = () => `made ${++count}`;
    const a = map(2, 2, [0, 0, 1, 2]);
    expect(made.get(a, make)).toBe('made 1');
    // Another array with the same values (−0 is 0) shares it.
    expect(made.get(map(2, 2, [-0, 0, 1, 2]), make)).toBe('made 1');
    expect(made.get(map(2, 2, [0, 0, 1, 3]), make)).toBe('made 2');
    expect(made.get(map(4, 1, [0, 0, 1, 2]), make)).toBe('made 3');
    // A view into a larger buffer (as a batched run's outputs are) hashes its own values only.
    const buffer = new Float32Array([9, 0, 0, 1, 2, 9]);
    expect(made.get({ width: 2, height: 2, data: buffer.subarray(1, 5) }, make)).toBe('made 1');
    expect(count).toBe(3);
  });

  it('hashes maps sameMap calls equal alike, and tells most others apart', () => {
    expect(mapHash(map(1, 2, [-0, 1]))).toBe(mapHash(map(1, 2, [0, 1])));
    expect(sameMap(map(1, 2, [-0, 1]), map(1, 2, [0, 1]))).toBe(true);
    const hashes = new Set<number>();
    for (let i = 0; i < 1000; i++)
      hashes.add(
        mapHash(
          map(
            4,
            4,
            Array.from({ length: 16 }, (_, k) => (k === i % 16 ? i : 0)),
          ),
        ),
      );
    expect(hashes.size).toBe(1000);
  });
});
