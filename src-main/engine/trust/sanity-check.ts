/**
 * The model-parameter randomisation tests of Adebayo et al. ("Sanity Checks for Saliency Maps", 2018):
 * the maps are recomputed with the weights of the head, then each stage downwards, randomised (cascading),
 * and with each of those parts alone randomised (independent), and compared with the original maps. A
 * method whose maps stay the same when the weights they claim to explain are gone fails.
 *
 * One onnxruntime session serves every randomised model: the weights are inputs of the hooked graph
 * (weights-as-inputs.ts) and each run feeds the original or the randomised values. ScoreCAM and AblationCAM
 * run their perturbation passes the same way: through ScoreCAM's masked-score model, or the tail after the
 * layer, built from the model with the weights as inputs, fed the values of the state being checked.
 */
import type { TensorProto } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import type { TensorName } from '../../../src-shared/api';
import type { GraphForm } from '../hooks/graph-builder';
import type { CamMethod, RawMap } from '../../../src-shared/cam';
import { GRADIENT_METHODS, PERTURBATION_METHODS } from '../../../src-shared/cam';
import { resizeMap, scaleMap } from '../../../src-shared/heatmap';
import { sanityVerdict, type SanityLayer, type SanityResult, type Similarity } from '../../../src-shared/trust';
import { camHead } from '../cam/classifier-head';
import { weightedSum } from '../cam/layer-tensors';
import { CAM_METHOD_IMPLS } from '../cam/methods';
import { maskedScoreModel } from '../cam/masked-score-model';
import { tailInputs, tailModel } from '../cam/methods/ablationcam';
import type { PerturbationJob } from '../cam/methods/method';
import { throwIfCancelled } from '../cam/perturbation';
import { EngineError, describeError } from '../errors';
import type { GraphAnalysis } from '../graph/analyze-graph';
import { toChannelMajor, type FeatureGrid } from '../graph/feature-grid';
import type { ResolvedLayer } from '../graph/layers';
import { ConstantValues } from '../hooks/constant-values';
import { buildHookedModel, SEED_INPUT, TOP_WEIGHT_INPUT, type HookedModel } from '../hooks/hooked-model';
import { IN_GRAPH_METHODS } from '../hooks/map-graph';
import type { ModelSession, PooledSession } from '../inference/session-pool';
import type { InputTensor } from '../input-tensor';
import type { OpenModel } from '../model-registry';
import { floatValues } from '../onnx/tensor-data';
import type { Progress } from './batch-scorer';
import { pearson, ranks, ssimReference, ssimWith, type SsimReference } from './similarity';
import { randomisedValues, weightModules, type WeightModule } from './weight-modules';
import { weightsAsInputs } from './weights-as-inputs';

/** A map that is not one of LayerLens's methods, checked the same way (tests use an edge detector). */
export interface SanityControl {
  id: string;
  map(input: InputTensor, grid: { width: number; height: number }): RawMap;
}

export interface SanityImage {
  input: InputTensor;
  /** The class explained, fixed from the original model (a randomised model's top class is another). */
  classIndex: number;
}

export interface SanityRequest {
  model: OpenModel;
  analysis: GraphAnalysis;
  layers: ResolvedLayer[];
  methods: CamMethod[];
  images: SanityImage[];
  seed: number;
  controls?: SanityControl[];
}

export interface SanityDeps {
  /** A pooled session for `key` (the engine's bounded pool), built from `bytes` on a miss. */
  session(key: string, bytes: () => Uint8Array): Promise<PooledSession>;
  graphForm: GraphForm;
}

/** Maps of every (layer, method) of one run, as compared: upsampled (see compareSize), ReLU, min-max. */
type ShownMaps = Map<string, Float32Array>;
const mapKey = (layer: string, method: string): string => `${layer}\u0000${method}`;

/** Which weights are randomised in each compared state: cascading 1…M, then independent 2…M (1 is cascading 1). */
function states(modules: WeightModule[]): { kind: 'cascading' | 'independent'; step: number; random: Set<string> }[] {
  const names = modules.map((m) => m.weights.map((w) => w.name));
  const out: { kind: 'cascading' | 'independent'; step: number; random: Set<string> }[] = [];
  for (let i = 0; i < modules.length; i++)
    out.push({ kind: 'cascading', step: i, random: new Set(names.slice(0, i + 1).flat()) });
  for (let i = 1; i < modules.length; i++) out.push({ kind: 'independent', step: i, random: new Set(names[i]) });
  return out;
}

