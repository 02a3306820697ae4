/**
 * "Can this map be trusted?" — the API types of faithfulness metrics (deletion / insertion curves, average
 * drop and increase in confidence, the pointing game, each beside a random-map baseline) and of the sanity
 * checks of Adebayo et al. (maps recomputed as the model's weights are randomised). Pure types and small
 * pure helpers: both the engine and the renderer import this file.
 */
import * as v from 'valibot';
import { CAM_METHODS, type CamMethod } from './cam';
import type { ExecutionProvider, ImageSource, KeptNote, ModelId, RunId, StoredImageSource } from './primitives';

/** What replaces removed pixels (deletion) and what insertion starts from. */
export type TrustBaseline = { kind: 'blur'; sigma: number } | { kind: 'zero' };

export const DEFAULT_TRUST_STEPS = 20;
export const DEFAULT_BASELINE: TrustBaseline = { kind: 'blur', sigma: 5 };

/** An object box in the image's own pixels, [x0, y0, x1, y1) (end exclusive, as PIL crops). */
export type Box = [number, number, number, number];

export interface TrustSettings {
  /** Steps of a deletion or insertion curve (the curve has steps + 1 points). */
  steps: number;
  baseline: TrustBaseline;
  /** Seeds the random-map baseline and the randomised weights. */
  seed: number;
}

export interface TrustRequestMessage {
  modelId: ModelId;
  images: ImageSource[];
  /** Object boxes per image (null: none), for the pointing game. */
  boxes: (Box | null)[] | null;
  /** Module paths or tensor names; empty: the stages. */
  layers: string[];
  methods: CamMethod[];
  classIndex: number | 'top';
  settings: TrustSettings;
  faithfulness: boolean;
  sanity: boolean;
  jobId: string;
}

/** A deletion or insertion curve: the class probability after each step, and the area under it. */
export interface Curve {
  auc: number;
  /** steps + 1 probabilities; point k is after k/steps of the pixels are deleted (inserted). */
  probs: Float32Array;
}

/** The metrics of one map of one image. */
export interface MapMetrics {
  deletion: Curve;
  insertion: Curve;
  /** max(0, Y − O) / Y: Y the class probability of the image, O of the image times the map. */
  drop: number;
  /** Whether O > Y (the map alone raised the confidence). */
  increase: boolean;
  /** Whether the map's maximum falls inside the object's box (null: no box given). */
  pointing: boolean | null;
}

export interface LayerFaithfulness {
  label: string;
  methods: Partial<Record<CamMethod, MapMetrics>>;
  /** A uniformly random map at the layer's resolution, through the same metrics. */
  random: MapMetrics | null;
  unavailable: Partial<Record<CamMethod, string>>;
}

export interface ImageFaithfulness {
  name: string;
  classIndex: number;
  label: string;
  /** Y: the class probability of the unchanged image. */
  prob: number;
  /** The box in the model's input pixels, or null. */
  box: Box | null;
  /** The share of the input inside the box: a random point's chance in the pointing game. */
  pointingChance: number | null;
  layers: LayerFaithfulness[];
}

/** Metrics of one (layer, method) averaged over the images. */
export interface MetricSummary {
  deletionAuc: number;
  insertionAuc: number;
  /** Average drop, percent. */
  averageDrop: number;
  /** Increase in confidence: the percentage of images where O > Y. */
  increase: number;
  /** Percentage of images with a box whose map's maximum is inside it (null: no boxes). */
  pointing: number | null;
}

export interface LayerSummary {
  label: string;
  methods: Partial<Record<CamMethod, MetricSummary>>;
  random: MetricSummary | null;
}

/** What the sanity check randomises at one step: the weights of one part of the model. */
export interface RandomisedModule {
  /** "head", a stage's module path (e.g. "layer4"), or "stem". */
  label: string;
  tensors: number;
  parameters: number;
}

export type SanityVerdict = 'pass' | 'unclear' | 'fail';
/** Mean rank correlation at full randomisation below PASS: the maps depend on the weights. */
export const SANITY_PASS_BELOW = 0.5;
/** At or above FAIL: the maps barely depend on the weights they claim to explain. */
export const SANITY_FAIL_FROM = 0.8;

export function sanityVerdict(finalSpearman: number): SanityVerdict {
  if (!Number.isFinite(finalSpearman)) return 'unclear';
  if (finalSpearman < SANITY_PASS_BELOW) return 'pass';
  return finalSpearman >= SANITY_FAIL_FROM ? 'fail' : 'unclear';
}

/** Similarity to the original maps, mean over the images. */
export interface Similarity {
  spearman: number[];
  ssim: number[];
}

