/**
 * A stats run: forward hooks on the chosen layers, images streamed one at a time (memory stays flat), the
 * statistics accumulated per layer. Progress after every image; cancelling keeps the partial result.
 */
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import type { TensorName } from '../../../src-shared/api';
import { EngineError } from '../errors';
import type { GraphAnalysis } from '../graph/analyze-graph';
import { resolveLayers } from '../graph/layers';
import type { HookedSessions } from '../hooks/hooked-sessions';
import type { InputTensor } from '../input-tensor';
import type { OpenModel } from '../model-registry';
import { LayerStatsAccumulator, type HistogramRange, type LayerStatsResult } from './layer-stats';

/** Ops that carry parameters (fastai hooks "every layer with parameters"). */
const PARAMETRIC = new Set([
  'Conv',
  'ConvTranspose',
  'Gemm',
  'MatMul',
  'BatchNormalization',
  'InstanceNormalization',
  'LayerNormalization',
  'PRelu',
]);
/** Parameter-less layers added with includeParamless (fastai's include_paramless). */
const PARAMLESS = new Set([
  'Relu',
  'LeakyRelu',
  'Clip',
  'Sigmoid',
  'Tanh',
  'HardSwish',
  'HardSigmoid',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'Add',
]);

export interface StatsLayer {
  label: string;
  tensor: TensorName;
}

/** Every layer with parameters (named by its module) plus every stage output; activations etc. on request. */
export function defaultStatsLayers(analysis: GraphAnalysis, includeParamless: boolean): StatsLayer[] {
  const { index, tree } = analysis;
  const seen = new Set<TensorName>();
  const layers: StatsLayer[] = [];
  const add = (label: string, tensor: TensorName): void => {
    if (seen.has(tensor)) return;
    seen.add(tensor);
    layers.push({ label, tensor });
  };
  const perModule = new Map<string, number>();
  for (const m of tree.nodeModule) perModule.set(m, (perModule.get(m) ?? 0) + 1);
  index.nodes.forEach((node, i) => {
    const parametric = PARAMETRIC.has(node.opType) && node.input.some((x) => index.initializers.has(x as TensorName));
    if (!parametric && !(includeParamless && PARAMLESS.has(node.opType))) return;
    const out = node.output[0] as TensorName | undefined;
    if (!out) return;
    const module = tree.nodeModule[i];
    // A module that is this one layer is named by its path ("layer1.0.conv1"); otherwise the node's name.
    add(module && perModule.get(module) === 1 ? module : node.name || out, out);
  });
  for (const s of analysis.view.stages) add(s.module || s.tensor, s.tensor);
  // Graph order, so plots read from input to output.
  return layers.sort((a, b) => (index.producer.get(a.tensor) ?? -1) - (index.producer.get(b.tensor) ?? -1));
}

export interface StatsRequest {
  /** Module paths or tensor names; null for the default set. */
  layers: string[] | null;
  includeParamless: boolean;
  bins: number;
  range: HistogramRange;
}

export interface StatsResult {
  /** Images whose statistics were collected. */
  images: number;
  /** Inputs that could not be used (unreadable, wrong shape), with the reason; the run goes on without them. */
  skipped: { index: number; reason: string }[];
  total: number;
  cancelled: boolean;
  layers: (StatsLayer & { stats: LayerStatsResult })[];
  provider: string;
  ms: number;
}

export interface StatsDeps {
  analysis(model: OpenModel, inputShape: number[]): Promise<GraphAnalysis>;
  hooked: HookedSessions;
}

export async function runStats(
  deps: StatsDeps,
  model: OpenModel,
  inputs: { count: number; load(i: number): Promise<InputTensor> },
  req: StatsRequest,
  onProgress?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<StatsResult> {
  const started = performance.now();
  if (inputs.count === 0) throw new EngineError('bad-input', 'No images to analyse.');
  if (!Number.isInteger(req.bins) || req.bins < 1 || req.bins > 10_000)
    throw new EngineError('bad-input', `bins must be 1–10000 (got ${req.bins}).`);
  const skipped: StatsResult['skipped'] = [];
  // The first usable input fixes the input shape; unusable ones are reported, not fatal.
  let first: InputTensor | null = null;
  let firstIndex = 0;
  for (; firstIndex < inputs.count && !first; firstIndex++) {
    try {
      first = await inputs.load(firstIndex);
    } catch (error) {
      if (!(error instanceof EngineError)) throw error;
      skipped.push({ index: firstIndex, reason: error.message });
    }
  }
  if (!first) throw new EngineError('bad-input', `None of the ${inputs.count} inputs could be used: ${skipped[0]?.reason ?? ''}`);
  const firstLoaded = firstIndex - 1;
  const analysis = await deps.analysis(model, first.shape);
  const layers = req.layers
    ? resolveLayers(analysis, req.layers, model.summary.name).map((l) => ({ label: l.label, tensor: l.tensor }))
    : defaultStatsLayers(analysis, req.includeParamless);
  if (layers.length === 0)
    throw new EngineError('unsupported', `${model.summary.name} has no layers with parameters to collect statistics on.`);
  const tensors = [...new Set(layers.map((l) => l.tensor))];
  const { meta, pooled } = await deps.hooked.get(model, analysis, tensors, false, { exposeActivations: true }, first.shape);
  const accumulators = layers.map(() => new LayerStatsAccumulator(req.bins, req.range));
  let done = 0;
  let cancelled = false;
  for (let i = firstLoaded; i < inputs.count; i++) {
    if (signal?.aborted) {
      cancelled = true;
      break;
    }
    let input: InputTensor;
    try {
      input = i === firstLoaded ? first : await inputs.load(i);
      if (input.shape.join('x') !== first.shape.join('x')) {
        throw new EngineError(
          'bad-input',
          `input ${i} has shape [${input.shape.join(', ')}], unlike the first ([${first.shape.join(', ')}])`,
        );
      }
    } catch (error) {
      if (!(error instanceof EngineError)) throw error;
      skipped.push({ index: i, reason: error.message });
      onProgress?.(i + 1, inputs.count);
      continue;
    }
    const outputs = await pooled.session.run({ [meta.inputName]: new ort.Tensor('float32', input.data, input.shape) }, tensors);
    layers.forEach((layer, k) => {
      const t = outputs[layer.tensor] as ort.Tensor;
      const channels = t.dims.length >= 2 ? Number(t.dims[1]) : 1;
      (accumulators[k] as LayerStatsAccumulator).add(t.data as Float32Array, channels);
    });
    for (const t of Object.values(outputs)) t.dispose();
    done += 1;
    onProgress?.(i + 1, inputs.count);
  }
  return {
    images: done,
    skipped,
    total: inputs.count,
    cancelled,
    layers: layers.map((l, k) => ({ ...l, stats: (accumulators[k] as LayerStatsAccumulator).result() })),
    provider: pooled.provider,
    ms: performance.now() - started,
  };
}
