import { describe, expect, it } from 'vitest';
import { LruCache } from '../../../src-main/engine/lru-cache';

describe('LruCache', () => {
  it('evicts the least recently used entry beyond its count, handing it to dispose', () => {
    const gone: string[] = [];
    const cache = new LruCache<string, number>(2, (_v, k) => gone.push(k));
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');
    cache.set('c', 3);
    expect(gone).toEqual(['b']);
    expect(cache.values()).toEqual([1, 3]);
  });

  it('evicts by bytes as well as by count, keeping the newest entry even when it alone is above the budget', () => {
    const gone: string[] = [];
    const cache = new LruCache<string, Uint8Array>(100, (_v, k) => gone.push(k), {
      maxBytes: 1000,
      sizeOf: (v) => v.byteLength,
    });
    cache.set('a', new Uint8Array(400));
    cache.set('b', new Uint8Array(400));
    expect(cache.bytes).toBe(800);
    cache.set('c', new Uint8Array(400));
    expect(gone).toEqual(['a']);
    expect(cache.bytes).toBe(800);
    cache.set('huge', new Uint8Array(5000));
    expect(gone).toEqual(['a', 'b', 'c']);
    expect(cache.size).toBe(1);
    expect(cache.bytes).toBe(5000);
    cache.delete('huge');
    expect(cache.bytes).toBe(0);
  });

  it('takes a weight given at set time, and counts a replaced entry once', () => {
    const cache = new LruCache<string, Promise<number>>(10, () => {}, { maxBytes: 100 });
    const p = Promise.resolve(1);
    cache.set('a', p, 60);
    cache.set('a', p, 70);
    expect(cache.bytes).toBe(70);
    cache.set('b', Promise.resolve(2), 50);
    expect(cache.has('a')).toBe(false);
    expect(cache.bytes).toBe(50);
  });
});
