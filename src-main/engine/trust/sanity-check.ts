/**
 * The model-parameter randomisation tests of Adebayo et al. ("Sanity Checks for Saliency Maps", 2018):
 * the maps are recomputed with the weights of the head, then each stage downwards, randomised (cascading),
 * and with each of those parts alone randomised (independent), and compared with the original maps. A
 * method whose maps stay the same when the weights they claim to explain are gone fails.
 *
 * One onnxruntime session serves every randomised model: the weights are inputs of the hooked graph
 * (weights-as-inputs.ts) and each run feeds the original or the randomised values.
 */
import type { GraphForm } from '../hooks/graph-builder';
import * as ort from 'onnxruntime-node';
import type { CamMethod, RawMap } from '../../../src-shared/cam';
import { GRADIENT_METHODS, PERTURBATION_METHODS } from '../../../src-shared/cam';
import { resizeMap, scaleMap } from '../../../src-shared/heatmap';
import { sanityVerdict, type SanityLayer, type SanityResult, type Similarity } from '../../../src-shared/trust';
import { camHead } from '../cam/classifier-head';
import { weightedSum } from '../cam/layer-tensors';
import { throwIfCancelled } from '../cam/perturbation';
import { EngineError, describeError } from '../errors';
import type { GraphAnalysis } from '../graph/analyze-graph';
import { toChannelMajor } from '../graph/feature-grid';
import type { ResolvedLayer } from '../graph/layers';
import { ConstantValues } from '../hooks/constant-values';
import { buildHookedModel, SEED_INPUT, TOP_WEIGHT_INPUT, type HookedModel } from '../hooks/hooked-model';
import { IN_GRAPH_METHODS } from '../hooks/map-graph';
import type { PooledSession } from '../inference/session-pool';
import type { InputTensor } from '../input-tensor';
import type { OpenModel } from '../model-registry';
import { floatValues } from '../onnx/tensor-data';
import type { Progress } from './batch-scorer';
import { pearson, ranks, ssim } from './similarity';
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
    for (const m of methods.filter((x) => PERTURBATION_METHODS.includes(x)))
      unavailable.set(
        m,
        'not part of the sanity check: it needs a forward pass per channel for every randomised model; its maps are checked by the faithfulness metrics.',
      );
    // CAM reads the head's weights, which this check randomises as inputs: it is computed here from them.
    const inGraph = methods.filter((m) => IN_GRAPH_METHODS.includes(m) && m !== 'cam').sort();
    const wantsCam = methods.includes('cam');
    const tensors = [...new Set(layers.map((l) => l.tensor))];
    const derived = weightsAsInputs(analysis, weights, model.summary.name);
    const gradients = inGraph.some((m) => GRADIENT_METHODS.includes(m));
    const key = JSON.stringify([model.id, 'sanity', images[0]?.input.shape, inGraph, wantsCam, [...tensors].sort()]);
    let hooked: Omit<HookedModel, 'bytes'> | null = null;
    const pooled = await this.deps.session(key, () => {
      const built = buildHookedModel(derived, tensors, gradients, {
        maps: inGraph,
        exposeActivations: wantsCam,
        exposeGradients: false,
        form: this.deps.graphForm,
      });
      hooked = built;
      return built.bytes;
    });
    // A pooled session may outlive the description: rebuild the description (not the session) then.
    const meta =
      hooked ??
      buildHookedModel(derived, tensors, gradients, {
        maps: inGraph,
        exposeActivations: wantsCam,
        exposeGradients: false,
        form: this.deps.graphForm,
      });
    if (meta.gradientError)
      for (const m of inGraph.filter((x) => GRADIENT_METHODS.includes(x))) unavailable.set(m, meta.gradientError);

    const original = new Map(weights.map((w) => [w.name, floatValues(w) as Float32Array]));
    const randomised = new Map(weights.map((w) => [w.name, randomisedValues(w, seed)]));
    const compared = states(modules);
    const total = images.length * (compared.length + 1);
    const sums = new Map<string, { spearman: Float64Array; ssim: Float64Array }>();
    let done = 0;
    for (const image of images) {
      const run = async (random: Set<string>): Promise<ShownMaps> => {
        throwIfCancelled(signal);
        const values = (name: string): Float32Array =>
          (random.has(name) ? randomised.get(name) : original.get(name)) as Float32Array;
        const shown = await this.maps(req, derived, meta, pooled, image, values, inGraph, wantsCam, controls, unavailable);
        onProgress?.(++done, total);
        return shown;
      };
      const reference = await run(new Set());
      const referenceRanks = new Map<string, Float64Array>();
      for (const state of compared) {
        const maps = await run(state.random);
        const grids = layers.map((l) => analysis.gridOf(l.tensor)).filter((g) => g !== null);
        const { width, height } = compareSize(image.input, analysis.channelsLast, grids);
        for (const [k, ref] of reference) {
          const now = maps.get(k);
          if (!now) continue;
          let s = sums.get(k);
          if (!s) {
            s = { spearman: new Float64Array(compared.length), ssim: new Float64Array(compared.length) };
            sums.set(k, s);
          }
          const at = compared.indexOf(state);
          let refRanks = referenceRanks.get(k);
          if (!refRanks) {
            refRanks = ranks(ref);
            referenceRanks.set(k, refRanks);
          }
          s.spearman[at] = (s.spearman[at] as number) + pearson(refRanks, ranks(now));
          s.ssim[at] = (s.ssim[at] as number) + ssim(ref, now, width, height);
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
          entry.unavailable[id] = unavailable.get(id) ?? unavailable.get(mapKey(layer.label, id)) ?? 'no map for this layer';
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

  /** One run of the weights-as-inputs hooked model with the given weight values; the maps as shown. */
  private async maps(
    req: SanityRequest,
    derived: GraphAnalysis,
    meta: Omit<HookedModel, 'bytes'>,
    pooled: PooledSession,
    image: SanityImage,
    values: (name: string) => Float32Array,
    inGraph: CamMethod[],
    wantsCam: boolean,
    controls: SanityControl[],
    unavailable: Map<string, string>,
  ): Promise<ShownMaps> {
    const { analysis, layers } = req;
    const { input } = image;
    const feeds: Record<string, ort.Tensor> = { [meta.inputName]: new ort.Tensor('float32', input.data, input.shape) };
    for (const name of derived.index.inputs) {
      if (name === meta.inputName) continue;
      const shape = derived.inputShapes.get(name);
      if (shape) feeds[name] = new ort.Tensor('float32', values(name), shape);
    }
    if (meta.gradients !== null) {
      const seed = new Float32Array(meta.scoreShape.reduce((a, b) => a * b, 1));
      seed[image.classIndex] = 1;
      feeds[SEED_INPUT] = new ort.Tensor('float32', seed, meta.scoreShape);
      feeds[TOP_WEIGHT_INPUT] = new ort.Tensor('float32', Float32Array.of(0), []);
    }
    let outputs: ort.InferenceSession.ReturnType;
    try {
      outputs = await pooled.session.run(feeds);
    } catch (error) {
      throw new EngineError('inference-failed', `The sanity check's run failed: ${describeError(error).split('\n')[0]}`);
    }
    const grids = layers.map((l) => analysis.gridOf(l.tensor)).filter((g) => g !== null);
    const { width, height } = compareSize(input, analysis.channelsLast, grids);
    const shown: ShownMaps = new Map();
    const show = (layer: string, method: string, map: RawMap): void => {
      shown.set(mapKey(layer, method), scaleMap(resizeMap(map, width, height, 'bilinear'), 'relu'));
    };
    const constants = wantsCam ? constantsWith(analysis, derived, values) : null;
    for (const layer of layers) {
      const grid = analysis.gridOf(layer.tensor);
      if (!grid) continue;
      const size = { width: grid.width, height: grid.height };
      for (const m of inGraph) {
        const name = meta.maps.get(layer.tensor)?.get(m);
        if (!name) continue;
        show(layer.label, m, { ...size, data: (outputs[name]?.data as Float32Array).subarray(0, grid.width * grid.height) });
      }
      if (constants) {
        const head = camHead(analysis.index, constants, layer.tensor, meta.score, grid);
        const native = outputs[layer.tensor]?.data as Float32Array | undefined;
        if (head.ok && native) {
          const activation = toChannelMajor(
            grid,
            native.subarray(
              0,
              grid.shape.reduce((a, d) => a * d, 1),
            ),
          );
          const tensors = { channels: grid.channels, height: grid.height, width: grid.width, activation, gradient: null };
          show(layer.label, 'cam', { ...size, data: weightedSum(tensors, head.row(image.classIndex)) });
        } else if (!head.ok) unavailable.set(mapKey(layer.label, 'cam'), head.reason);
      }
      for (const c of controls) show(layer.label, c.id, c.map(input, size));
    }
    return shown;
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
