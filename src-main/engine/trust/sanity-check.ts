/**
 * The model-parameter randomisation tests of Adebayo et al. ("Sanity Checks for Saliency Maps", 2018):
 * the maps are recomputed with the weights of the head, then each stage downwards, randomised (cascading),
 * and with each of those parts alone randomised (independent), and compared with the original maps. A
 * method whose maps stay the same when the weights they claim to explain are gone fails.
 *
 * One onnxruntime session serves every state of every image for a seed: the model rewritten so that a
 * batch holds one item per state, each with its own constant weights (state-batch.ts), run once per image
 * with per-item seeds and maps (HookOptions.items). Where that rewrite cannot apply (a fixed batch of 1, a
 * node that mixes the items, a failure building or running it), one session with the weights as graph
 * inputs (weights-as-inputs.ts) runs each state in turn, fed its values. ScoreCAM and AblationCAM run their
 * perturbation passes that way in both cases: through ScoreCAM's masked-score model, or the tail after the
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
import { checkClassIndex } from '../classify';
import { EngineError, describeError } from '../errors';
import type { GraphAnalysis } from '../graph/analyze-graph';
import { toChannelMajor, type FeatureGrid } from '../graph/feature-grid';
import type { ResolvedLayer } from '../graph/layers';
import { ConstantValues } from '../hooks/constant-values';
import { buildHookedModel, scoreTensor, type HookedModel } from '../hooks/hooked-model';
import { seedFeeds } from '../hooks/seed-feeds';
import { IN_GRAPH_METHODS } from '../hooks/map-graph';
import type { ModelSession, PooledSession } from '../inference/session-pool';
import type { InputTensor } from '../input-tensor';
import type { OpenModel } from '../model-registry';
import { floatValues } from '../onnx/tensor-data';
import type { Progress } from './batch-scorer';
import { prepareComparisons } from './compare-pool';
import { MapArena } from './map-arena';
import {
  CoincidingMaps,
  compareSize,
  compareStates,
  mapKey,
  StateComparisons,
  type ShownMaps,
  type Sums,
} from './sanity-compare';
import { randomisedValues, weightModules, type WeightModule } from './weight-modules';
import { stateBatchModel, stateOrder } from './state-batch';
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
  /**
   * The model analysed at another input shape (the batch of states). Without it, or when the batched
   * rewrite cannot apply, every state is a run of its own with the weights fed as inputs.
   */
  analysis?(inputShape: number[]): Promise<GraphAnalysis>;
  /** Force the fed-weights path (tests compare the two). */
  fedWeights?: boolean;
}

type StateKind = 'original' | 'cascading' | 'independent';

/** Which weights are randomised in each compared state: cascading 1…M, then independent 2…M (1 is cascading 1). */
function states(modules: WeightModule[]): { kind: 'cascading' | 'independent'; step: number; random: Set<string> }[] {
  const names = modules.map((m) => m.weights.map((w) => w.name));
  const out: { kind: 'cascading' | 'independent'; step: number; random: Set<string> }[] = [];
  for (let i = 0; i < modules.length; i++)
    out.push({ kind: 'cascading', step: i, random: new Set(names.slice(0, i + 1).flat()) });
  for (let i = 1; i < modules.length; i++) out.push({ kind: 'independent', step: i, random: new Set(names[i]) });
  return out;
}

/** Where a state sits in [original, ...states(modules)]. */
function stateIndex(kind: StateKind, step: number, modules: number): number {
  if (kind === 'original') return 0;
  return kind === 'cascading' ? 1 + step : modules + step;
}

/** A run's weight values: the original or the randomised values of each fed weight. */
type WeightValues = (name: string) => Float32Array;

/** One item of a run's outputs: what a state's compared maps are made from. */
interface ItemView {
  /** An in-graph map's H·W values. */
  map(name: TensorName, size: number): Float32Array | undefined;
  /** A hooked activation's values (one item's `size` values). */
  native(tensor: TensorName, size: number): Float32Array | undefined;
  logits: Float32Array;
}

/** One state's maps as they are made, layer by layer. */
interface StateMaps {
  shown: ShownMaps;
  /** Maps equal to one made before share its shown array (by hash, then value). */
  made: CoincidingMaps<Float32Array>;
  values: WeightValues;
  /** The constants CAM's head reads, with this state's weights (made when first asked for). */
  constants: () => ConstantValues;
}

