import { describe, expect, it } from 'vitest';
import { softmax, topK } from '../../../src-main/engine/classify';

describe('topK', () => {
  it('orders by logit, so the first row is the class the grid explains even when probabilities tie', () => {
    // A randomly initialised 1000-class head: logits a hair apart, float32 probabilities all equal.
    const base = 2 ** -7;
    const ulp = 2 ** -30; // float32 spacing just above 2^-7
    const logits = new Float32Array(1000).fill(base);
    logits[817] = base + 2 * ulp;
    logits[3] = base + ulp;
    const probs = softmax(logits);
    expect(probs[817]).toBe(probs[0]); // the tie the issue saw: every class at 0.10%
    let argmax = 0;
    for (let i = 1; i < logits.length; i++) if ((logits[i] as number) > (logits[argmax] as number)) argmax = i;
    const top = topK(probs, 5, null, logits);
    expect(top[0]?.class).toBe(argmax);
    expect(top.map((r) => r.class)).toEqual([817, 3, 0, 1, 2]);
  });

  it('orders by probability where the model outputs probabilities (the same order as its logits)', () => {
    const probs = Float32Array.from([0.1, 0.6, 0.3]);
    expect(topK(probs, 2, ['a', 'b', 'c']).map((r) => r.label)).toEqual(['b', 'c']);
  });
});
