/**
 * The gradient-free methods that need extra forward passes, batched, with progress and cancellation:
 * - ScoreCAM: each channel, upsampled and min-max scaled to [0, 1], masks the input; its weight is the
 *   softmax over channels of the class logit of the masked input.
 * - AblationCAM: each channel zeroed in turn; weight = (y_c − y_c with channel k zeroed) / y_c. Only the
 *   layers after the hooked one run (a "tail" model whose input is that layer).
 */
import { create } from '@bufbuild/protobuf';
import { ValueInfoProtoSchema } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import type { TensorName } from '../../../src-shared/api';
import { resizeMap } from '../../../src-shared/heatmap';
import { EngineError } from '../errors';
import type { GraphAnalysis } from '../graph/analyze-graph';
import { fromChannelMajor, type FeatureGrid } from '../graph/feature-grid';
import { constantTensors, cutTensors } from '../graph/cut-tensors';
import { encodeModel } from '../onnx/rewrite';
import { positions, weightedSum, type LayerTensors } from './layer-tensors';

export const PERTURBATION_BATCH = 16;

export interface Progress {
  (done: number, total: number): void;
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new EngineError('cancelled', 'The analysis was cancelled.');
}

/** Runs `count` items through `run` in batches, falling back to one at a time when the graph has a fixed batch. */
async function batched(
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

export interface ScoreCamInput {
  layer: LayerTensors;
  /** The image tensor, [1, C, H, W] or, channelsLast, [1, H, W, C]. */
  input: { name: string; data: Float32Array; shape: number[]; channelsLast: boolean };
  session: ort.InferenceSession;
  scoreName: string;
  classIndex: number;
  classes: number;
}

export async function scoreCam(p: ScoreCamInput, onProgress?: Progress, signal?: AbortSignal): Promise<Float32Array> {
  const { layer, input } = p;
  const [, a, b, c] = input.shape as [number, number, number, number];
  const [channelsIn, height, width] = input.channelsLast ? [c, a, b] : [a, b, c];
  const plane = height * width;
  const z = positions(layer);
  const masks: Float32Array[] = [];
  for (let k = 0; k < layer.channels; k++) {
    const up = resizeMap(
      { width: layer.width, height: layer.height, data: layer.activation.subarray(k * z, (k + 1) * z) },
      width,
      height,
      'bilinear',
    );
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of up) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const range = hi - lo;
    masks.push(Float32Array.from(up, (v) => (range > 0 ? (v - lo) / range : 0)));
  }
  const logits = await batched(
    layer.channels,
    (start, n) => {
      const data = new Float32Array(n * channelsIn * plane);
      for (let b = 0; b < n; b++) {
        const mask = masks[start + b] as Float32Array;
        const out = data.subarray(b * channelsIn * plane, (b + 1) * channelsIn * plane);
        if (input.channelsLast) {
          for (let i = 0; i < plane; i++)
            for (let k = 0; k < channelsIn; k++)
              out[i * channelsIn + k] = (input.data[i * channelsIn + k] as number) * (mask[i] as number);
        } else {
          for (let k = 0; k < channelsIn; k++)
            for (let i = 0; i < plane; i++) out[k * plane + i] = (input.data[k * plane + i] as number) * (mask[i] as number);
        }
      }
      return new ort.Tensor('float32', data, [n, ...input.shape.slice(1)]);
    },
    async (batch) => {
      const r = await p.session.run({ [input.name]: batch }, [p.scoreName]);
      return r[p.scoreName]?.data as Float32Array;
    },
    p.classes,
    onProgress,
    signal,
  );
  const scores = Float64Array.from({ length: layer.channels }, (_, k) => logits[k * p.classes + p.classIndex] as number);
  let max = -Infinity;
  for (const s of scores) max = Math.max(max, s);
  let total = 0;
  const weights = scores.map((s) => {
    const e = Math.exp(s - max);
    total += e;
    return e;
  });
  return weightedSum(
    layer,
    weights.map((w) => w / total),
  );
}