/** A hooked session and its description: the batch of states, or the weights-as-inputs model. */
interface HookedSession {
  meta: Omit<HookedModel, 'bytes'>;
  pooled: PooledSession;
}

/** What every run of one check shares. */
interface CheckContext {
  req: SanityRequest;
  /** The model with the weights as inputs (the fallback's runs, ScoreCAM's and AblationCAM's passes). */
  derived: () => GraphAnalysis;
  inGraph: CamMethod[];
  wantsCam: boolean;
  perturbation: CamMethod[];
  gradients: boolean;
  tensors: TensorName[];
  /** The randomisable weights (fed as inputs on the fallback path). */
  fed: ReadonlySet<string>;
  unavailable: Map<string, string>;
  compared: { width: number; height: number };
  /** Where an image's shown maps are written (reset for each image, once the last one's are compared). */
  arena: MapArena;
  signal: AbortSignal | undefined;
}

/** Hook descriptions of the sanity check's graphs, kept while their analysis lives (a few per analysis). */
const descriptions = new WeakMap<GraphAnalysis, Map<string, Omit<HookedModel, 'bytes'>>>();
const DESCRIPTIONS_PER_ANALYSIS = 4;
/** The randomised weights of the last (analysis, seed) checked: one entry, as a model's weights can be large. */
let lastRandomised: { analysis: GraphAnalysis; seed: number; values: Map<string, Float32Array> } | null = null;
/** Why the batch of states could not be built or run, per analysis and key: those checks feed the weights. */
const refusals = new WeakMap<GraphAnalysis, Map<string, string>>();

function randomisedWeights(analysis: GraphAnalysis, weights: TensorProto[], seed: number): Map<string, Float32Array> {
  if (lastRandomised?.analysis === analysis && lastRandomised.seed === seed) return lastRandomised.values;
  const values = new Map(weights.map((w) => [w.name, randomisedValues(w, seed)]));
  lastRandomised = { analysis, seed, values };
  return values;
}

/**
 * The last batch input, kept for the next run: the image repeated for every state is megabytes (5 MB on
 * the demo), and an array that size per image set off collections that slowed the comparisons. One spare,
 * taken while a run uses it (two checks at once each get their own).
 */
let spareBatchInput: Float32Array | null = null;

function takeBatchInput(length: number): Float32Array {
  const spare = spareBatchInput;
  spareBatchInput = null;
  return spare?.length === length ? spare : new Float32Array(length);
}

/** A session whose every run is also fed `feeds` (the weights of the state checked). */
function withFeeds(session: ModelSession, feeds: Record<string, ort.Tensor>): ModelSession {
  return {
    run: (given, fetches) => session.run({ ...given, ...feeds }, fetches),
    release: () => Promise.resolve(),
  };
}

function remember<V>(store: WeakMap<GraphAnalysis, Map<string, V>>, analysis: GraphAnalysis, key: string, value: V): void {
  let known = store.get(analysis);
  if (!known) store.set(analysis, (known = new Map()));
  if (!known.has(key) && known.size >= DESCRIPTIONS_PER_ANALYSIS) known.delete(known.keys().next().value as string);
  known.set(key, value);
}

