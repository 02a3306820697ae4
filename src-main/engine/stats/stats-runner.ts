/**
 * A stats run: the chosen layers' statistics over images streamed in batches (memory stays flat; see
 * batching.ts), accumulated per layer and image. Progress after every image; cancelling keeps the partial
 * result. Two forms compute the same figures:
 * - "graph": reductions appended to the model (stats-graph.ts); only a few numbers per layer and image leave
 *   the run, so on a GPU no activation leaves the device;
 * - "scan": the activations exposed as outputs and scanned in one fused pass (scan-activation.ts, Wasm).
 * The graph form is the one for GPUs. On the CPU the scan is faster (docs/performance.md): a histogram
 * is a scatter, which dense ops can only do by writing ~2√bins values per activation (13 for 40 bins),
 * where the scan reads each value once; so the CPU keeps the scan unless asked otherwise.
 */
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import type { TensorName } from '../../../src-shared/api';
import { EngineError } from '../errors';
import { knownShape, type GraphAnalysis } from '../graph/analyze-graph';
import { toChannelMajor } from '../graph/feature-grid';
import { resolveLayers } from '../graph/layers';
import type { HookedSessions, SessionSource } from '../hooks/hooked-sessions';
import type { InputTensor } from '../input-tensor';
import { LruCache } from '../lru-cache';
import type { OpenModel } from '../model-registry';
import { MAX_STATS_BATCH, planBatch, type BatchPlan } from './batching';
import type { ScanOutput } from './scan-activation';
import { scanAll, type ScanJob } from './scan-pool';
import { LayerStatsAccumulator, type HistogramRange, type LayerStatsResult } from './layer-stats';
import { histDigits, statsRange, statsView, type StatsView } from './stats-graph';
import { buildStatsModel, type StatsModel } from './stats-model';

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

/**
 * Every layer with parameters (named by its module) plus every stage output (`stages`: module paths or tensor
 * names; absent: the detected ones); activations etc. on request.
 */
export function defaultStatsLayers(analysis: GraphAnalysis, includeParamless: boolean, stages?: StatsLayer[]): StatsLayer[] {
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
  for (const s of stages ?? analysis.view.stages.map((g) => ({ label: g.module || g.tensor, tensor: g.tensor })))
    add(s.label, s.tensor);
  // Graph order, so plots read from input to output.
  return layers.sort((a, b) => (index.producer.get(a.tensor) ?? -1) - (index.producer.get(b.tensor) ?? -1));
}

export type StatsForm = 'graph' | 'scan';

export interface StatsRequest {
  /** Module paths or tensor names; null for the default set. */
  layers: string[] | null;
  /** The stages in the default set (absent: the detected ones). */
  stages?: string[];
  includeParamless: boolean;
  bins: number;
  range: HistogramRange;
  /** At most this many images per inference run (default per form; 1 feeds them one by one). */
  maxBatch?: number;
  /** Where the statistics are computed (default: "graph" off the CPU, "scan" on it; see above). */
  form?: StatsForm;
  /**
   * Memory one run may hold: the graph form's intermediate tensors (default GRAPH_BATCH_BYTES), the scan
   * form's exposed activations (default MAX_BATCH_ACTIVATION_BYTES).
   */
  batchBytes?: number;
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
  /** The form that ran: the scan also where the graph form was asked for but a layer's shape is unknown. */
  form: StatsForm;
  /**
   * Per group (inputs.group), the same figures over the group's images alone, accumulated in the same
   * pass; the histograms share the run's range (an "auto" range is the whole run's, fixed from its first image).
   */
  groups?: Map<number, { images: number; layers: (StatsLayer & { stats: LayerStatsResult })[] }>;
}

export interface StatsDeps {
  analysis(model: OpenModel, inputShape: number[]): Promise<GraphAnalysis>;
  hooked: HookedSessions;
  /** Sessions for the graph form's models (without it, only the scan form runs). */
  session?: SessionSource;
  /** Whether sessions run on the CPU provider (decides the default form). */
  onCpu?: () => boolean;
}

/** Descriptions of the graph form's models (their sessions live in the engine's pool under the same key). */
const described = new LruCache<string, Omit<StatsModel, 'bytes'>>(16);

