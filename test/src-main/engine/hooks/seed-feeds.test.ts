import { describe, expect, it } from 'vitest';
import { SEED_INPUT, TOP_WEIGHT_INPUT } from '../../../../src-main/engine/hooks/hooked-model';
import { seedFeeds } from '../../../../src-main/engine/hooks/seed-feeds';

const values = (feeds: ReturnType<typeof seedFeeds>, name: string): number[] => Array.from(feeds[name]?.data as Float32Array);

describe('seed feeds', () => {
  it('explain one class in every row, with its sign', () => {
    const feeds = seedFeeds([2, 3], 1, -1);
    expect(feeds[SEED_INPUT]?.dims).toEqual([2, 3]);
    expect(values(feeds, SEED_INPUT)).toEqual([0, -1, 0, 0, -1, 0]);
    expect(values(feeds, TOP_WEIGHT_INPUT)).toEqual([0]);
  });

  it('explain a class per row, or each row its own top class', () => {
    expect(values(seedFeeds([3, 3], [2, 0, 2]), SEED_INPUT)).toEqual([0, 0, 1, 1, 0, 0, 0, 0, 1]);
    const top = seedFeeds([1, 4], 'top');
    expect(values(top, SEED_INPUT)).toEqual([0, 0, 0, 0]);
    expect(values(top, TOP_WEIGHT_INPUT)).toEqual([1]);
  });

  it('refuse a class the model does not have, naming its range', () => {
    expect(() => seedFeeds([1, 6], 6)).toThrow('Class 6 does not exist: the model has 6 classes (0–5).');
    expect(() => seedFeeds([2, 6], [1, -1])).toThrow('Class -1 does not exist');
    expect(() => seedFeeds([1, 6], 1.5)).toThrow('Class 1.5 does not exist');
  });
});
