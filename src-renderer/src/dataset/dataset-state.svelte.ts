/**
 * The Data set tab's state and its engine calls: `interpretDataset` as a job with progress and cancel (a
 * cancelled run keeps its partial result), the confusion-matrix cell whose images are shown, and the
 * thumbnails of the set's images (a bounded cache of object URLs).
 */
import type { EngineApi, ModelId } from '../../../src-shared/api';
import type { CamMethod } from '../../../src-shared/cam';
import type { InterpretResponse } from '../../../src-shared/dataset';
import { JobState } from '../lib/job-state.svelte';
import { ImageUrls } from './image-urls';

export interface DatasetOptions {
  /** A folder of class folders, or a CSV/TSV of path,label, on the engine's machine. */
  dataset: string;
  topLosses: number;
  /** Null: the last stage. */
  layer: string | null;
  methods: CamMethod[];
  /** Per-class mean maps (each image's map for its actual class, averaged per class). */
  classMaps: boolean;
  /** Per-class activation statistics. */
  classStats: boolean;
}

export type DatasetPhase = 'reading' | 'images' | 'maps' | 'class statistics';

export interface DatasetProgress {
  phase: DatasetPhase;
  done: number;
  total: number;
}

const THUMBNAILS = 400;

export class DatasetState extends JobState<DatasetProgress> {
  options = $state<DatasetOptions>({
    dataset: '',
    topLosses: 9,
    layer: null,
    methods: ['gradcam'],
    classMaps: false,
    classStats: false,
  });
  result = $state.raw<InterpretResponse | null>(null);
  modelId = $state<ModelId | null>(null);
  /** The confusion-matrix cell whose images are listed: class indices. */
  cell = $state<{ actual: number; predicted: number } | null>(null);
  private readonly urls: ImageUrls;

  constructor(engine: EngineApi) {
    super(engine, 'interpret', (event) => ({
      phase: event.layer === 'maps' || event.layer === 'reading' || event.layer === 'class statistics' ? event.layer : 'images',
      done: event.done,
      total: event.total,
    }));
    this.urls = new ImageUrls(engine, THUMBNAILS);
  }

  /** `stages`: the stages the user chose, whose last is the default layer; null for the detected ones. */
  async run(modelId: ModelId, stages: string[] | null = null): Promise<void> {
    const dataset = this.options.dataset.trim();
    if (this.running) return;
    if (!dataset) {
      this.error = 'Give the data set: a folder with one sub-folder of images per class, or a CSV of path,label.';
      return;
    }
    const { topLosses, layer, methods, classMaps, classStats } = this.options;
    const result = await this.runJob({ phase: 'reading', done: 0, total: 0 }, (jobId) =>
      this.engine.interpretDataset({
        modelId,
        dataset,
        topLosses: Math.min(64, Math.max(0, Math.round(topLosses) || 0)),
        layer: layer ?? stages?.at(-1) ?? null,
        methods,
        ...(classMaps ? { classMaps } : {}),
        ...(classStats ? { classStats } : {}),
        jobId,
      }),
    );
    if (result) this.show(result, modelId);
  }

  /** A result, just computed or reopened from the history. */
  show(result: InterpretResponse, modelId: ModelId): void {
    this.result = result;
    this.modelId = modelId;
    this.error = null;
    this.cell = result.mostConfused[0]
      ? { actual: result.mostConfused[0].actual, predicted: result.mostConfused[0].predicted }
      : null;
    this.options = {
      dataset: result.dataset,
      topLosses: this.options.topLosses,
      layer: this.options.layer,
      methods: result.methods,
      classMaps: Boolean(result.classMaps),
      classStats: Boolean(result.classStats),
    };
  }

  /** Indices of the images in a confusion-matrix cell. */
  cellImages(actual: number, predicted: number): number[] {
    const r = this.result;
    if (!r) return [];
    const out: number[] = [];
    for (let i = 0; i < r.images.paths.length; i++) {
      if (r.images.actual[i] === actual && r.images.predicted[i] === predicted) out.push(i);
    }
    return out;
  }

  /** An object URL of a set image, for thumbnails (the engine reads it from its path). */
  thumbnail(path: string): Promise<string> {
    return this.urls.get(path);
  }
}
