/**
 * The Data set tab's state and its engine calls: `interpretDataset` as a job with progress and cancel (a
 * cancelled run keeps its partial result), the confusion-matrix cell whose images are shown, and the
 * thumbnails of the set's images (a bounded cache of object URLs).
 */
import type { EngineApi, JobProgress, ModelId } from '../../../src-shared/api';
import type { CamMethod } from '../../../src-shared/cam';
import type { InterpretResponse } from '../../../src-shared/dataset';
import { ImageUrls } from './image-urls';

export interface DatasetOptions {
  /** A folder of class folders, or a CSV/TSV of path,label, on the engine's machine. */
  dataset: string;
  topLosses: number;
  /** Null: the last stage. */
  layer: string | null;
  methods: CamMethod[];
}

export type DatasetPhase = 'reading' | 'images' | 'maps';

let jobCounter = 0;
const newJobId = (): string => `interpret-${Date.now().toString(36)}-${(jobCounter++).toString(36)}`;
const THUMBNAILS = 400;

export class DatasetState {
  options = $state<DatasetOptions>({ dataset: '', topLosses: 9, layer: null, methods: ['gradcam'] });
  result = $state.raw<InterpretResponse | null>(null);
  modelId = $state<ModelId | null>(null);
  progress = $state.raw<{ phase: DatasetPhase; done: number; total: number } | null>(null);
  running = $state(false);
  error = $state<string | null>(null);
  /** The confusion-matrix cell whose images are listed: class indices. */
  cell = $state<{ actual: number; predicted: number } | null>(null);
  private job: string | null = null;
  private readonly urls: ImageUrls;

  constructor(private readonly engine: EngineApi) {
    this.urls = new ImageUrls(engine, THUMBNAILS);
  }

  async run(modelId: ModelId): Promise<void> {
    const dataset = this.options.dataset.trim();
    if (this.running) return;
    if (!dataset) {
      this.error = 'Give the data set: a folder with one sub-folder of images per class, or a CSV of path,label.';
      return;
    }
    const jobId = newJobId();
    this.job = jobId;
    this.running = true;
    this.error = null;
    this.progress = { phase: 'reading', done: 0, total: 0 };
    try {
      const { topLosses, layer, methods } = this.options;
      const result = await this.engine.interpretDataset({
        modelId,
        dataset,
        topLosses: Math.min(64, Math.max(0, Math.round(topLosses) || 0)),
        layer,
        methods,
        jobId,
      });
      this.show(result, modelId);
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    } finally {
      this.job = null;
      this.running = false;
      this.progress = null;
    }
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
    };
  }

  onProgress(event: JobProgress): void {
    if (event.method !== 'interpret' || event.jobId !== this.job) return;
    const phase: DatasetPhase = event.layer === 'maps' ? 'maps' : event.layer === 'reading' ? 'reading' : 'images';
    this.progress = { phase, done: event.done, total: event.total };
  }

  async cancel(): Promise<void> {
    if (this.job) await this.engine.cancelJob({ jobId: this.job });
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