/** A run's weight values: the original or the randomised values of each fed weight. */
type WeightValues = (name: string) => Float32Array;

/** What every run of one check shares. */
interface CheckContext {
  req: SanityRequest;
  derived: GraphAnalysis;
  meta: Omit<HookedModel, 'bytes'>;
  pooled: PooledSession;
  inGraph: CamMethod[];
  wantsCam: boolean;
  perturbation: CamMethod[];
  /** The weights fed as inputs. */
  fed: ReadonlySet<string>;
  unavailable: Map<string, string>;
  compared: { width: number; height: number };
  signal: AbortSignal | undefined;
}

/** Hook descriptions of the weights-as-inputs graphs, kept while their analysis lives (a few per analysis). */
const descriptions = new WeakMap<GraphAnalysis, Map<string, Omit<HookedModel, 'bytes'>>>();
const DESCRIPTIONS_PER_ANALYSIS = 4;
/** The randomised weights of the last (analysis, seed) checked: one entry, as a model's weights can be large. */
let lastRandomised: { analysis: GraphAnalysis; seed: number; values: Map<string, Float32Array> } | null = null;

function randomisedWeights(analysis: GraphAnalysis, weights: TensorProto[], seed: number): Map<string, Float32Array> {
  if (lastRandomised?.analysis === analysis && lastRandomised.seed === seed) return lastRandomised.values;
  const values = new Map(weights.map((w) => [w.name, randomisedValues(w, seed)]));
  lastRandomised = { analysis, seed, values };
  return values;
}

/** A session whose every run is also fed `feeds` (the weights of the state checked). */
function withFeeds(session: ModelSession, feeds: Record<string, ort.Tensor>): ModelSession {
  return {
    run: (given, fetches) => session.run({ ...given, ...feeds }, fetches),
    release: () => Promise.resolve(),
  };
}

export class SanityChecker {
  constructor(private readonly deps: SanityDeps) {}