/**
 * The model from `tensor` to the score: `tensor` becomes the input. Only defined for cut tensors (every
 * path passes through them, as for every stage), where nothing else from before is needed.
 */
export function tailModel(analysis: GraphAnalysis, tensor: TensorName, score: TensorName): Uint8Array {
  const index = analysis.index;
  if (!cutTensors(index).some((c) => c.tensor === tensor)) {
    throw new EngineError('unsupported', 'AblationCAM needs a layer that every path passes through (a stage output).');
  }
  const producer = index.producer.get(tensor) ?? -1;
  const constant = constantTensors(index);
  const nodes = index.nodes.filter((n, i) => i > producer || n.output.every((o) => !o || constant.has(o as TensorName)));
  const graph = analysis.runnable.graph;
  if (!graph) throw new EngineError('bad-model', 'The model has no graph.');
  const shape = analysis.shapes.get(tensor)?.shape ?? [];
  const batchAxis = analysis.gridOf(tensor)?.batchAxis ?? 0;
  const input = create(ValueInfoProtoSchema, {
    name: tensor,
    type: {
      value: {
        case: 'tensorType',
        value: {
          elemType: 1,
          shape: {
            dim: shape.map((d, i) =>
              i === batchAxis
                ? { value: { case: 'dimParam' as const, value: 'batch' } }
                : { value: { case: 'dimValue' as const, value: BigInt(d as number) } },
            ),
          },
        },
      },
    },
  });
  return encodeModel({
    ...analysis.runnable,
    graph: { ...graph, node: nodes, input: [input], output: [create(ValueInfoProtoSchema, { name: score })] },
  });
}

/** n [C, H, W] copies in the tensor's own layout, batched along its batch axis. */
function nativeBatch(grid: FeatureGrid, chw: Float32Array, native: Float32Array, n: number): ort.Tensor {
  const stacked = fromChannelMajor(grid, chw, native, n);
  const dims = grid.shape.map((d, i) => (i === grid.batchAxis ? n : d));
  if (grid.batchAxis === 0 || n === 1) return new ort.Tensor('float32', stacked, dims);
  // Sequence-first [T, n, C]: interleave the n copies token by token.
  const [tokens, , channels] = grid.shape as [number, number, number];
  const out = new Float32Array(stacked.length);
  for (let b = 0; b < n; b++)
    for (let t = 0; t < tokens; t++)
      out.set(stacked.subarray((b * tokens + t) * channels, (b * tokens + t + 1) * channels), (t * n + b) * channels);
  return new ort.Tensor('float32', out, dims);
}

export interface AblationInput {
  layer: LayerTensors;
  /** How the tail model's input holds the grid, and that input as the model computed it. */
  grid: FeatureGrid;
  native: Float32Array;
  tensor: TensorName;
  session: ort.InferenceSession;
  scoreName: string;
  classIndex: number;
  classes: number;
  baseline: number;
}

export async function ablationCam(p: AblationInput, onProgress?: Progress, signal?: AbortSignal): Promise<Float32Array> {
  const { layer } = p;
  const size = layer.channels * positions(layer);
  const z = positions(layer);
  const logits = await batched(
    layer.channels,
    (start, n) => {
      const data = new Float32Array(n * size);
      for (let b = 0; b < n; b++) {
        data.set(layer.activation, b * size);
        data.fill(0, b * size + (start + b) * z, b * size + (start + b + 1) * z);
      }
      return nativeBatch(p.grid, data, p.native, n);
    },
    async (batch) => {
      const r = await p.session.run({ [p.tensor]: batch }, [p.scoreName]);
      return r[p.scoreName]?.data as Float32Array;
    },
    p.classes,
    onProgress,
    signal,
  );
  const base = p.baseline;
  const weights = Float64Array.from(
    { length: layer.channels },
    (_, k) => (base - (logits[k * p.classes + p.classIndex] as number)) / (base === 0 ? 1e-7 : base),
  );
  return weightedSum(layer, weights);
}