/** The graph form's largest batch: a GPU gains little beyond it on ResNet-50 (bench/gpu-stats.ts). */
export const MAX_GRAPH_BATCH = 32;
/** The graph form's intermediate tensors per run on the CPU: the histogram's one-hot matrices dominate. */
export const GRAPH_BATCH_BYTES = 1024 * 1024 * 1024;
/**
 * The same on a GPU, where larger batches amortise the per-node dispatch cost: ResNet-50 at 224² costs
 * ~115 MB per image by the bound above, so 32 images fit (a GPU has far more; the provider does not say).
 */
export const GPU_BATCH_BYTES = 4 * 1024 * 1024 * 1024;

type Slot = { index: number; input: InputTensor } | { index: number; input: null };

/** One batch's figures, per layer and image, handed to the accumulators. */
type BatchFigures = (layer: number, image: number) => ScanOutput;

interface StatsPass {
  /** Runs one batch (`images` usable inputs packed first in `data`) and returns its figures. */
  run(data: Float32Array, images: number): Promise<BatchFigures>;
  /** Values per image and channels of each layer, as the accumulators count them. */
  shapes: { per: number; channels: number }[];
  provider: string;
}

export async function runStats(
  deps: StatsDeps,
  model: OpenModel,
  inputs: { count: number; load(i: number): Promise<InputTensor>; group?(i: number): number },
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
    : defaultStatsLayers(
        analysis,
        req.includeParamless,
        req.stages && resolveLayers(analysis, req.stages, model.summary.name).map((l) => ({ label: l.label, tensor: l.tensor })),
      );
  if (layers.length === 0)
    throw new EngineError('unsupported', `${model.summary.name} has no layers with parameters to collect statistics on.`);
  const tensors = [...new Set(layers.map((l) => l.tensor))];
  // The graph form needs every layer's shape to lay its reductions out; where one is unknown (a shape the
  // probe could not settle), only the scan form, which reads the shapes from the outputs, can run.
  const shapesKnown = tensors.every((t) => knownShape(analysis, t) !== null);
  const preferred: StatsForm = req.form ?? (deps.onCpu?.() === false ? 'graph' : 'scan');
  const form: StatsForm = deps.session && shapesKnown ? preferred : 'scan';
  const remaining = inputs.count - firstLoaded;
  const analyse = (shape: number[]) => deps.analysis(model, shape);
  const accumulators = layers.map(() => new LayerStatsAccumulator(req.bins, req.range));
  let plan: BatchPlan;
  let pass: StatsPass;
  if (form === 'graph') {
    // Per image: the forward's activations (at most all the hooked ones: a bound), and for the largest
    // layer its one-hot digit matrices (float and bool) and the float passes before them — one layer's
    // intermediates at a time, freed before the next layer's.
    const [d1, d2] = histDigits(req.bins);
    const bytesOf = (sizes: number[]) => Math.max(...sizes) * (5 * (d1 + d2) + 24) + 4 * sizes.reduce((a, b) => a + b, 0);
    plan = await planBatch(
      model,
      analysis,
      tensors,
      first.shape,
      remaining,
      analyse,
      req.maxBatch ?? MAX_GRAPH_BATCH,
      bytesOf,
      req.batchBytes ?? (deps.onCpu?.() === false ? GPU_BATCH_BYTES : GRAPH_BATCH_BYTES),
    );
    pass = await graphPass(deps, model, plan, layers, req, accumulators);
  } else {
    plan = await planBatch(
      model,
      analysis,
      tensors,
      first.shape,
      remaining,
      analyse,
      req.maxBatch ?? MAX_STATS_BATCH,
      undefined,
      req.batchBytes,
    );
    pass = await scanPass(deps, model, plan, layers, tensors, req, accumulators);
  }
  const groups = new Map<number, { images: number; accumulators: LayerStatsAccumulator[] }>();
  const groupOf = (index: number) => {
    const g = inputs.group?.(index) as number;
    let group = groups.get(g);
    if (!group) {
      const range = (k: number): HistogramRange => {
        const known = (accumulators[k] as LayerStatsAccumulator).knownRange();
        return known ? { kind: 'fixed', lo: known[0], hi: known[1] } : req.range;
      };
      group = { images: 0, accumulators: layers.map((_, k) => new LayerStatsAccumulator(req.bins, range(k))) };
      groups.set(g, group);
    }
    return group;
  };
  const imageSize = first.data.length;
  const feed = new Float32Array(plan.size * imageSize);
  let done = 0;
  let cancelled = false;
  let next = firstLoaded;
  while (next < inputs.count && !cancelled) {
    // Gather up to a batch of usable inputs; unusable ones keep their place in the progress order.
    const slots: Slot[] = [];
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
    let figures: BatchFigures | null = null;
    if (usable > 0) {
      let j = 0;
      for (const slot of slots) if (slot.input) feed.set(slot.input.data, imageSize * j++);
      // The padding of a last, partial batch is computed and ignored.
      feed.fill(0, imageSize * j);
      figures = await pass.run(feed, usable);
    }
    let j = 0;
    for (const slot of slots) {
      if (slot.input && figures) {
        if (signal?.aborted) {
          cancelled = true;
          break;
        }
        const group = inputs.group ? groupOf(slot.index) : null;
        for (const [k, shape] of pass.shapes.entries()) {
          (accumulators[k] as LayerStatsAccumulator).addScanned(figures(k, j), shape.per, shape.channels);
          (group?.accumulators[k] as LayerStatsAccumulator | undefined)?.addScanned(figures(k, j), shape.per, shape.channels);
        }
        if (group) group.images += 1;
        j += 1;
        done += 1;
      }
      onProgress?.(slot.index + 1, inputs.count);
    }
  }
  return {
    images: done,
    skipped,
    total: inputs.count,
    cancelled,
    layers: layers.map((l, k) => ({ ...l, stats: (accumulators[k] as LayerStatsAccumulator).result() })),
    provider: pass.provider,
    ms: performance.now() - started,
    batch: plan.size,
    form,
    ...(inputs.group
      ? {
          groups: new Map(
            [...groups].map(([g, { images, accumulators: acc }]) => [
              g,
              { images, layers: layers.map((l, k) => ({ ...l, stats: (acc[k] as LayerStatsAccumulator).result() })) },
            ]),
          ),
        }
      : {}),
  };
}