  async run(req: SanityRequest, onProgress?: Progress, signal?: AbortSignal): Promise<SanityResult> {
    const started = performance.now();
    const { model, analysis, layers, methods, images, seed } = req;
    const controls = req.controls ?? [];
    const modules = weightModules(analysis);
    if (modules.length === 0)
      throw new EngineError('unsupported', `${model.summary.name} has no Conv, Gemm or MatMul weights to randomise.`);
    const weights = modules.flatMap((m) => m.weights);
    const unavailable = new Map<string, string>();
    // CAM reads the head's weights, which this check randomises as inputs: it is computed here from them.
    const inGraph = methods.filter((m) => IN_GRAPH_METHODS.includes(m) && m !== 'cam').sort();
    const wantsCam = methods.includes('cam');
    const perturbation = methods.filter((m) => PERTURBATION_METHODS.includes(m));
    const tensors = [...new Set(layers.map((l) => l.tensor))];
    const derived = weightsAsInputs(analysis, weights, model.summary.name);
    const gradients = inGraph.some((m) => GRADIENT_METHODS.includes(m));
    const options = {
      maps: inGraph,
      exposeActivations: wantsCam || perturbation.length > 0,
      exposeGradients: false,
      form: this.deps.graphForm,
    };
    const key = JSON.stringify([
      model.id,
      'sanity',
      images[0]?.input.shape,
      inGraph,
      options.exposeActivations,
      [...tensors].sort(),
      options.form,
    ]);
    let known = descriptions.get(analysis);
    if (!known) descriptions.set(analysis, (known = new Map()));
    let meta = known.get(key) ?? null;
    const pooled = await this.deps.session(key, () => {
      const built = buildHookedModel(derived, tensors, gradients, options);
      meta = built;
      return built.bytes;
    });
    // A pooled session may outlive its description: rebuild the description (not the session) then.
    meta ??= buildHookedModel(derived, tensors, gradients, options);
    if (!known.has(key)) {
      if (known.size >= DESCRIPTIONS_PER_ANALYSIS) known.delete(known.keys().next().value as string);
      known.set(key, meta);
    }
    if (meta.gradientError)
      for (const m of inGraph.filter((x) => GRADIENT_METHODS.includes(x))) unavailable.set(m, meta.gradientError);

    const original = new Map(weights.map((w) => [w.name, floatValues(w) as Float32Array]));
    const randomised = randomisedWeights(analysis, weights, seed);
    const grids = layers.map((l) => analysis.gridOf(l.tensor)).filter((g) => g !== null);
    const ctx: CheckContext = {
      req,
      derived,
      meta,
      pooled,
      inGraph,
      wantsCam,
      perturbation,
      fed: new Set(weights.map((w) => w.name)),
      unavailable,
      compared: compareSize(images[0]?.input as InputTensor, analysis.channelsLast, grids),
      signal,
    };
    const compared = states(modules);
    const total = images.length * (compared.length + 1);
    const sums = new Map<string, { spearman: Float64Array; ssim: Float64Array }>();
    let done = 0;
    for (const image of images) {
      const valuesOf =
        (random: Set<string>): WeightValues =>
        (name) =>
          (random.has(name) ? randomised.get(name) : original.get(name)) as Float32Array;
      const all = [new Set<string>(), ...compared.map((s) => s.random)];
      // The next state's hooked run is started before this one's maps are compared: onnxruntime runs it
      // on its own threads while JavaScript compares.
      let next = this.launch(ctx, image, valuesOf(all[0] as Set<string>));
      let reference: { maps: ShownMaps; ranks: Map<string, Float64Array>; ssim: Map<string, SsimReference> } | null = null;
      for (let s = 0; s < all.length; s++) {
        throwIfCancelled(signal);
        const values = valuesOf(all[s] as Set<string>);
        const outputs = await next;
        if (s + 1 < all.length) next = this.launch(ctx, image, valuesOf(all[s + 1] as Set<string>));
        const maps = await this.shown(ctx, image, values, outputs);
        onProgress?.(++done, total);
        if (!reference) {
          reference = { maps, ranks: new Map(), ssim: new Map() };
          continue;
        }
        const at = s - 1;
        const { width, height } = ctx.compared;
        for (const [k, ref] of reference.maps) {
          const now = maps.get(k);
          if (!now) continue;
          let sum = sums.get(k);
          if (!sum) {
            sum = { spearman: new Float64Array(compared.length), ssim: new Float64Array(compared.length) };
            sums.set(k, sum);
          }
          let refRanks = reference.ranks.get(k);
          if (!refRanks) reference.ranks.set(k, (refRanks = ranks(ref)));
          let refSsim = reference.ssim.get(k);
          if (!refSsim) reference.ssim.set(k, (refSsim = ssimReference(ref, width, height)));
          sum.spearman[at] = (sum.spearman[at] as number) + pearson(refRanks, ranks(now));
          sum.ssim[at] = (sum.ssim[at] as number) + ssimWith(refSsim, now);
        }
      }
    }
    const n = images.length;
    const cascadingAt = compared.map((s, i) => (s.kind === 'cascading' ? i : -1)).filter((i) => i >= 0);
    // Independent step 0 is cascading step 0 (the head alone).
    const independentAt = [0, ...compared.map((s, i) => (s.kind === 'independent' ? i : -1)).filter((i) => i >= 0)];
    const pick = (s: { spearman: Float64Array; ssim: Float64Array }, at: number[]): Similarity => ({
      spearman: at.map((i) => (s.spearman[i] as number) / n),
      ssim: at.map((i) => (s.ssim[i] as number) / n),
    });
    const ids = [...methods, ...controls.map((c) => c.id)];
    const finals = new Map<string, number[]>();
    const outLayers: SanityLayer[] = layers.map((layer) => {
      const entry: SanityLayer = { label: layer.label, methods: {}, unavailable: {} };
      for (const id of ids) {
        const s = sums.get(mapKey(layer.label, id));
        if (!s) {
          entry.unavailable[id] = unavailable.get(mapKey(layer.label, id)) ?? unavailable.get(id) ?? 'no map for this layer';
          continue;
        }
        const cascading = pick(s, cascadingAt);
        const last = cascading.spearman.at(-1) as number;
        entry.methods[id] = { cascading, independent: pick(s, independentAt), verdict: sanityVerdict(last) };
        finals.set(id, [...(finals.get(id) ?? []), last]);
      }
      return entry;
    });
    const verdicts = Object.fromEntries(
      [...finals].map(([id, xs]) => [id, sanityVerdict(xs.reduce((a, b) => a + b, 0) / xs.length)]),
    );
    return {
      modules: modules.map(({ label, tensors: t, parameters }) => ({ label, tensors: t, parameters })),
      layers: outLayers,
      verdicts,
      images: n,
      ms: performance.now() - started,
    };
  }