/** The batch of states could not be built or run: the check feeds the weights instead. */
class BatchRefused extends Error {}

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
    // CAM reads the head's weights, which this check randomises: it is computed here from them.
    const inGraph = methods.filter((m) => IN_GRAPH_METHODS.includes(m) && m !== 'cam').sort();
    let derived: GraphAnalysis | null = null;
    const grids = layers.map((l) => analysis.gridOf(l.tensor)).filter((g) => g !== null);
    const ctx: CheckContext = {
      req,
      derived: () => (derived ??= weightsAsInputs(analysis, weights, model.summary.name)),
      inGraph,
      wantsCam: methods.includes('cam'),
      perturbation: methods.filter((m) => PERTURBATION_METHODS.includes(m)),
      gradients: inGraph.some((m) => GRADIENT_METHODS.includes(m)),
      tensors: [...new Set(layers.map((l) => l.tensor))],
      fed: new Set(weights.map((w) => w.name)),
      unavailable: new Map(),
      compared: compareSize(images[0]?.input as InputTensor, analysis.channelsLast, grids),
      arena: new MapArena(),
      signal,
    };
    // The original values are copied out of the model only when read (CAM's head, the perturbation methods'
    // passes, the fed-weights runs): the batched path with gradient methods reads none, and a copy of every
    // weight per check is 2.8 MB on the demo, ~100 MB on ResNet-50.
    const original = new Map<string, Float32Array>();
    const originalValue = (w: TensorProto): Float32Array => {
      let v = original.get(w.name);
      if (!v) original.set(w.name, (v = floatValues(w) as Float32Array));
      return v;
    };
    const byName = new Map(weights.map((w) => [w.name, w]));
    const randomised = randomisedWeights(analysis, weights, seed);
    const compared = states(modules);
    const all = [new Set<string>(), ...compared.map((s) => s.random)];
    const valuesOf =
      (random: ReadonlySet<string>): WeightValues =>
      (name) =>
        (random.has(name) ? randomised.get(name) : originalValue(byName.get(name) as TensorProto)) as Float32Array;
    const progress = { done: 0, total: images.length * all.length, report: onProgress };

    // The comparisons' helper thread starts (and warms up) while the first run goes.
    prepareComparisons();
    let sums: Sums | null = null;
    const batch = this.deps.fedWeights ? null : await this.batchSession(ctx, modules.length, all, randomised);
    if (batch) {
      try {
        sums = await this.checkBatched(ctx, batch, all, valuesOf, progress);
      } catch (error) {
        if (!(error instanceof BatchRefused)) throw error;
        remember(refusals, analysis, batch.key, error.message);
        progress.done = 0;
      }
    }
    sums ??= await this.checkFed(ctx, all, valuesOf, progress);

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
    const { unavailable } = ctx;
    const outLayers: SanityLayer[] = layers.map((layer) => {
      const entry: SanityLayer = { label: layer.label, methods: {}, unavailable: {} };
      for (const id of ids) {
        const s = (sums as Sums).get(mapKey(layer.label, id));
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

  /**
   * The session of the batch of states (one item per state, constant weights), or null where it cannot be
   * built: no way to analyse the batch, a fixed batch, a node that mixes the items, onnxruntime refusing it.
   */
  private async batchSession(
    ctx: CheckContext,
    modules: number,
    all: ReadonlySet<string>[],
    randomised: ReadonlyMap<string, Float32Array>,
  ): Promise<(HookedSession & { key: string; order: number[] }) | null> {
    const { req } = ctx;
    const { model, analysis, images, seed } = req;
    const shape = images[0]?.input.shape;
    if (!this.deps.analysis || !shape || shape[0] !== 1) return null;
    const order = stateOrder(modules).map((s) => stateIndex(s.kind, s.step, modules));
    const count = order.length;
    const declared = model.summary.inputs[0]?.shape[0];
    if (typeof declared === 'number' && declared !== count) return null;
    const batchShape = [count, ...shape.slice(1)];
    const options = {
      maps: ctx.inGraph,
      exposeActivations: ctx.wantsCam || ctx.perturbation.length > 0,
      exposeGradients: false,
      form: this.deps.graphForm,
      items: count,
    };
    const key = JSON.stringify([
      model.id,
      'sanity-states',
      seed,
      batchShape,
      ctx.inGraph,
      options.exposeActivations,
      [...ctx.tensors].sort(),
      options.form,
    ]);
    if (refusals.get(analysis)?.has(key)) return null;
    try {
      // The batch's shapes, one item's grids (as for aug-smooth).
      const batched = { ...(await this.deps.analysis(batchShape)), gridOf: analysis.gridOf };
      const items = order.map((s) => all[s] as ReadonlySet<string>);
      const build = (): HookedModel => {
        const whole = new Set<string>([...ctx.tensors, scoreTensor(batched)]);
        const rewritten = stateBatchModel(batched, items, randomised, whole);
        const built = buildHookedModel(rewritten, ctx.tensors, ctx.gradients, options);
        if (built.gradientError) throw new EngineError('unsupported', built.gradientError);
        return built;
      };
      let meta = descriptions.get(analysis)?.get(key) ?? null;
      let fresh: Uint8Array | null = null;
      if (!meta) {
        const { bytes, ...description } = build();
        fresh = bytes;
        meta = description;
      }
      // A pooled session may outlive its description, and the other way round: each is rebuilt alone.
      const pooled = await this.deps.session(key, () => fresh ?? build().bytes);
      remember(descriptions, analysis, key, meta);
      return { meta, pooled, key, order };
    } catch (error) {
      if (error instanceof EngineError && error.code === 'cancelled') throw error;
      remember(refusals, analysis, key, describeError(error).split('\n')[0] ?? 'failed');
      return null;
    }
  }

  /**
   * Every state of an image in one batched run. The next image's run is queued before this one's maps are
   * compared: onnxruntime-node runs a session on the calling thread (from a setImmediate), so it runs while
   * this thread waits for the comparisons on the workers (compare-pool.ts).
   */
  private async checkBatched(
    ctx: CheckContext,
    batch: HookedSession & { order: number[] },
    all: ReadonlySet<string>[],
    valuesOf: (random: ReadonlySet<string>) => WeightValues,
    progress: { done: number; total: number; report: Progress | undefined },
  ): Promise<Sums> {
    const { images } = ctx.req;
    const { meta, order } = batch;
    const sums: Sums = new Map();
    const launch = (image: SanityImage): Promise<ort.InferenceSession.ReturnType> =>
      this.launchBatch(batch, image).catch((error: unknown) => {
        throw new BatchRefused(`the batch of states failed to run: ${describeError(error).split('\n')[0]}`);
      });
    let next = images[0] ? launch(images[0]) : null;
    const classes = meta.scoreShape.at(-1) ?? 0;
    for (const [i, image] of images.entries()) {
      throwIfCancelled(ctx.signal);
      const outputs = await (next as Promise<ort.InferenceSession.ReturnType>);
      next = images[i + 1] ? launch(images[i + 1] as SanityImage) : null;
      // A failed later run must not be left unhandled while this image is compared.
      next?.catch(() => undefined);
      const view = (item: number): ItemView => ({
        map: (name, size) => (outputs[name]?.data as Float32Array | undefined)?.subarray(item * size, (item + 1) * size),
        native: (tensor, size) => (outputs[tensor]?.data as Float32Array | undefined)?.subarray(item * size, (item + 1) * size),
        logits: (outputs[meta.score]?.data as Float32Array).subarray(item * classes, (item + 1) * classes),
      });
      ctx.arena.reset();
      const made = order.map((state, item) => ({
        state,
        item,
        maps: this.stateMaps(ctx, valuesOf(all[state] as ReadonlySet<string>)),
      }));
      const reference = (made.find((m) => m.state === 0) as (typeof made)[number]).maps.shown;
      const compared: ShownMaps[] = [];
      for (const m of made) if (m.state > 0) compared[m.state - 1] = m.maps.shown;
      // Layer by layer: each layer's comparisons start on the workers while this thread makes the next
      // layer's maps.
      const comparisons = new StateComparisons(ctx.compared, sums);
      for (const [l, layer] of ctx.req.layers.entries()) {
        for (const m of made) {
          throwIfCancelled(ctx.signal);
          await this.showLayer(ctx, meta, image, m.maps, view(m.item), layer);
          if (l === ctx.req.layers.length - 1) progress.report?.(++progress.done, progress.total);
        }
        comparisons.start(reference, compared, layer.label);
      }
      await comparisons.done();
    }
    return sums;
  }

  /** One run of every state of an image: the image repeated, each item explaining the image's class. */
  private async launchBatch(batch: HookedSession, image: SanityImage): Promise<ort.InferenceSession.ReturnType> {
    const { meta, pooled } = batch;
    const { input } = image;
    const count = meta.scoreShape[0] as number;
    const data = takeBatchInput(count * input.data.length);
    for (let i = 0; i < count; i++) data.set(input.data, i * input.data.length);
    const feeds: Record<string, ort.Tensor> = {
      [meta.inputName]: new ort.Tensor('float32', data, [count, ...input.shape.slice(1)]),
    };
    checkClassIndex(image.classIndex, meta.scoreShape.at(-1) ?? 0);
    if (meta.seeded) Object.assign(feeds, seedFeeds(meta.scoreShape, image.classIndex));
    try {
      return await pooled.session.run(feeds);
    } finally {
      spareBatchInput = data;
    }
  }

  /** Each state its own run of the model with the weights as inputs, fed the state's values. */
  private async checkFed(
    ctx: CheckContext,
    all: ReadonlySet<string>[],
    valuesOf: (random: ReadonlySet<string>) => WeightValues,
    progress: { done: number; total: number; report: Progress | undefined },
  ): Promise<Sums> {
    const hooked = await this.fedSession(ctx);
    const { meta } = hooked;
    const classes = meta.scoreShape.at(-1) ?? 0;
    const sums: Sums = new Map();
    for (const image of ctx.req.images) {
      // The next state's run is queued first (onnxruntime-node runs it on this thread, at a later turn
      // of the event loop).
      let next = this.launchFed(ctx, hooked, image, valuesOf(all[0] as ReadonlySet<string>));
      ctx.arena.reset();
      const shown: ShownMaps[] = [];
      for (let s = 0; s < all.length; s++) {
        throwIfCancelled(ctx.signal);
        const values = valuesOf(all[s] as ReadonlySet<string>);
        const outputs = await next;
        if (s + 1 < all.length) next = this.launchFed(ctx, hooked, image, valuesOf(all[s + 1] as ReadonlySet<string>));
        const view: ItemView = {
          map: (name, size) => (outputs[name]?.data as Float32Array | undefined)?.subarray(0, size),
          native: (tensor, size) => (outputs[tensor]?.data as Float32Array | undefined)?.subarray(0, size),
          logits: (outputs[meta.score]?.data as Float32Array).subarray(0, classes),
        };
        shown.push(await this.shown(ctx, meta, image, values, view));
        progress.report?.(++progress.done, progress.total);
      }
      await compareStates(ctx.compared, sums, shown[0] as ShownMaps, shown.slice(1));
    }
    return sums;
  }

  /** The weights-as-inputs hooked session: one run per state. */
  private async fedSession(ctx: CheckContext): Promise<HookedSession> {
    const { model, analysis, images } = ctx.req;
    const options = {
      maps: ctx.inGraph,
      exposeActivations: ctx.wantsCam || ctx.perturbation.length > 0,
      exposeGradients: false,
      form: this.deps.graphForm,
    };
    const key = JSON.stringify([
      model.id,
      'sanity',
      images[0]?.input.shape,
      ctx.inGraph,
      options.exposeActivations,
      [...ctx.tensors].sort(),
      options.form,
    ]);
    let meta = descriptions.get(analysis)?.get(key) ?? null;
    const pooled = await this.deps.session(key, () => {
      const built = buildHookedModel(ctx.derived(), ctx.tensors, ctx.gradients, options);
      meta = built;
      return built.bytes;
    });
    // A pooled session may outlive its description: rebuild the description (not the session) then.
    meta ??= buildHookedModel(ctx.derived(), ctx.tensors, ctx.gradients, options);
    remember(descriptions, analysis, key, meta);
    if (meta.gradientError)
      for (const m of ctx.inGraph.filter((x) => GRADIENT_METHODS.includes(x))) ctx.unavailable.set(m, meta.gradientError);
    return { meta, pooled };
  }

  /** Starts one run of the weights-as-inputs hooked model with the given weight values. */
  private async launchFed(
    ctx: CheckContext,
    hooked: HookedSession,
    image: SanityImage,
    values: WeightValues,
  ): Promise<ort.InferenceSession.ReturnType> {
    const { meta, pooled } = hooked;
    const { input } = image;
    const feeds: Record<string, ort.Tensor> = { [meta.inputName]: new ort.Tensor('float32', input.data, input.shape) };
    Object.assign(feeds, this.weightFeeds(ctx.derived(), values, ctx.fed));
    checkClassIndex(image.classIndex, meta.scoreShape.at(-1) ?? 0);
    if (meta.seeded) Object.assign(feeds, seedFeeds(meta.scoreShape, image.classIndex));
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

  /** The maps of one state as compared, the perturbation methods' computed with the same weights. */
  private async shown(
    ctx: CheckContext,
    meta: Omit<HookedModel, 'bytes'>,
    image: SanityImage,
    values: WeightValues,
    view: ItemView,
  ): Promise<ShownMaps> {
    const maps = this.stateMaps(ctx, values);
    for (const layer of ctx.req.layers) await this.showLayer(ctx, meta, image, maps, view, layer);
    return maps.shown;
  }

  /** What a state's maps are made into, layer by layer (showLayer). */
  private stateMaps(ctx: CheckContext, values: WeightValues): StateMaps {
    let constants: ConstantValues | null = null;
    return {
      shown: new Map(),
      // Methods whose maps coincide (LayerCAM and Grad-CAM Element-Wise after ReLU activations) share one
      // shown array, which is then compared once.
      made: new CoincidingMaps<Float32Array>(),
      values,
      constants: () => (constants ??= constantsWith(ctx.req.analysis, ctx.fed, values)),
    };
  }

  /** One layer's maps of a state, as compared: upsampled to the compared size, ReLU, min-max. */
  private async showLayer(
    ctx: CheckContext,
    meta: Omit<HookedModel, 'bytes'>,
    image: SanityImage,
    maps: StateMaps,
    view: ItemView,
    layer: ResolvedLayer,
  ): Promise<void> {
    const { req, inGraph, wantsCam, unavailable } = ctx;
    const { analysis } = req;
    const { input } = image;
    const { width, height } = ctx.compared;
    const show = (method: string, map: RawMap): void => {
      // A map already at the compared size is its own resampling (bilinear at scale 1 is exact).
      const atSize = map.width === width && map.height === height;
      const out = maps.made.get(map, () => {
        const into = ctx.arena.take(width * height);
        if (atSize) return scaleMap(map.data, 'relu', into);
        // Resampled, then scaled in place.
        return scaleMap(resizeMap(map, width, height, 'bilinear', into), 'relu', into);
      });
      maps.shown.set(mapKey(layer.label, method), out);
    };
    const grid = analysis.gridOf(layer.tensor);
    if (!grid) return;
    const size = { width: grid.width, height: grid.height };
    for (const m of inGraph) {
      const name = meta.maps.get(layer.tensor)?.get(m);
      const data = name ? view.map(name, grid.width * grid.height) : undefined;
      if (data) show(m, { ...size, data });
    }
    const native = view.native(
      layer.tensor,
      grid.shape.reduce((a, d) => a * d, 1),
    );
    const activation = native ? toChannelMajor(grid, native) : null;
    if (wantsCam && activation) {
      const head = camHead(analysis.index, maps.constants(), layer.tensor, meta.score, grid);
      if (head.ok) {
        const tensors = { channels: grid.channels, height: grid.height, width: grid.width, activation, gradient: null };
        show('cam', { ...size, data: weightedSum(tensors, head.row(image.classIndex)) });
      } else unavailable.set(mapKey(layer.label, 'cam'), head.reason);
    }
    if (native && activation && ctx.perturbation.length > 0) {
      const classes = view.logits.length;
      const job = this.perturbationJob(
        ctx,
        meta,
        image,
        maps.values,
        layer.tensor,
        grid,
        native,
        activation,
        view.logits,
        classes,
      );
      for (const m of ctx.perturbation) {
        const impl = CAM_METHOD_IMPLS[m];
        if (impl.kind !== 'perturbation') continue;
        try {
          show(m, { ...size, data: await impl.run(job, undefined, ctx.signal) });
        } catch (error) {
          if (error instanceof EngineError && error.code === 'cancelled') throw error;
          unavailable.set(mapKey(layer.label, m), describeError(error).split('\n')[0] ?? 'failed');
        }
      }
    }
    for (const c of req.controls ?? []) show(c.id, c.map(input, size));
  }

  /**
   * ScoreCAM's and AblationCAM's job for one layer of one state: their forward passes go through the plain
   * model (or its tail after the layer) with the weights as inputs, fed this state's values.
   */
  private perturbationJob(
    ctx: CheckContext,
    meta: Omit<HookedModel, 'bytes'>,
    image: SanityImage,
    values: WeightValues,
    tensor: TensorName,
    grid: FeatureGrid,
    native: Float32Array,
    activation: Float32Array,
    logits: Float32Array,
    classes: number,
  ): PerturbationJob {
    const { req, fed } = ctx;
    const derived = ctx.derived();
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

/** The constants CAM's head reads, with the state's (possibly randomised) weight values in place. */
function constantsWith(
  analysis: GraphAnalysis,
  fed: ReadonlySet<string>,
  values: (name: string) => Float32Array,
): ConstantValues {
  const graph = analysis.runnable.graph;
  const initializer = (graph?.initializer ?? []).map((t) => {
    if (!fed.has(t.name)) return t;
    const v = values(t.name);
    return { ...t, rawData: new Uint8Array(v.buffer, v.byteOffset, v.byteLength), floatData: [] };
  });
  return new ConstantValues({ ...analysis.runnable, graph: graph ? { ...graph, initializer } : undefined } as never);
}
