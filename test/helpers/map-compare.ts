import { expect } from 'vitest';

/** Comparing maps the way the tests' tolerances are stated: Pearson r, and max |Δ| after min-max scaling. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] as number;
    mb += b[i] as number;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] as number) - ma;
    const db = (b[i] as number) - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

export function minMax(a: ArrayLike<number>): Float64Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    lo = Math.min(lo, a[i] as number);
    hi = Math.max(hi, a[i] as number);
  }
  return Float64Array.from({ length: a.length }, (_, i) => (hi > lo ? ((a[i] as number) - lo) / (hi - lo) : 0));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/**
 * Two results equal, their float32 arrays (maps) to rounding: within 1e-5 of each array's largest value.
 * A batch of items sums over channels in another order than one item does (one reduction over [N, C, Z]
 * instead of N over [C, Z]), which moves the last bit of some values; everything else must be equal.
 */
export function expectSameMaps(mine: unknown, own: unknown, at = 'result'): void {
  if (own instanceof Float32Array) {
    expect(mine, at).toBeInstanceOf(Float32Array);
    const got = mine as Float32Array;
    expect(got.length, at).toBe(own.length);
    let peak = 0;
    for (const v of own) peak = Math.max(peak, Math.abs(v));
    let worst = 0;
    for (let i = 0; i < own.length; i++) worst = Math.max(worst, Math.abs((got[i] as number) - (own[i] as number)));
    expect(worst, at).toBeLessThanOrEqual(1e-5 * peak);
    return;
  }
  if (own !== null && typeof own === 'object' && !ArrayBuffer.isView(own)) {
    expect(mine !== null && typeof mine === 'object', at).toBe(true);
    expect(Object.keys(mine as object).sort(), at).toEqual(Object.keys(own).sort());
    for (const [key, value] of Object.entries(own)) expectSameMaps((mine as Record<string, unknown>)[key], value, `${at}.${key}`);
    return;
  }
  expect(mine, at).toEqual(own);
}