  /** Starts one run of the weights-as-inputs hooked model with the given weight values. */
  private async launch(ctx: CheckContext, image: SanityImage, values: WeightValues): Promise<ort.InferenceSession.ReturnType> {
    const { meta, derived, pooled } = ctx;
    const { input } = image;
    const feeds: Record<string, ort.Tensor> = { [meta.inputName]: new ort.Tensor('float32', input.data, input.shape) };
    Object.assign(feeds, this.weightFeeds(derived, values, ctx.fed));
    if (meta.gradients !== null) {
      const seed = new Float32Array(meta.scoreShape.reduce((a, b) => a * b, 1));
      seed[image.classIndex] = 1;
      feeds[SEED_INPUT] = new ort.Tensor('float32', seed, meta.scoreShape);
      feeds[TOP_WEIGHT_INPUT] = new ort.Tensor('float32', Float32Array.of(0), []);
    }
    try {
      return await pooled.session.run(feeds);
    } catch (error) {
      throw new EngineError('inference-failed', `The sanity check's run failed: ${describeError(error).split('\n')[0]}`);
    }
  }

  private weightFeeds(derived: GraphAnalysis, values: WeightValues, names: Iterable<string>): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of names) {
      const shape = derived.inputShapes.get(name as TensorName);
      if (shape) feeds[name] = new ort.Tensor('float32', values(name), shape);
    }
    return feeds;
  }

  /** The maps of one run as compared, the perturbation methods' computed with the same weights. */
  private async shown(
    ctx: CheckContext,
    image: SanityImage,
    values: WeightValues,
    outputs: ort.InferenceSession.ReturnType,
  ): Promise<ShownMaps> {
    const { req, meta, inGraph, wantsCam, unavailable } = ctx;
    const { analysis, layers } = req;
    const { input } = image;
    const { width, height } = ctx.compared;
    const shown: ShownMaps = new Map();
    const show = (layer: string, method: string, map: RawMap): void => {
      shown.set(mapKey(layer, method), scaleMap(resizeMap(map, width, height, 'bilinear'), 'relu'));
    };
    const constants = wantsCam ? constantsWith(analysis, ctx.derived, values) : null;
    const logits = outputs[meta.score]?.data as Float32Array;
    const classes = meta.scoreShape.at(-1) ?? 0;
    for (const layer of layers) {
      const grid = analysis.gridOf(layer.tensor);
      if (!grid) continue;
      const size = { width: grid.width, height: grid.height };
      for (const m of inGraph) {
        const name = meta.maps.get(layer.tensor)?.get(m);
        if (!name) continue;
        show(layer.label, m, { ...size, data: (outputs[name]?.data as Float32Array).subarray(0, grid.width * grid.height) });
      }
      const native = (outputs[layer.tensor]?.data as Float32Array | undefined)?.subarray(
        0,
        grid.shape.reduce((a, d) => a * d, 1),
      );
      const activation = native ? toChannelMajor(grid, native) : null;
      if (constants && activation) {
        const head = camHead(analysis.index, constants, layer.tensor, meta.score, grid);
        if (head.ok) {
          const tensors = { channels: grid.channels, height: grid.height, width: grid.width, activation, gradient: null };
          show(layer.label, 'cam', { ...size, data: weightedSum(tensors, head.row(image.classIndex)) });
        } else unavailable.set(mapKey(layer.label, 'cam'), head.reason);
      }
      if (native && activation && ctx.perturbation.length > 0) {
        const job = this.perturbationJob(ctx, image, values, layer.tensor, grid, native, activation, logits, classes);
        for (const m of ctx.perturbation) {
          const impl = CAM_METHOD_IMPLS[m];
          if (impl.kind !== 'perturbation') continue;
          try {
            show(layer.label, m, { ...size, data: await impl.run(job, undefined, ctx.signal) });
          } catch (error) {
            if (error instanceof EngineError && error.code === 'cancelled') throw error;
            unavailable.set(mapKey(layer.label, m), describeError(error).split('\n')[0] ?? 'failed');
          }
        }
      }
      for (const c of req.controls ?? []) show(layer.label, c.id, c.map(input, size));
    }
    return shown;
  }

  /**
   * ScoreCAM's and AblationCAM's job for one layer of one run: their forward passes go through the plain
   * model (or its tail after the layer) with the weights as inputs, fed this run's values.
   */
  private perturbationJob(
    ctx: CheckContext,
    image: SanityImage,
    values: WeightValues,
    tensor: TensorName,
    grid: FeatureGrid,
    native: Float32Array,
    activation: Float32Array,
    logits: Float32Array,
    classes: number,
  ): PerturbationJob {
    const { req, derived, meta, fed } = ctx;
    const { model } = req;
    const shape = image.input.shape.join('x');
    const job: PerturbationJob = {
      layer: { channels: grid.channels, height: grid.height, width: grid.width, activation, gradient: null },
      grid,
      native,
      tensor,
      input: { name: meta.inputName, data: image.input.data, shape: image.input.shape, channelsLast: req.analysis.channelsLast },
      scoreName: meta.score,
      classIndex: image.classIndex,
      classes,
      baseline: logits[image.classIndex] as number,
      maskedScore: async () => {
        const grid = { height: job.layer.height, width: job.layer.width };
        const pooled = await this.deps.session(`${model.id}|sanity-scorecam|${shape}|${grid.height}x${grid.width}`, () =>
          maskedScoreModel(derived, {
            inputName: meta.inputName,
            inputShape: image.input.shape,
            channelsLast: req.analysis.channelsLast,
            height: grid.height,
            width: grid.width,
            score: meta.score,
          }),
        );
        return { ...pooled, session: withFeeds(pooled.session, this.weightFeeds(derived, values, fed)) };
      },
      tail: async () => {
        const pooled = await this.deps.session(`${model.id}|sanity-tail|${shape}|${tensor}`, () =>
          tailModel(derived, tensor, meta.score, fed),
        );
        return {
          ...pooled,
          session: withFeeds(pooled.session, this.weightFeeds(derived, values, tailInputs(derived, tensor, fed))),
        };
      },
    };
    return job;
  }
}

