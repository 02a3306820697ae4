/** setHistoryLimit is validated before the engine sees it: MB from 1 to 1 TiB, or null (back to the default). */
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { engineRequestSchemas } from '../../src-shared/api';

const accepts = (arg: unknown): boolean => v.safeParse(engineRequestSchemas.setHistoryLimit, [arg]).success;

describe('the history limit request', () => {
  it('takes a number of MB in range, or null', () => {
    expect(accepts({ limitMb: 1 })).toBe(true);
    expect(accepts({ limitMb: 2048.5 })).toBe(true);
    expect(accepts({ limitMb: null })).toBe(true);
  });

  it('refuses nonsense', () => {
    for (const limitMb of [0, 0.5, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 21, '64', undefined])
      expect(accepts({ limitMb }), String(limitMb)).toBe(false);
    expect(accepts({ limitMb: 64, extra: true })).toBe(false);
  });
});
