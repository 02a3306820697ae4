/**
 * The parts of a model the sanity check randomises, one at a time from the head down: the head (after the
 * last stage), each stage (the layers between the previous stage's output and its own), and the stem
 * (before the first stage). Randomised are the weights and biases of the layers that carry the model's
 * learned mapping — Conv, ConvTranspose, Gemm and MatMul initializers. Normalisation parameters stay: a
 * random variance would be negative, and a folded or unfolded BatchNorm then randomises alike.
 */
import type { TensorProto } from 'onnx-buf';
import type { TensorName } from '../../../src-shared/api';
import type { RandomisedModule } from '../../../src-shared/trust';
import type { GraphAnalysis } from '../graph/analyze-graph';
import { elementCount, floatValues } from '../onnx/tensor-data';
import { gaussian, mulberry32, streamSeed } from './random';

const WEIGHTED_OPS: Record<string, number[]> = {
  Conv: [1, 2],
  ConvTranspose: [1, 2],
  Gemm: [0, 1, 2],
  MatMul: [0, 1],
};
const FLOAT = 1;

export interface WeightModule extends RandomisedModule {
  weights: TensorProto[];
}

/** The model's randomisable weights grouped head first, then stages from the last to the first, then the stem. */
export function weightModules(analysis: GraphAnalysis): WeightModule[] {
  const { index } = analysis;
  const initializers = new Map((analysis.runnable.graph?.initializer ?? []).map((t) => [t.name, t]));
  const cuts = analysis.view.stages
    .map((s) => ({ label: String(s.module || s.tensor), module: String(s.module ?? ''), at: index.producer.get(s.tensor) ?? -1 }))
    .filter((c) => c.at >= 0)
    .sort((a, b) => a.at - b.at);
  // Segment 0 is the stem, segment k the layers of stage k (after stage k−1's output, up to its own), the
  // last the head. Before the first stage's output, only the nodes inside its module belong to it.
  const labels = ['stem', ...cuts.map((c) => c.label), 'head'];
  const firstModule = cuts[0]?.module ?? '';
  const segments: TensorProto[][] = labels.map(() => []);
  const seen = new Set<string>();
  index.nodes.forEach((node, i) => {
    const slots = WEIGHTED_OPS[node.opType];
    if (!slots || (node.domain !== '' && node.domain !== 'ai.onnx')) return;
    let segment = cuts.findIndex((c) => i <= c.at) + 1;
    if (segment === 0) segment = cuts.length + 1;
    if (segment === 1 && firstModule) {
      const module = String(analysis.tree.nodeModule[i] ?? '');
      if (module !== firstModule && !module.startsWith(`${firstModule}.`)) segment = 0;
    }
    for (const slot of slots) {
      const name = node.input[slot];
      const t = name ? initializers.get(name) : undefined;
      if (!t || seen.has(t.name) || t.dataType !== FLOAT || floatValues(t) === null) continue;
      seen.add(t.name);
      (segments[segment] as TensorProto[]).push(t);
    }
  });
  return labels
    .map((label, i) => {
      const weights = segments[i] as TensorProto[];
      return { label, weights, tensors: weights.length, parameters: weights.reduce((n, t) => n + elementCount(t), 0) };
    })
    .filter((m) => m.weights.length > 0)
    .reverse();
}

/**
 * A tensor re-initialised from its own statistics: N(mean, std) of its values, from a stream seeded by
 * the seed and the tensor's name (the same values in the cascading and the independent runs).
 */
export function randomisedValues(t: TensorProto, seed: number): Float32Array {
  const values = floatValues(t) ?? new Float32Array(elementCount(t));
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length || 1;
  let variance = 0;
  for (const v of values) variance += (v - mean) ** 2;
  const std = Math.sqrt(variance / (values.length || 1));
  const normal = gaussian(mulberry32(streamSeed(seed, t.name)));
  return Float32Array.from(values, () => mean + std * normal());
}

export const weightName = (t: TensorProto): TensorName => t.name as TensorName;