/** The scan form: the activations exposed as outputs, every (image, layer) scanned on up to two threads. */
async function scanPass(
  deps: StatsDeps,
  model: OpenModel,
  plan: BatchPlan,
  layers: StatsLayer[],
  tensors: TensorName[],
  req: StatsRequest,
  accumulators: LayerStatsAccumulator[],
): Promise<StatsPass> {
  // Layers whose grid is not NCHW (NCHW and flat outputs are scanned as they come).
  const grids = layers.map((l) => {
    const grid = plan.analysis.gridOf(l.tensor);
    return grid && !(grid.channelsFirst && grid.prefix === 0) ? grid : null;
  });
  const { meta, pooled } = await deps.hooked.get(
    model,
    plan.analysis,
    tensors,
    false,
    { exposeActivations: true },
    plan.inputShape,
  );
  // Read from the outputs themselves (the analysis may not know every shape when images go one by one).
  const shapes: { per: number; channels: number }[] = [];
  return {
    provider: pooled.provider,
    shapes,
    async run(data, images) {
      const outputs = await pooled.session.run({ [meta.inputName]: new ort.Tensor('float32', data, plan.inputShape) }, tensors);
      const jobs: ScanJob[] = [];
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
        const channels = grid ? grid.channels : t.dims.length >= 2 ? Number(t.dims[1]) : 1;
        shapes[k] = { per: grid ? grid.channels * grid.height * grid.width : stride, channels };
        const firstImage = image(0);
        const [lo, hi] = (accumulators[k] as LayerStatsAccumulator).rangeFor(firstImage);
        for (let j = 0; j < images; j++) jobs.push({ values: j === 0 ? firstImage : image(j), channels, lo, hi, bins: req.bins });
      }
      const scanned = await scanAll(jobs);
      for (const t of Object.values(outputs)) t.dispose();
      return (k, j) => scanned[k * images + j] as ScanOutput;
    },
  };
}

