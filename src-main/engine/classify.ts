/** Turning a classifier's output into the top-k list users and scripts read. */
import type { ClassScore } from '../../src-shared/api';

export function softmax(logits: Float32Array): Float32Array {
  let max = -Infinity;
  for (const x of logits) if (x > max) max = x;
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp((logits[i] as number) - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / sum;
  return out;
}

export function topK(probs: Float32Array, k: number, labels: string[] | null): ClassScore[] {
  const order = Array.from(probs.keys()).sort((a, b) => (probs[b] as number) - (probs[a] as number) || a - b);
  return order.slice(0, Math.min(k, probs.length)).map((index) => ({
    class: index,
    label: labels?.[index] ?? `class ${index}`,
    prob: probs[index] as number,
  }));
}
