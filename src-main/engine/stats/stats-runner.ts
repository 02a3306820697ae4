/**
 * A stats run: forward hooks on the chosen layers, images streamed in batches (memory stays flat; see
 * batching.ts), the statistics accumulated per layer and image. Progress after every image; cancelling keeps
 * the partial result.
 */
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import type { TensorName } from '../../../src-shared/api';
import { EngineError } from '../errors';
import type { GraphAnalysis } from '../graph/analyze-graph';
import { toChannelMajor } from '../graph/feature-grid';
import { resolveLayers } from '../graph/layers';
import type { HookedSessions } from '../hooks/hooked-sessions';
import type { InputTensor } from '../input-tensor';
import type { OpenModel } from '../model-registry';
import { planBatch } from './batching';
import type { ScanOutput } from './scan-activation';
import { scanAll, type ScanJob } from './scan-pool';
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
  /** At most this many images per inference run (default MAX_STATS_BATCH; 1 feeds them one by one). */
  maxBatch?: number;
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
  /** Images per inference run (1 where the model's batch dimension is fixed). */
  batch: number;
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
  // Layers whose grid is not NCHW (NCHW and flat outputs are scanned as they come).
  const grids = layers.map((l) => {
    const grid = analysis.gridOf(l.tensor);
    return grid && !(grid.channelsFirst && grid.prefix === 0) ? grid : null;
  });
  const plan = await planBatch(
    model,
    analysis,
    tensors,
    first.shape,
    inputs.count - firstLoaded,
    (shape) => deps.analysis(model, shape),
    req.maxBatch,
  );
  const { meta, pooled } = await deps.hooked.get(
    model,
    plan.analysis,
    tensors,
    false,
    { exposeActivations: true },
    plan.inputShape,
  );
  const accumulators = layers.map(() => new LayerStatsAccumulator(req.bins, req.range));
  const imageSize = first.data.length;
  const feed = plan.size === 1 ? null : new Float32Array(plan.size * imageSize);
  let done = 0;
  let cancelled = false;
  let next = firstLoaded;
  while (next < inputs.count && !cancelled) {
    // Gather up to a batch of usable inputs; unusable ones keep their place in the progress order.
    const slots: ({ index: number; input: InputTensor } | { index: number; input: null })[] = [];
    let usable = 0;
    for (; next < inputs.count && usable < plan.size; next++) {
      if (signal?.aborted) {
        cancelled = true;
        break;
      }
      try {
        const input = next === firstLoaded ? first : await inputs.load(next);
        if (input.shape.join('x') !== first.shape.join('x')) {
          throw new EngineError(
            'bad-input',
            `input ${next} has shape [${input.shape.join(', ')}], unlike the first ([${first.shape.join(', ')}])`,
          );
        }
        slots.push({ index: next, input });
        usable += 1;
      } catch (error) {
        if (!(error instanceof EngineError)) throw error;
        skipped.push({ index: next, reason: error.message });
        slots.push({ index: next, input: null });
      }
    }
    // Cancelled while gathering: the images gathered are not run (their progress was not reported).
    if (cancelled) break;
    let outputs: Record<string, ort.Tensor> | null = null;
    if (usable > 0) {
      let data: Float32Array;
      if (feed) {
        let j = 0;
        for (const slot of slots) if (slot.input) feed.set(slot.input.data, imageSize * j++);
        // The padding of a last, partial batch is computed and ignored.
        feed.fill(0, imageSize * j);
        data = feed;
      } else data = (slots.find((slot) => slot.input)?.input as InputTensor).data;
      outputs = await pooled.session.run({ [meta.inputName]: new ort.Tensor('float32', data, plan.inputShape) }, tensors);
    }
    // Every (image, layer) of the batch scanned at once (on two threads where there are cores to spare).
    const images = slots.filter((slot) => slot.input).length;
    const jobs: ScanJob[] = [];
    const shapes: { per: number; channels: number }[] = [];
    if (outputs) {
      for (const [k, layer] of layers.entries()) {
        const t = outputs[layer.tensor] as ort.Tensor;
        const all = t.data as Float32Array;
        const stride = all.length / plan.size;
        // The scan splits an image's values into channel runs: channels-last maps and tokens are made
        // channel-major first (tokens that are not grid positions, a class token, left out).
        const grid = grids[k];
        const image = (j: number): Float32Array => {
          const values = all.subarray(stride * j, stride * (j + 1));
          return grid ? toChannelMajor(grid, values) : values;
        };
        const per = grid ? grid.channels * grid.height * grid.width : stride;
        const channels = grid ? grid.channels : t.dims.length >= 2 ? Number(t.dims[1]) : 1;
        const accumulator = accumulators[k] as LayerStatsAccumulator;
        const firstImage = image(0);
        const [lo, hi] = accumulator.rangeFor(firstImage);
        shapes.push({ per, channels });
        for (let j = 0; j < images; j++) jobs.push({ values: j === 0 ? firstImage : image(j), channels, lo, hi, bins: req.bins });
      }
    }
    const scanned = jobs.length > 0 ? await scanAll(jobs) : [];
    let j = 0;
    for (const slot of slots) {
      if (slot.input) {
        if (signal?.aborted) {
          cancelled = true;
          break;
        }
        for (const [k, shape] of shapes.entries())
          (accumulators[k] as LayerStatsAccumulator).addScanned(scanned[k * images + j] as ScanOutput, shape.per, shape.channels);
        j += 1;
        done += 1;
      }
      onProgress?.(slot.index + 1, inputs.count);
    }
    if (outputs) for (const t of Object.values(outputs)) t.dispose();
  }
  return {
    images: done,
    skipped,
    total: inputs.count,
    cancelled,
    layers: layers.map((l, k) => ({ ...l, stats: (accumulators[k] as LayerStatsAccumulator).result() })),
    provider: pooled.provider,
    ms: performance.now() - started,
    batch: plan.size,
  };
}
