/**
 * What the perturbation methods (methods/scorecam.ts, methods/ablationcam.ts) share: perturbed copies run
 * in batches, with progress and cancellation.
 */
import * as ort from 'onnxruntime-node';
import { EngineError } from '../errors';

export const PERTURBATION_BATCH = 16;

export interface Progress {
  (done: number, total: number): void;
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new EngineError('cancelled', 'The analysis was cancelled.');
}

/** Runs `count` items through `run` in batches, falling back to one at a time when the graph has a fixed batch. */
export async function batched(
  count: number,
  makeBatch: (start: number, size: number) => ort.Tensor,
  run: (batch: ort.Tensor) => Promise<Float32Array>,
  perItem: number,
  onProgress: Progress | undefined,
  signal: AbortSignal | undefined,
): Promise<Float32Array> {
  const out = new Float32Array(count * perItem);
  let size = PERTURBATION_BATCH;
  for (let start = 0; start < count;) {
    throwIfCancelled(signal);
    const n = Math.min(size, count - start);
    let result: Float32Array;
    try {
      result = await run(makeBatch(start, n));
    } catch (error) {
      if (size === 1) throw error;
      size = 1; // A model exported with a fixed batch of 1: go one by one.
      continue;
    }
    out.set(result.subarray(0, n * perItem), start * perItem);
    start += n;
    onProgress?.(start, count);
  }
  return out;
}
