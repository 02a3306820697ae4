/** Turning a classifier's output into the top-k list users and scripts read. */
import type { ClassScore } from '../../src-shared/api';
import { EngineError } from './errors';

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

/**
 * The k best classes, ordered by logit (then index) — the order the CAM grid's "top class" (the argmax of the
 * logits) uses — not by probability: softmax rounds near-equal logits to equal float32 probabilities, and
 * ordering those ties by index listed classes 0–4 while the grid explained another.
 */
export function topK(probs: Float32Array, k: number, labels: string[] | null, logits: Float32Array = probs): ClassScore[] {
  const order = Array.from(probs.keys()).sort((a, b) => (logits[b] as number) - (logits[a] as number) || a - b);
  return order.slice(0, Math.min(k, probs.length)).map((index) => ({
    class: index,
    label: labels?.[index] ?? `class ${index}`,
    prob: probs[index] as number,
  }));
}

/** The index of the first NaN or ±Infinity in `values`, or -1. */
export function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i] as number)) return i;
  return -1;
}

/** A class index the model has, or a one-line error naming the range it has. */
export function checkClassIndex(classIndex: number, classes: number): void {
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= classes)
    throw new EngineError(
      'bad-input',
      `Class ${classIndex} does not exist: the model has ${classes} classes (0–${classes - 1}).`,
    );
}

/**
 * Class scores with a NaN or an infinity rank nothing (softmax turns them all to NaN): say so rather than
 * answer with a top class and null probabilities. The input was finite, so the model computed it.
 */
export function checkFiniteScores(scores: Float32Array, modelName: string): void {
  const at = firstNonFinite(scores);
  if (at < 0) return;
  throw new EngineError(
    'inference-failed',
    `${modelName} computed ${String(scores[at])} as the score of class ${at} for this input: its output is not finite, so there is no prediction to show or explain.`,
  );
}
