import { describe, expect, it } from 'vitest';
import { formatValue } from '../../src-shared/number-format';

describe('formatValue', () => {
  it('formats numbers shortly', () => {
    expect(formatValue(0.123456)).toBe('0.123');
    expect(formatValue(0)).toBe('0');
    expect(formatValue(123456)).toBe('1.2e+5');
  });
});
