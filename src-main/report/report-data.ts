/**
 * Everything a report shows, gathered once (from a fresh analysis or, later, a stored run) and then rendered
 * without touching the engine again. Plain data: the HTML renderer and the PDF printer only read it.
 */
import type {
  ClassScore,
  Dim,
  ExecutionProvider,
  ModelId,
  OpsetImport,
  Preprocess,
  StatsResponse,
  TensorInfo,
} from '../../src-shared/api';
import type { CamMethod, CamResult } from '../../src-shared/cam';
import type { Interpretation } from '../../src-shared/dataset';
import type { HeatmapDisplay, RgbImage } from '../../src-shared/heatmap';
import type { ReportTrust } from './trust-section';

export interface ReportModel {
  name: string;
  /** The engine's model id (a prefix of the content hash). */
  id: ModelId;
  /** SHA-256 of the model's bytes and external data, as the run history identifies it. */
  sha256: string | null;
  irVersion: number;
  producer: string;
  opsets: OpsetImport[];
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  nodeCount: number;
  parameterCount: number | null;
  sizeBytes: number;
  stages: { module: string; tensor: string; shape: Dim[] | null }[];
  stagesSource: 'auto' | 'user';
  classCount: number | null;
  preprocess: Preprocess;
  warnings: string[];
}

/** An encoded image (PNG, JPEG, …) as the engine hands it out. */
export interface EncodedImage {
  mime: string;
  bytes: Uint8Array;
  width: number;
  height: number;
}

export interface ReportImage {
  /** File name as given (user-controlled: always escaped). */
  name: string;
  /** The input as the user gave it (or as the model saw it, where the input was not kept); null for a .npy tensor. */
  original: EncodedImage | RgbImage | null;
  /** The image as the model saw it (resized/cropped), under the heatmaps; null for a .npy tensor. */
  modelView: RgbImage | null;
  top: ClassScore[];
  cam: CamResult;
  /** Run id in the history database, when history is on. */
  run: number | null;
  cached: boolean;
  predictMs: number;
}

/** How maps are drawn: the studio's own options (src-shared/heatmap) and defaults (magma, ReLU + min-max, bilinear, 50%). */
export type { HeatmapDisplay } from '../../src-shared/heatmap';

export const DEFAULT_DISPLAY: HeatmapDisplay = { colormap: 'magma', scaling: 'relu', upsampling: 'bilinear', opacity: 0.5 };

export interface ReportRun {
  methods: CamMethod[];
  /** Layers as asked for ("stages" means the detected stages). */
  layers: string[];
  classChoice: number | 'top';
  counterfactual: boolean;
  device: string;
  stats: { bins: number; range: [number, number] | null; layers: string[] | null } | null;
}

export interface ReportData {
  title: string;
  /** ISO-8601 time the analysis was gathered. */
  generatedAt: string;
  engineVersion: string;
  provider: ExecutionProvider;
  model: ReportModel;
  /** The images shown (at most the cap), in input order. */
  images: ReportImage[];
  /** How many images the run had (more than `images.length` when capped). */
  totalImages: number;
  /** Inputs left out because they could not be used (unreadable, another shape), with the reason. */
  skipped: { name: string; reason: string }[];
  run: ReportRun;
  display: HeatmapDisplay;
  stats: StatsResponse | null;
  /** A data-set interpretation run (confusion, top losses), when the report includes one. */
  dataset?: Interpretation | null;
  /** Faithfulness metrics and the sanity check (trust-section.ts), when they were run. */
  trust?: ReportTrust | null;
  /** Wall-clock phases of gathering, in order. */
  timings: { label: string; ms: number }[];
}
