/**
 * The one API between the renderer and the engine.
 *
 * Every host (Electron IPC, the browser-mode WebSocket server, tests) carries exactly these calls, encoded
 * by `wire-codec.ts`. The renderer only sees `EngineApi`; it never knows which transport is underneath.
 * Requests are validated against `engineRequestSchemas` on the engine side before any handler runs.
 *
 * This module must stay free of Node and DOM imports: both sides bundle it.
 */
import * as v from 'valibot';
import type { GraphView, WeightStats } from './graph';
import type {
  DeviceChoice,
  DeviceState,
  Dim,
  ExecutionProvider,
  ImageData,
  ImageSource,
  ModelId,
  RgbImage,
  TensorName,
  ViewName,
} from './primitives';
import { DEVICE_CHOICES } from './primitives';
import { CAM_METHODS, type CamMethod, type CamResult } from './cam';
import {
  HISTORY_LIMIT_MB,
  type HistorySettings,
  type KeptNote,
  type PruneResult,
  type RunId,
  type RunList,
  type RunSummary,
} from './runs';
import { trustRequestSchema, type TrustRequestMessage, type TrustResponse } from './trust';
import { MAX_TOP_LOSSES, type InterpretRequestMessage, type InterpretResponse } from './dataset';

export type {
  DeviceChoice,
  DeviceState,
  Dim,
  ExecutionProvider,
  ImageData,
  ImageSource,
  ModelId,
  RgbImage,
  TensorName,
  ViewName,
} from './primitives';
export { DEVICE_CHOICES } from './primitives';

export interface TensorInfo {
  name: TensorName;
  /** ONNX element type in lower case, e.g. "float32", "int64". */
  dtype: string;
  shape: Dim[];
}

export type ResizeMode = 'stretch' | 'center-crop' | 'letterbox';
export type ChannelOrder = 'RGB' | 'BGR';
export type Layout = 'NCHW' | 'NHWC';

/** How an image becomes the model's input: x = ((pixel / scale) - mean) / std per channel. */
export interface Preprocess {
  inputSize: [height: number, width: number];
  resize: ResizeMode;
  channelOrder: ChannelOrder;
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
  layout: Layout;
  /** Where these values came from, so the UI can say "from the model" or "ImageNet defaults". */
  source: 'metadata' | 'default' | 'user';
}

export interface OpsetImport {
  domain: string;
  version: number;
}

export interface ModelSummary {
  id: ModelId;
  name: string;
  /** Path on the engine's machine, or null for a model sent as bytes. */
  path: string | null;
  sizeBytes: number;
  irVersion: number;
  opsets: OpsetImport[];
  producer: string;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  nodeCount: number;
  labels: string[] | null;
  /** Where the labels come from: the model's metadata, a file the user picked, or ImageNet-1k's names
   * assumed for a 1000-class model without labels. */
  labelSource: 'model' | 'user' | 'imagenet' | null;
  preprocess: Preprocess;
  description: string | null;
  metadata: Record<string, string>;
}

/** A bundled sample image with its ground truth. */
export interface Sample {
  id: string;
  file: string;
  classIndex: number;
  label: string;
  /** Object box in image pixels: [x0, y0, x1, y1]. */
  box: [number, number, number, number];
}

export interface ClassScore {
  class: number;
  label: string;
  prob: number;
}

export interface Prediction {
  top: ClassScore[];
  logits: Float32Array;
  provider: ExecutionProvider;
  inferenceMs: number;
  inputShape: number[];
}

export interface StartupState {
  version: string;
  model: ModelSummary | null;
  samples: Sample[];
  /** The model the samples were drawn for (the demo's): with another model open they are only examples. */
  samplesModel: ModelId | null;
}

