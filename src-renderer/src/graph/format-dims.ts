/** Compact renderings of shapes and numbers for the graph view (pure, no DOM). */
import type { Dim } from '../../../src-shared/api';

/** "1 × 16 × 48 × 48" (no brackets: the graph draws many of these); "scalar" for []. */
export function formatDims(shape: Dim[]): string {
  if (shape.length === 0) return 'scalar';
  return shape.map((d) => (typeof d === 'number' ? String(d) : (d ?? '?'))).join(' × ');
}

/** 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** A statistic: 4 significant digits, exponent notation for very small or large magnitudes. */
export function formatStat(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e5 || a < 1e-3) return x.toExponential(2);
  return Number(x.toPrecision(4)).toString();
}
