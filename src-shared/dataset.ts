/**
 * A model interpreted over a labelled data set — fastai's ClassificationInterpretation: every image's
 * prediction and loss, the confusion matrix, per-class precision and recall, the most confused pairs, and
 * the top losses with their maps for the predicted and for the actual class.
 *
 * Free of Node and DOM imports: the engine and the renderer both use it.
 */
import type { ExecutionProvider, ImageData, KeptNote, ModelId, RunId } from './primitives';
import type { CamMethod, CamResult, RawMap } from './cam';
import type { LayerStatsView } from './layer-stats';

export interface InterpretRequestMessage {
  modelId: ModelId;
  /**
   * On the engine's machine: a folder with one sub-folder per class (ImageFolder), or a CSV/TSV file of
   * `path,label` rows (paths relative to the file; labels by name or index).
   */
  dataset: string;
  /** How many of the highest-loss images get maps (0: none). */
  topLosses: number;
  /** The layer the top losses' maps are computed at (a module path or tensor name); null: the last stage. */
  layer: string | null;
  methods: CamMethod[];
  /**
   * Per-class mean maps (off by default): each image's map for its actual class at `layer`, summed per
   * class in the prediction pass (no map is kept), divided by the class's image count.
   */
  classMaps?: boolean;
  /** Per-class activation statistics (off by default): the statistics engine's figures per actual class. */
  classStats?: boolean;
  jobId: string;
}

/** How the labelled images were given. */
export type DatasetLayout = 'folders' | 'csv';

/** One image's outcome: what it is, what the model said, and its cross-entropy loss. */
export interface DatasetPrediction {
  /** The file, as a path on the engine's machine. */
  path: string;
  actual: number;
  predicted: number;
  /** −log p(actual): the cross-entropy fastai ranks top losses by. */
  loss: number;
  probPredicted: number;
  probActual: number;
}

/** Every predicted image, as columns (a 100,000-image set stays a few megabytes on the wire). */
export interface DatasetImages {
  paths: string[];
  actual: Int32Array;
  predicted: Int32Array;
  loss: Float64Array;
  probPredicted: Float64Array;
  probActual: Float64Array;
}

export function toColumns(images: DatasetPrediction[]): DatasetImages {
  return {
    paths: images.map((i) => i.path),
    actual: Int32Array.from(images, (i) => i.actual),
    predicted: Int32Array.from(images, (i) => i.predicted),
    loss: Float64Array.from(images, (i) => i.loss),
    probPredicted: Float64Array.from(images, (i) => i.probPredicted),
    probActual: Float64Array.from(images, (i) => i.probActual),
  };
}

export function imageAt(images: DatasetImages, i: number): DatasetPrediction {
  return {
    path: images.paths[i] as string,
    actual: images.actual[i] as number,
    predicted: images.predicted[i] as number,
    loss: images.loss[i] as number,
    probPredicted: images.probPredicted[i] as number,
    probActual: images.probActual[i] as number,
  };
}

export interface SkippedImage {
  path: string;
  reason: string;
}

export interface ClassMetrics {
  class: number;
  label: string;
  /** Images of this class. */
  support: number;
  /** Images predicted as this class. */
  predictedCount: number;
  correct: number;
  /** correct / predictedCount; null when nothing was predicted as this class. */
  precision: number | null;
  /** correct / support; null when the set has no image of this class. */
  recall: number | null;
}

/** The confusion matrix over the classes that occur (as actual or predicted): counts[a * n + p]. */
export interface ConfusionMatrix {
  classes: number[];
  counts: number[];
}

export interface ConfusedPair {
  actual: number;
  predicted: number;
  count: number;
}

/** One top loss with its maps: what the model looked at for the class it chose and for the true one. */
export interface TopLoss {
  /** Index into `images`. */
  index: number;
  predicted: CamResult;
  /** Null when the prediction was right (the maps would be the predicted class's). */
  actual: CamResult | null;
  /** The image as the model saw it, for overlays. */
  modelView: ImageData;
}

/**
 * One class's mean maps: the mean, over the images labelled with the class, of the map explaining that
 * class (each map as the single-image CAM run computes it). Only images whose maps share the geometry of
 * the class's first map are averaged; the others are counted in `otherGeometry`.
 */
export interface ClassMeanMap {
  class: number;
  /** Images averaged. */
  images: number;
  /** Images left out because their map has another size (models that take images of any size). */
  otherGeometry: number;
  maps: Partial<Record<CamMethod, RawMap>>;
  /** Methods with no map for this class, with why (the first image's reason). */
  unavailable: Partial<Record<CamMethod, string>>;
}

/**
 * One class's activation statistics: `layerlens stats` over the images labelled with the class (the
 * default layers, fastai's 40 bins on [0, 10]), as the statistics view draws them.
 */
export interface ClassStats {
  class: number;
  images: number;
  bins: number;
  layers: LayerStatsView[];
}

export interface Interpretation {
  dataset: string;
  layout: DatasetLayout;
  /** Class names by index (the model's labels, or "class k"). */
  labels: string[];
  /** Images in the set (readable or not). */
  total: number;
  images: DatasetImages;
  skipped: SkippedImage[];
  cancelled: boolean;
  accuracy: number;
  /** Mean loss over the predicted images. */
  meanLoss: number;
  confusion: ConfusionMatrix;
  perClass: ClassMetrics[];
  mostConfused: ConfusedPair[];
  /** The layer and methods of the top losses' maps (the layer as resolved, e.g. "layer4"). */
  layer: string | null;
  methods: CamMethod[];
  topLosses: TopLoss[];
  /** Per-class mean maps at `layer` (null: not asked for); classes in index order. */
  classMaps?: ClassMeanMap[] | null;
  /** Per-class activation statistics (null: not asked for); classes in index order. */
  classStats?: ClassStats[] | null;
  provider: ExecutionProvider;
  /** The prediction pass's batch size and speed. */
  batch: number;
  predictMs: number;
  mapsMs: number;
  /** Time of the per-class maps, within the prediction pass but not counted in predictMs. */
  classMapsMs?: number;
  /** Time of the per-class statistics pass. */
  classStatsMs?: number;
}

export interface InterpretResponse extends Interpretation, KeptNote {
  /** True when the answer came from the run database. */
  cached: boolean;
  run: RunId | null;
}

export const MAX_TOP_LOSSES = 64;

/** What an interpretation run stores as its parameters (the history reruns it from these). */
export type InterpretRunParams = Omit<InterpretRequestMessage, 'modelId' | 'jobId'>;