/** What the renderer may ask of the engine. */
export interface EngineApi {
  getStartupState(): Promise<StartupState>;
  /** Where analyses run: the device asked for and the provider it resolves to (and why not a GPU). */
  getDevice(): Promise<DeviceState>;
  /** Switches the device for every later analysis (sessions already made stay until evicted). */
  setDevice(req: { device: DeviceChoice }): Promise<DeviceState>;
  openModelPath(req: { path: string }): Promise<ModelSummary>;
  openModelBytes(req: { name: string; bytes: Uint8Array }): Promise<ModelSummary>;
  /** An image as a browser shows it (formats a browser cannot show come converted to PNG). */
  getImage(req: { source: ImageSource }): Promise<ImageData>;
  /**
   * Hands the engine an image once; later requests name it by the returned source (its content id), so its
   * bytes do not cross the wire again. The engine holds a bounded number of uploads (most recent first).
   */
  uploadImage(req: { name: string; bytes: Uint8Array }): Promise<UploadedImage>;
  predict(req: { modelId: ModelId; image: ImageSource; topK?: number }): Promise<Prediction>;
  /**
   * The layer graph, module tree, tensor shapes (from a probe run) and stages: the detected ones, or
   * `stages` (module paths or tensor names) resolved and checked. The engine keeps no stage choice: every
   * request that depends on the stages names its layers itself.
   */
  getGraph(req: { modelId: ModelId; stages?: string[] | null }): Promise<GraphAnalysisView>;
  /** Statistics of one weight tensor (null when it is not a floating-point initializer). */
  getWeightStats(req: { modelId: ModelId; tensor: TensorName }): Promise<WeightStats | null>;
  /**
   * Class activation maps for one image. Long methods (ScoreCAM, AblationCAM) report progress under `jobId`
   * and stop when `cancelJob` is called with it. Results are cached: asking again costs nothing.
   */
  computeCam(req: CamRequestMessage): Promise<CamResponse>;
  /** Overrides how images are turned into this model's input, for as long as the model stays open. */
  setPreprocess(req: { modelId: ModelId; preprocess: Omit<Preprocess, 'source'> | null }): Promise<ModelSummary>;
  /** Class names from a labels file the user picked (null: back to the model's own). */
  setLabels(req: { modelId: ModelId; labels: string[] | null }): Promise<ModelSummary>;
  /** Activation statistics over images (a job: progress under `jobId`, cancel keeps the partial result). */
  computeStats(req: StatsRequestMessage): Promise<StatsResponse>;
  /** One layer's activation for one image, [C, H, W] (the 3D activation-volume view). */
  getActivation(req: { modelId: ModelId; image: ImageSource; layer: string }): Promise<ActivationVolume>;
  /** Models opened from files during this run of the engine, newest first. */
  recentModels(): Promise<{ name: string; path: string }[]>;
  cancelJob(req: { jobId: string }): Promise<boolean>;
  /** The run history, newest first (pinned ones on top), optionally for one model. */
  listRuns(req: { modelHash: string | null }): Promise<RunList>;
  /** A stored run with its result, without recomputing anything. */
  openRun(req: { id: RunId }): Promise<OpenedRun>;
  updateRun(req: { id: RunId; name?: string | null; pinned?: boolean }): Promise<RunSummary>;
  deleteRuns(req: { ids: RunId[] }): Promise<PruneResult>;
  pruneRuns(req: { olderThanDays: number | null; unfinished: boolean; all: boolean }): Promise<PruneResult>;
  /** The run history's size limit, where it comes from, and how much the history holds now. */
  getHistorySettings(): Promise<HistorySettings>;
  /**
   * Sets the history's size limit (MB), kept in the run database for later sessions; null: back to the default.
   * It applies from the next run stored, in this process at once (no restart).
   */
  setHistoryLimit(req: { limitMb: number | null }): Promise<HistorySettings>;
  /** Computes an incomplete or cancelled run again from its stored parameters; the old one is replaced. */
  resumeRun(req: { id: RunId; jobId: string }): Promise<OpenedRun>;
  /** Faithfulness metrics and sanity checks of the maps (a job; see trust.ts). Kept in the run history. */
  evaluateTrust(req: TrustRequestMessage): Promise<TrustResponse>;
  /** A model over a labelled data set: confusion, per-class metrics, top losses with maps (a job, stored). */
  interpretDataset(req: InterpretRequestMessage): Promise<InterpretResponse>;
  /** A self-contained HTML or PDF report of stored runs (one model's), to save or hand on. */
  exportReport(req: { runIds: RunId[]; format: ReportFormat }): Promise<ExportedFile>;
}

export type ReportFormat = 'html' | 'pdf';

/** An uploaded image: the source later requests name it by, and what the engine read of it. */
export interface UploadedImage {
  source: Extract<ImageSource, { kind: 'upload' }>;
  width: number;
  height: number;
  /** The encoded format's MIME type where a browser shows it (PNG, JPEG…); null for TIFF, HEIF and friends. */
  mime: string | null;
}

export interface ExportedFile {
  /** A suggested file name. */
  name: string;
  mime: string;
  bytes: Uint8Array;
}