/** Compared maps never drop below this many pixels a side (SSIM's window is 11 wide), the input's size permitting. */
const MIN_COMPARED = 32;

/**
 * Where maps are compared: the finest of the layers' grids (no map has detail finer than its grid, so
 * nothing is lost; coarser maps are upsampled to it), at least MIN_COMPARED pixels a side, at most the
 * input. Comparing at the input's full size would cost ~10× more for the same answer.
 */
export function compareSize(
  input: InputTensor,
  channelsLast: boolean,
  grids: { width: number; height: number }[],
): { width: number; height: number } {
  const [, a, b, c] = input.shape as [number, number, number, number];
  const full = channelsLast ? { width: b, height: a } : { width: c, height: b };
  const finest = (d: 'width' | 'height'): number =>
    Math.min(full[d], Math.max(Math.min(MIN_COMPARED, full[d]), ...grids.map((g) => g[d])));
  return { width: finest('width'), height: finest('height') };
}

/** The constants CAM's head reads, with the fed (possibly randomised) weight values in place. */
function constantsWith(analysis: GraphAnalysis, derived: GraphAnalysis, values: (name: string) => Float32Array): ConstantValues {
  const graph = analysis.runnable.graph;
  const fed = new Set<string>([...derived.index.inputs]);
  const initializer = (graph?.initializer ?? []).map((t) => {
    if (!fed.has(t.name)) return t;
    const v = values(t.name);
    return { ...t, rawData: new Uint8Array(v.buffer, v.byteOffset, v.byteLength), floatData: [] };
  });
  return new ConstantValues({ ...analysis.runnable, graph: graph ? { ...graph, initializer } : undefined } as never);
}
