/**
 * What the perturbation methods (methods/scorecam.ts, methods/ablationcam.ts) share: perturbed copies run
 * in batches sized to the device, with progress and cancellation.
 */
import * as ort from 'onnxruntime-node';
import type { ExecutionProvider } from '../../../src-shared/primitives';
import { EngineError } from '../errors';

/** On the CPU larger batches gain nothing (throughput is flat from about 8 images per run). */
const CPU_BATCH = 16;
/**
 * A GPU's throughput still grows at batch 32 (ResNet-50 on WebGPU: 176 / 879 / 1,151 images/s at 1 / 8 /
 * 32), so its batches are as large as a modest per-batch input budget allows, up to 64.
 */
const GPU_BATCH = 64;
const GPU_BATCH_BYTES = 256 * 2 ** 20;

/** How many perturbed copies one run takes on `provider`, each with `floatsPerItem` model-sized values. */
export function perturbationBatch(provider: ExecutionProvider, floatsPerItem: number): number {
  if (provider === 'cpu') return CPU_BATCH;
  return Math.max(1, Math.min(GPU_BATCH, Math.floor(GPU_BATCH_BYTES / Math.max(1, floatsPerItem * 4))));
}

export interface Progress {
  (done: number, total: number): void;
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new EngineError('cancelled', 'The analysis was cancelled.');
}

/**
 * Runs `count` items through `run` in batches of up to `size`. A failed batch is retried at half the size
 * (a model exported with a fixed batch of 1 ends at one by one); a failure at size 1 is the model's.
 */
export async function batched(
  count: number,
  size: number,
  makeBatch: (start: number, size: number) => Record<string, ort.Tensor>,
  run: (feeds: Record<string, ort.Tensor>) => Promise<Float32Array>,
  perItem: number,
  onProgress: Progress | undefined,
  signal: AbortSignal | undefined,
): Promise<Float32Array> {
  const out = new Float32Array(count * perItem);
  for (let start = 0; start < count;) {
    throwIfCancelled(signal);
    const n = Math.min(size, count - start);
    let result: Float32Array;
    try {
      result = await run(makeBatch(start, n));
    } catch (error) {
      if (n === 1) throw error;
      size = Math.max(1, Math.floor(n / 2));
      continue;
    }
    out.set(result.subarray(0, n * perItem), start * perItem);
    start += n;
    onProgress?.(start, count);
  }
  return out;
}