export interface SanityMethod {
  /**
   * cascading[i]: after randomising modules[0..i] (the head first, then downwards); independent[i]: after
   * randomising modules[i] alone.
   */
  cascading: Similarity;
  independent: Similarity;
  verdict: SanityVerdict;
}

export interface SanityLayer {
  label: string;
  methods: Partial<Record<string, SanityMethod>>;
  unavailable: Partial<Record<string, string>>;
}

export interface SanityResult {
  modules: RandomisedModule[];
  layers: SanityLayer[];
  /** Per method, from the mean over layers of the rank correlation at full randomisation. */
  verdicts: Partial<Record<string, SanityVerdict>>;
  images: number;
  ms: number;
}

export interface TrustResult {
  settings: TrustSettings;
  methods: CamMethod[];
  images: ImageFaithfulness[];
  summary: LayerSummary[];
  sanity: SanityResult | null;
  provider: ExecutionProvider;
  timings: { totalMs: number; camMs: number; faithfulnessMs: number; forwardPasses: number; sanityMs: number };
}

export interface TrustResponse extends KeptNote {
  result: TrustResult;
  /** True when the answer came from the run history: nothing was computed. */
  cached: boolean;
  run: RunId | null;
}

/** A trust run as the history stores its question. */
export interface TrustRunParams {
  images: StoredImageSource[];
  boxes: (Box | null)[] | null;
  layers: string[];
  methods: CamMethod[];
  classIndex: number | 'top';
  settings: TrustSettings;
  faithfulness: boolean;
  sanity: boolean;
}

function mean(xs: number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function summarise(metrics: MapMetrics[]): MetricSummary {
  const boxed = metrics.filter((m) => m.pointing !== null);
  return {
    deletionAuc: mean(metrics.map((m) => m.deletion.auc)),
    insertionAuc: mean(metrics.map((m) => m.insertion.auc)),
    averageDrop: 100 * mean(metrics.map((m) => m.drop)),
    increase: 100 * mean(metrics.map((m) => (m.increase ? 1 : 0))),
    pointing: boxed.length > 0 ? 100 * mean(boxed.map((m) => (m.pointing ? 1 : 0))) : null,
  };
}

/** Per layer and method, the metrics averaged over images (Grad-CAM++'s "average drop" is this mean, in %). */
export function summariseFaithfulness(images: ImageFaithfulness[], methods: CamMethod[]): LayerSummary[] {
  const labels = [...new Set(images.flatMap((i) => i.layers.map((l) => l.label)))];
  return labels.map((label) => {
    const layers = images.map((i) => i.layers.find((l) => l.label === label)).filter((l) => l !== undefined);
    const out: LayerSummary = { label, methods: {}, random: null };
    for (const m of methods) {
      const found = layers.map((l) => l.methods[m]).filter((x) => x !== undefined);
      if (found.length > 0) out.methods[m] = summarise(found);
    }
    const random = layers.map((l) => l.random).filter((x) => x !== null);
    if (random.length > 0) out.random = summarise(random);
    return out;
  });
}

const MAX_TRUST_IMAGES = 10_000;
const finite = v.pipe(v.number(), v.finite());
const boxSchema = v.tuple([finite, finite, finite, finite]);

/** The request's schema, given the shared primitives of api.ts (passed in: api.ts imports this file). */
export function trustRequestSchema(shared: { modelId: v.GenericSchema; image: v.GenericSchema; jobId: v.GenericSchema }) {
  return v.strictObject({
    modelId: shared.modelId,
    images: v.pipe(v.array(shared.image), v.minLength(1), v.maxLength(MAX_TRUST_IMAGES)),
    boxes: v.nullable(v.pipe(v.array(v.nullable(boxSchema)), v.maxLength(MAX_TRUST_IMAGES))),
    layers: v.pipe(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(4096))), v.maxLength(64)),
    methods: v.pipe(v.array(v.picklist(CAM_METHODS)), v.minLength(1), v.maxLength(CAM_METHODS.length)),
    classIndex: v.union([v.literal('top'), v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1_000_000))]),
    settings: v.strictObject({
      steps: v.pipe(v.number(), v.integer(), v.minValue(2), v.maxValue(1000)),
      baseline: v.variant('kind', [
        v.strictObject({ kind: v.literal('blur'), sigma: v.pipe(v.number(), v.finite(), v.gtValue(0), v.maxValue(1000)) }),
        v.strictObject({ kind: v.literal('zero') }),
      ]),
      seed: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xffffffff)),
    }),
    faithfulness: v.boolean(),
    sanity: v.boolean(),
    jobId: shared.jobId,
  });
}