export interface CamRequestMessage {
  modelId: ModelId;
  image: ImageSource;
  /** Module paths or tensor names; empty or absent means the stages. */
  layers?: string[];
  methods: CamMethod[];
  classIndex: number | 'top';
  counterfactual: boolean;
  /**
   * pytorch-grad-cam's eigen_smooth: the maps of the methods that sum per-channel terms (EIGEN_SMOOTH_METHODS)
   * become those terms' first principal component. Absent: off.
   */
  eigenSmooth?: boolean;
  /**
   * pytorch-grad-cam's aug_smooth: each in-graph map is the mean over the image flipped and scaled (×0.9, ×1,
   * ×1.1), six inputs in one batched run, maps flipped back. Needs a free batch axis. Absent: off.
   */
  augSmooth?: boolean;
  jobId: string;
  /**
   * The run of the user action this request belongs to (the studio's answer for the same image and class):
   * the maps are stored as part of that run instead of as a run of their own, so one action is one run.
   */
  addToRun?: RunId;
}

export interface CamResponse extends KeptNote {
  result: CamResult;
  /**
   * The image as the model saw it (after resizing/cropping), for overlays that line up exactly: raw RGB
   * pixels, drawn as they are (null for a .npy input, which has no pixels).
   */
  modelView: RgbImage | null;
  /** True when the answer came from the cache (memory or the run database): nothing was computed. */
  cached: boolean;
  /** The stored run (null when history is off). */
  run: RunId | null;
  /**
   * The run's key: a hash of everything that determines the answer (model and input bytes, preprocessing,
   * labels, layers, methods, class). Equal keys, equal answers: the renderer caches by it.
   */
  key: string;
  /** The model's top classes, from the same run's logits (no separate prediction run). */
  top: ClassScore[];
}

export interface ActivationVolume {
  label: string;
  tensor: TensorName;
  /** [C, H, W]; a flat layer comes as [C, 1, 1]. */
  shape: [number, number, number];
  data: Float32Array;
}

export interface StatsRequestMessage {
  modelId: ModelId;
  images: ImageSource[];
  /** Module paths or tensor names; null: every layer with parameters plus the stages. */
  layers: string[] | null;
  /** The stages that default set includes (module paths or tensor names); absent: the detected ones. */
  stages?: string[];
  includeParamless: boolean;
  bins: number;
  /** [lo, hi], or null for a range per layer chosen from the data ("auto"). */
  range: [number, number] | null;
  jobId: string;
}

import type { LayerStatsView } from './layer-stats';
export type { LayerStatsView };

export interface StatsResponse extends KeptNote {
  images: number;
  /** Inputs left out (unreadable, another shape), with the reason. */
  skipped: { index: number; reason: string }[];
  total: number;
  cancelled: boolean;
  bins: number;
  layers: LayerStatsView[];
  provider: ExecutionProvider;
  ms: number;
  /** True when the answer came from the run database. */
  cached: boolean;
  run: RunId | null;
}

/** A stored run reopened: its summary and result, as if just computed. */
export interface OpenedRun {
  summary: RunSummary;
  /** The run's model when it could be opened again (null: its file is gone or has changed). */
  model: ModelSummary | null;
  /** Why the model could not be opened, when it could not. */
  modelProblem: string | null;
  cam: CamResponse | null;
  /** A CAM run's top classes, from its stored logits (nothing is run). */
  prediction: Prediction | null;
  stats: StatsResponse | null;
  trust?: TrustResponse | null;
  interpret?: InterpretResponse | null;
}

export interface JobProgress {
  jobId: string;
  layer: string;
  method: CamMethod | 'stats' | 'trust' | 'interpret';
  done: number;
  total: number;
}

/** Extra argument the hosts pass to engine handlers: a way to reach the renderer that made the call. */
export interface CallContext {
  progress(event: JobProgress): void;
}

export interface GraphAnalysisView {
  graph: GraphView;
  /** Things the user should know (e.g. the shape probe could not run). */
  warnings: string[];
  /** SHA-256 of the model file and its external data: what its runs are keyed by (the history's filter). */
  modelHash: string;
}

/** What the engine may push to the renderer (events, no answers expected). */
export interface RendererApi {
  log(entry: { level: 'info' | 'warn' | 'error'; message: string }): void;
  progress(event: JobProgress): void;
  /** A request from the host's native UI (menus, a file opened from the OS) for the studio to act on. */
  command(command: AppCommand): void;
}

