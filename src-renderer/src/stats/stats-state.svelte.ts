/**
 * The Statistics tab's state and its one engine call: `computeStats` as a job with progress and cancel (a
 * cancelled run keeps its partial result), plus which layer is selected for the colorful dimension, and
 * one layer's activation volume for one image.
 */
import type { ActivationVolume, EngineApi, ImageSource, ModelId, StatsResponse } from '../../../src-shared/api';
import { JobState } from '../lib/job-state.svelte';

export type RangeChoice = 'fastai' | 'auto';
/** fastai's ActivationStats histogram range. */
export const FASTAI_RANGE: [number, number] = [0, 10];

export interface StatsOptions {
  includeParamless: boolean;
  bins: number;
  range: RangeChoice;
}

/** `reading`: the inputs are being read and hashed (to find a stored run) before any is analysed. */
export interface StatsProgress {
  done: number;
  total: number;
  reading: boolean;
}

export class StatsState extends JobState<StatsProgress> {
  options = $state<StatsOptions>({ includeParamless: false, bins: 40, range: 'fastai' });
  result = $state.raw<StatsResponse | null>(null);
  /** The model the shown result belongs to. */
  modelId = $state<ModelId | null>(null);
  /** Index of the selected layer in `result.layers`. */
  selected = $state(0);

  volume = $state.raw<ActivationVolume | null>(null);
  /** What the last volume asked for is of: the image (by identity) and its name, and the layer. */
  volumeOf = $state.raw<{ image: ImageSource; name: string; layer: string } | null>(null);
  /** The name of the image the shown volume is of. */
  volumeImage = $state('');
  volumeError = $state<string | null>(null);

  constructor(engine: EngineApi) {
    super(engine, 'stats', (event) => ({ done: event.done, total: event.total, reading: event.layer === 'reading' }));
  }

  async loadVolume(modelId: ModelId, image: ImageSource, name: string, layer: string): Promise<void> {
    this.volumeError = null;
    const asked = { image, name, layer };
    this.volumeOf = asked;
    try {
      const volume = await this.engine.getActivation({ modelId, image, layer });
      if (this.volumeOf !== asked) return; // a later request (another image or layer) wins
      this.volume = volume;
      this.volumeImage = name;
    } catch (error) {
      if (this.volumeOf !== asked) return;
      this.volume = null;
      this.volumeError = error instanceof Error ? error.message : String(error);
    }
  }

  /** `stages`: the stages the user chose (they join the default layers), or null for the detected ones. */
  async run(modelId: ModelId, images: ImageSource[], stages: string[] | null = null): Promise<void> {
    if (images.length === 0) return;
    const { includeParamless, bins, range } = this.options;
    const result = await this.runJob({ done: 0, total: images.length, reading: true }, (jobId) =>
      this.engine.computeStats({
        modelId,
        images,
        layers: null,
        ...(stages ? { stages } : {}),
        includeParamless,
        bins: Math.min(10_000, Math.max(1, Math.round(bins) || 40)),
        range: range === 'fastai' ? FASTAI_RANGE : null,
        jobId,
      }),
    );
    if (result) this.showStored(result, modelId);
  }

  /** A statistics result, just computed or reopened from the history. */
  showStored(result: StatsResponse, modelId: ModelId): void {
    this.result = result;
    this.modelId = modelId;
    this.error = null;
    if (this.selected >= result.layers.length) this.selected = 0;
  }

  select(index: number): void {
    if (this.result && index >= 0 && index < this.result.layers.length) this.selected = index;
  }
}
