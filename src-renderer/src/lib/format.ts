import type { Dim } from '../../../src-shared/api';

export function formatShape(shape: Dim[]): string {
  return `[${shape.map((d) => (typeof d === 'number' ? String(d) : (d ?? '?'))).join(' × ')}]`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export function formatPercent(p: number): string {
  return `${(p * 100).toFixed(p >= 0.995 || p < 0.001 ? 1 : 2)}%`;
}