/** What the desktop host's menus and file associations ask the studio to do. */
export type AppCommand =
  | { kind: 'open-model'; path: string }
  | { kind: 'open-images'; paths: string[] }
  | { kind: 'view'; view: ViewName }
  | { kind: 'export-report'; format: ReportFormat }
  | { kind: 'settings' };

export const MAX_PATH_LENGTH = 4096;
/** Upper bound for a model or image sent as bytes over the API. */
export const MAX_UPLOAD_BYTES = 2 ** 31 - 1;

const pathSchema = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_PATH_LENGTH));
const nameSchema = v.pipe(v.string(), v.maxLength(1024));
const bytesSchema = v.pipe(
  v.instance(Uint8Array),
  v.check((b) => b.byteLength <= MAX_UPLOAD_BYTES, 'too large'),
);
/** The largest side an input is resized to: 4096² RGB floats are 200 MB already. */
export const MAX_INPUT_SIDE = 4096;
const dimension = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_INPUT_SIDE));
const finite = v.pipe(v.number(), v.finite());
const positive = v.pipe(v.number(), v.finite(), v.gtValue(0));
const preprocessSchema = v.strictObject({
  inputSize: v.tuple([dimension, dimension]),
  resize: v.picklist(['stretch', 'center-crop', 'letterbox']),
  channelOrder: v.picklist(['RGB', 'BGR']),
  scale: positive,
  mean: v.tuple([finite, finite, finite]),
  std: v.tuple([positive, positive, positive]),
  layout: v.picklist(['NCHW', 'NHWC']),
});
const jobIdSchema = v.pipe(v.string(), v.regex(/^[\w-]{1,64}$/, 'not a job id'));
const runIdSchema = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER));
const modelIdSchema = v.pipe(v.string(), v.regex(/^[0-9a-f]{16,64}$/, 'not a model id'));
const layerSchema = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_PATH_LENGTH));
/** The layers of one CAM request or the stages of a graph: at most 64. */
const layerListSchema = v.pipe(v.array(layerSchema), v.maxLength(64));
/** An upload's id: the SHA-256 of its bytes, in hex. */
export const UPLOAD_ID_PATTERN = /^[0-9a-f]{64}$/;

export const imageSourceSchema = v.variant('kind', [
  v.strictObject({ kind: v.literal('sample'), id: v.pipe(v.string(), v.maxLength(256)) }),
  v.strictObject({ kind: v.literal('bytes'), name: nameSchema, bytes: bytesSchema }),
  v.strictObject({ kind: v.literal('path'), path: pathSchema }),
  v.strictObject({
    kind: v.literal('upload'),
    id: v.pipe(v.string(), v.regex(UPLOAD_ID_PATTERN, 'not an upload id')),
    name: nameSchema,
  }),
]);

/**
 * Argument schemas, one tuple per method. The `satisfies` clause makes the compiler reject a method that
 * has no schema, so an unvalidated call cannot be added by accident.
 */