/** The graph form: the model with the reductions appended; only their small outputs are read. */
async function graphPass(
  deps: StatsDeps,
  model: OpenModel,
  plan: BatchPlan,
  layers: StatsLayer[],
  req: StatsRequest,
  accumulators: LayerStatsAccumulator[],
): Promise<StatsPass> {
  const session = deps.session as SessionSource;
  const views = layers.map((l) => {
    const shape = knownShape(plan.analysis, l.tensor);
    if (!shape)
      throw new EngineError(
        'unsupported',
        `The shape of ${l.label} is unknown, so its statistics cannot be computed in the graph.`,
      );
    const grid = plan.analysis.gridOf(l.tensor);
    return statsView(shape, plan.size, grid && !(grid.channelsFirst && grid.prefix === 0) ? grid : null);
  });
  const auto = req.range.kind === 'auto';
  // Long histogram rows leave a GPU's cores idle; the CPU's GEMM takes any length.
  const options = { bins: req.bins, hist: true, minMax: auto, histRow: deps.onCpu?.() === false ? 4096 : undefined };
  const key = JSON.stringify([model.id, 'stats', plan.inputShape, options, layers.map((l) => l.tensor)]);
  const build = () =>
    buildStatsModel(
      plan.analysis,
      layers.map((l, k) => ({ tensor: l.tensor, view: views[k] as StatsView })),
      options,
    );
  let fresh: StatsModel | null = null;
  let meta = described.get(key);
  if (!meta) {
    // Keep the description, not the (large) bytes: once the session exists they are not needed.
    const { bytes, ...description } = (fresh = build());
    void bytes;
    meta = description;
    described.set(key, meta);
  }
  const pooled = await session(key, () => fresh?.bytes ?? build().bytes, model);
  fresh = null;
  const scalar = (v: number) => new ort.Tensor('float32', Float32Array.of(v), [1]);
  const rangeFeeds = (): Record<string, ort.Tensor> => {
    const feeds: Record<string, ort.Tensor> = {};
    meta.layers.forEach((o, k) => {
      const acc = accumulators[k] as LayerStatsAccumulator;
      const [lo, hi] = acc.knownRange() ?? [0, 1];
      const { lo32, scale32, hi32 } = statsRange(lo, hi, req.bins);
      feeds[o.lo] = scalar(lo32);
      feeds[o.scale] = scalar(scale32);
      feeds[o.hi] = scalar(hi32);
    });
    return feeds;
  };
  const fetch = meta.layers.flatMap((o) => [
    o.sum,
    o.sumSq,
    o.near,
    o.hist as TensorName,
    o.atHi as TensorName,
    ...(auto ? [o.min, o.max] : []),
  ]);
  const runOnce = (data: Float32Array) =>
    pooled.session.run(
      { [meta.inputName]: new ort.Tensor('float32', data, plan.inputShape), ...rangeFeeds() },
      fetch as string[],
    );
  let ranged = !auto;
  return {
    provider: pooled.provider,
    shapes: views.map((v) => ({ per: v.channels * v.per, channels: v.channels })),
    async run(data) {
      let outputs = await runOnce(data);
      if (!ranged) {
        // The automatic range comes from the first image: its min and max, then the batch again with it.
        meta.layers.forEach((o, k) => {
          const min = (outputs[o.min as string] as ort.Tensor).data as Float32Array;
          const max = (outputs[o.max as string] as ort.Tensor).data as Float32Array;
          (accumulators[k] as LayerStatsAccumulator).setAutoRange(min[0] as number, max[0] as number);
        });
        ranged = true;
        outputs = await runOnce(data);
      }
      const read = (name: TensorName) => (outputs[name] as ort.Tensor).data as Float32Array;
      const figures = meta.layers.map((o, k) => {
        const { channels } = views[k] as StatsView;
        const hist = Float64Array.from(read(o.hist as TensorName));
        // Values equal to hi go to the last bin (stats-graph.ts counts them apart).
        const atHi = read(o.atHi as TensorName);
        for (let j = 0; j < atHi.length; j++)
          hist[(j + 1) * req.bins - 1] = (hist[(j + 1) * req.bins - 1] as number) + (atHi[j] as number);
        return { sum: read(o.sum), sumSq: read(o.sumSq), near: read(o.near), hist, channels };
      });
      return (k, j) => {
        const f = figures[k] as (typeof figures)[number];
        const c = f.channels;
        return {
          channelSum: Float64Array.from(f.sum.subarray(j * c, (j + 1) * c)),
          channelSumSq: Float64Array.from(f.sumSq.subarray(j * c, (j + 1) * c)),
          channelNear: Float64Array.from(f.near.subarray(j * c, (j + 1) * c)),
          hist: f.hist.slice(j * req.bins, (j + 1) * req.bins),
        };
      };
    },
  };
}
