/**
 * How many images a stats run feeds per inference run. Batching amortises what every run costs besides
 * the arithmetic (the call into onnxruntime, one output per hooked layer), which on a small model is a
 * good part of the time. It is only done where it cannot change a result: the model's batch dimension is
 * free, one input is one image, and every hooked tensor has the batch on its first axis — checked on the
 * shapes the engine probes at the batched input shape, not assumed.
 */
import type { TensorName } from '../../../src-shared/api';
import { knownShape, type GraphAnalysis } from '../graph/analyze-graph';
import type { OpenModel } from '../model-registry';

/** Beyond this, larger batches gained nothing measurable on the demo model (see bench/stats.bench.ts). */
export const MAX_STATS_BATCH = 16;
/**
 * Activations of the hooked layers for one batch: memory stays flat however many images, and the scan that
 * follows each run reads what onnxruntime just wrote while it is still in the CPU cache (on the demo model,
 * 4 images per run scanned faster than 16; plain inference gained as much either way).
 */
export const MAX_BATCH_ACTIVATION_BYTES = 16 * 1024 * 1024;

export interface BatchPlan {
  size: number;
  /** The analysis at the batched input shape (the single-image one when size is 1). */
  analysis: GraphAnalysis;
  inputShape: number[];
}

/**
 * The batch for `remaining` images of shape `inputShape` (a power of two, so that runs of different
 * lengths share a few sessions; the last batch is padded).
 */
export async function planBatch(
  model: OpenModel,
  analysis: GraphAnalysis,
  tensors: TensorName[],
  inputShape: number[],
  remaining: number,
  analyse: (shape: number[]) => Promise<GraphAnalysis>,
  maxBatch = MAX_STATS_BATCH,
  /** What one image costs in memory, from its hooked tensors' sizes (default: the activations themselves). */
  bytesOf: (sizes: number[]) => number = (sizes) => 4 * sizes.reduce((a, b) => a + b, 0),
  maxBytes = MAX_BATCH_ACTIVATION_BYTES,
): Promise<BatchPlan> {
  const single: BatchPlan = { size: 1, analysis, inputShape };
  const declared = model.summary.inputs[0]?.shape[0];
  if ((typeof declared === 'number' && declared > 0) || inputShape[0] !== 1) return single;
  const sizes: number[] = [];
  for (const t of tensors) {
    const s = knownShape(analysis, t);
    if (!s || s[0] !== 1) return single;
    sizes.push(s.reduce((a, b) => a * b, 1));
  }
  const limit = Math.min(maxBatch, remaining, Math.floor(maxBytes / Math.max(1, bytesOf(sizes))));
  if (limit < 2) return single;
  const size = 2 ** Math.floor(Math.log2(limit));
  const batchedShape = [size, ...inputShape.slice(1)];
  let batched: GraphAnalysis;
  try {
    batched = await analyse(batchedShape);
  } catch {
    return single;
  }
  for (const t of tensors) {
    const one = knownShape(analysis, t) as number[];
    const many = knownShape(batched, t);
    if (!many || many.length !== one.length || many[0] !== size || many.some((d, i) => i > 0 && d !== one[i])) return single;
  }
  return { size, analysis: batched, inputShape: batchedShape };
}