export const engineRequestSchemas = {
  getStartupState: v.strictTuple([]),
  getDevice: v.strictTuple([]),
  setDevice: v.strictTuple([v.strictObject({ device: v.picklist(DEVICE_CHOICES) })]),
  openModelPath: v.strictTuple([v.strictObject({ path: pathSchema })]),
  openModelBytes: v.strictTuple([v.strictObject({ name: nameSchema, bytes: bytesSchema })]),
  getImage: v.strictTuple([v.strictObject({ source: imageSourceSchema })]),
  uploadImage: v.strictTuple([v.strictObject({ name: nameSchema, bytes: bytesSchema })]),
  predict: v.strictTuple([
    v.strictObject({
      modelId: modelIdSchema,
      image: imageSourceSchema,
      topK: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000))),
    }),
  ]),
  getGraph: v.strictTuple([
    v.strictObject({ modelId: modelIdSchema, stages: v.optional(v.nullable(v.pipe(layerListSchema, v.minLength(1)))) }),
  ]),
  getWeightStats: v.strictTuple([
    v.strictObject({ modelId: modelIdSchema, tensor: v.pipe(v.string(), v.maxLength(MAX_PATH_LENGTH)) }),
  ]),
  computeCam: v.strictTuple([
    v.strictObject({
      modelId: modelIdSchema,
      image: imageSourceSchema,
      layers: v.optional(layerListSchema),
      methods: v.pipe(v.array(v.picklist(CAM_METHODS)), v.minLength(1), v.maxLength(CAM_METHODS.length)),
      classIndex: v.union([v.literal('top'), v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1_000_000))]),
      counterfactual: v.boolean(),
      eigenSmooth: v.optional(v.boolean()),
      augSmooth: v.optional(v.boolean()),
      jobId: jobIdSchema,
      addToRun: v.optional(runIdSchema),
    }),
  ]),
  cancelJob: v.strictTuple([v.strictObject({ jobId: jobIdSchema })]),
  setPreprocess: v.strictTuple([v.strictObject({ modelId: modelIdSchema, preprocess: v.nullable(preprocessSchema) })]),
  setLabels: v.strictTuple([
    v.strictObject({
      modelId: modelIdSchema,
      labels: v.nullable(v.pipe(v.array(v.pipe(v.string(), v.maxLength(1024))), v.minLength(1), v.maxLength(1_000_000))),
    }),
  ]),
  recentModels: v.strictTuple([]),
  getActivation: v.strictTuple([
    v.strictObject({
      modelId: modelIdSchema,
      image: imageSourceSchema,
      layer: v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_PATH_LENGTH)),
    }),
  ]),
  computeStats: v.strictTuple([
    v.strictObject({
      modelId: modelIdSchema,
      images: v.pipe(v.array(imageSourceSchema), v.minLength(1), v.maxLength(100_000)),
      layers: v.nullable(v.pipe(v.array(layerSchema), v.maxLength(10_000))),
      stages: v.optional(v.pipe(layerListSchema, v.minLength(1))),
      includeParamless: v.boolean(),
      bins: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000)),
      range: v.nullable(v.tuple([finite, finite])),
      jobId: jobIdSchema,
    }),
  ]),
  listRuns: v.strictTuple([
    v.strictObject({ modelHash: v.nullable(v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'not a model hash'))) }),
  ]),
  openRun: v.strictTuple([v.strictObject({ id: runIdSchema })]),
  updateRun: v.strictTuple([
    v.strictObject({
      id: runIdSchema,
      name: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(200)))),
      pinned: v.optional(v.boolean()),
    }),
  ]),
  deleteRuns: v.strictTuple([v.strictObject({ ids: v.pipe(v.array(runIdSchema), v.maxLength(100_000)) })]),
  pruneRuns: v.strictTuple([
    v.strictObject({
      olderThanDays: v.nullable(v.pipe(v.number(), v.finite(), v.minValue(0))),
      unfinished: v.boolean(),
      all: v.boolean(),
    }),
  ]),
  getHistorySettings: v.strictTuple([]),
  setHistoryLimit: v.strictTuple([
    v.strictObject({
      limitMb: v.nullable(v.pipe(v.number(), v.finite(), v.minValue(HISTORY_LIMIT_MB.min), v.maxValue(HISTORY_LIMIT_MB.max))),
    }),
  ]),
  resumeRun: v.strictTuple([v.strictObject({ id: runIdSchema, jobId: jobIdSchema })]),
  evaluateTrust: v.strictTuple([trustRequestSchema({ modelId: modelIdSchema, image: imageSourceSchema, jobId: jobIdSchema })]),
  interpretDataset: v.strictTuple([
    v.strictObject({
      modelId: modelIdSchema,
      dataset: pathSchema,
      topLosses: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_TOP_LOSSES)),
      layer: v.nullable(v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_PATH_LENGTH))),
      methods: v.pipe(v.array(v.picklist(CAM_METHODS)), v.maxLength(CAM_METHODS.length)),
      classMaps: v.optional(v.boolean()),
      classStats: v.optional(v.boolean()),
      jobId: jobIdSchema,
    }),
  ]),
  exportReport: v.strictTuple([
    v.strictObject({
      runIds: v.pipe(v.array(runIdSchema), v.minLength(1), v.maxLength(1000)),
      format: v.picklist(['html', 'pdf']),
    }),
  ]),
} satisfies { [K in keyof EngineApi]: v.GenericSchema };

export type EngineMethod = keyof EngineApi;

export function isEngineMethod(name: string): name is EngineMethod {
  return Object.hasOwn(engineRequestSchemas, name);
}

/** Error shape that crosses the wire: a code a program can branch on and a sentence a person can read. */
export interface WireError {
  code: string;
  message: string;
}
