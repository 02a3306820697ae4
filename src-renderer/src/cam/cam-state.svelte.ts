/**
 * What the CAM grid shows and how it asks the engine. Fast methods (everything but ScoreCAM and AblationCAM)
 * come from one request per (image, class, counterfactual) and are kept, so switching a pane's method, the
 * colormap or going back to an earlier class repaints without asking again. Slow methods run as jobs with
 * progress and cancel.
 */
import type { CamResponse, EngineApi, ImageSource, JobProgress, ModelId } from '../../../src-shared/api';
import { FAST_METHODS, PERTURBATION_METHODS, type CamMethod, type LayerMaps, type RawMap } from '../../../src-shared/cam';
import type { RgbImage } from '../../../src-shared/heatmap';
import { CamSettings } from './cam-settings.svelte';
import { rgbFromRgba } from './render-pane';

const CACHE_LIMIT = 32;

export interface Subject {
  modelId: ModelId;
  image: ImageSource;
  /** Identifies the image for caching (sample id, file name + size…). */
  imageKey: string;
}

let jobCounter = 0;
const newJobId = (): string => `job-${Date.now().toString(36)}-${(jobCounter++).toString(36)}`;

export class CamState {
  readonly settings = new CamSettings();
  classChoice = $state<number | 'top'>('top');
  counterfactual = $state(false);
  /** Method shown in the left and right pane of each layer row (CAM | Grad-CAM, as in the fastai chapter). */
  paneMethods = $state<Record<string, [CamMethod, CamMethod]>>({});
  response = $state.raw<CamResponse | null>(null);
  /** The image the shown response belongs to (lets tests and benchmarks know when a new one is painted). */
  shownKey = $state<string | null>(null);
  /** Results of slow methods for the current subject, by method. */
  slow = $state.raw<Partial<Record<CamMethod, CamResponse>>>({});
  /** The model's view of the image at its own size; each pane resamples it to its size. */
  base = $state.raw<RgbImage | null>(null);
  progress = $state<JobProgress | null>(null);
  pending = $state(false);
  error = $state<string | null>(null);
  private subject: Subject | null = null;
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a private cache, never rendered
  private readonly cache = new Map<string, CamResponse>();
  private runningJob: string | null = null;
  private request = 0;

  constructor(private readonly engine: EngineApi) {}

  private key(s: Subject, methods: string): string {
    return JSON.stringify([s.modelId, s.imageKey, this.classChoice, this.counterfactual, methods]);
  }

  /** CAM beside Grad-CAM where the head allows CAM (the last stage); LayerCAM beside it elsewhere. */
  methodsFor(layer: string): [CamMethod, CamMethod] {
    const chosen = this.paneMethods[layer];
    if (chosen) return chosen;
    const maps = this.response?.result.layers.find((l) => l.label === layer);
    return maps && !maps.maps.cam && maps.unavailable.cam ? ['layercam', 'gradcam'] : ['cam', 'gradcam'];
  }

  setPaneMethod(layer: string, side: 0 | 1, method: CamMethod): void {
    const pair = [...this.methodsFor(layer)] as [CamMethod, CamMethod];
    pair[side] = method;
    this.paneMethods[layer] = pair;
    if (PERTURBATION_METHODS.includes(method)) void this.computeSlow(method);
  }

  /** The layer's maps from whichever answer holds `method` (the fast one, or that slow method's own). */
  private source(layer: LayerMaps | undefined, method: CamMethod): LayerMaps | undefined {
    if (!layer || !PERTURBATION_METHODS.includes(method)) return layer;
    return this.slow[method]?.result.layers.find((l) => l.label === layer.label);
  }

  mapFor(layer: LayerMaps | undefined, method: CamMethod): RawMap | undefined {
    return this.source(layer, method)?.maps[method];
  }

  unavailableFor(layer: LayerMaps | undefined, method: CamMethod): string | undefined {
    return this.source(layer, method)?.unavailable[method];
  }

  noteFor(layer: LayerMaps | undefined, method: CamMethod): string | undefined {
    return this.source(layer, method)?.notes?.[method];
  }

  private remember(key: string, response: CamResponse): void {
    this.cache.delete(key);
    this.cache.set(key, response);
    while (this.cache.size > CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value as string);
  }

  /** The image under the maps; left alone when request `ticket` was superseded while it decoded. */
  private async loadBase(response: CamResponse, ticket: number): Promise<void> {
    const view = response.modelView;
    if (view.bytes.byteLength === 0) {
      this.base = null;
      return;
    }
    const bitmap = await createImageBitmap(new Blob([view.bytes as BlobPart], { type: view.mime }));
    const { width, height } = bitmap;
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d');
    if (!ctx || ticket !== this.request) return;
    ctx.drawImage(bitmap, 0, 0);
    this.base = { rgb: rgbFromRgba(ctx.getImageData(0, 0, width, height).data), width, height };
  }

  /** Shows maps for a subject, from the cache when the answer is known. */
  async show(subject: Subject): Promise<void> {
    const changed = this.subject?.imageKey !== subject.imageKey || this.subject?.modelId !== subject.modelId;
    this.subject = subject;
    if (changed) this.slow = {};
    const key = this.key(subject, 'fast');
    const ticket = ++this.request;
    this.error = null;
    let response = this.cache.get(key) ?? null;
    if (!response) {
      this.pending = true;
      try {
        response = await this.engine.computeCam({
          modelId: subject.modelId,
          image: subject.image,
          methods: [...FAST_METHODS],
          classIndex: this.classChoice,
          counterfactual: this.counterfactual,
          jobId: newJobId(),
        });
        this.remember(key, response);
      } catch (error) {
        if (ticket === this.request) this.error = error instanceof Error ? error.message : String(error);
        return;
      } finally {
        if (ticket === this.request) this.pending = false;
      }
    }
    if (ticket !== this.request) return; // a newer request superseded this one
    if (changed || !this.base) await this.loadBase(response, ticket);
    // Checked again: while the image decoded, a newer request (a run reopened from the history) may have
    // been shown, and this older answer must not replace it.
    if (ticket !== this.request) return;
    this.response = response;
    this.shownKey = subject.imageKey;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a local de-duplication, not state
    for (const m of new Set(Object.values(this.paneMethods).flat()))
      if (PERTURBATION_METHODS.includes(m)) void this.computeSlow(m);
  }

  /** Shows an answer that was stored (a run reopened from the history) without asking the engine. */
  async showStored(subject: Subject, response: CamResponse, classIndex: number | 'top', counterfactual: boolean): Promise<void> {
    this.classChoice = classIndex;
    this.counterfactual = counterfactual;
    this.subject = null;
    this.remember(this.key(subject, 'fast'), response);
    await this.show(subject);
  }

  async choose(classIndex: number | 'top', counterfactual = this.counterfactual): Promise<void> {
    this.classChoice = classIndex;
    this.counterfactual = counterfactual;
    this.slow = {};
    if (this.subject) await this.show(this.subject);
  }

  async computeSlow(method: CamMethod): Promise<void> {
    const subject = this.subject;
    if (!subject || this.runningJob) return;
    const key = this.key(subject, method);
    const cached = this.cache.get(key);
    if (cached) {
      this.slow = { ...this.slow, [method]: cached };
      return;
    }
    const jobId = newJobId();
    this.runningJob = jobId;
    this.progress = { jobId, layer: '', method, done: 0, total: 1 };
    try {
      const response = await this.engine.computeCam({
        modelId: subject.modelId,
        image: subject.image,
        methods: [method],
        classIndex: this.classChoice,
        counterfactual: this.counterfactual,
        jobId,
      });
      this.remember(key, response);
      if (this.subject === subject) this.slow = { ...this.slow, [method]: response };
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    } finally {
      this.runningJob = null;
      this.progress = null;
    }
  }

  /** Drops every kept answer (the stages changed, so the same request now means other layers). */
  forget(): void {
    this.cache.clear();
    this.slow = {};
    this.response = null;
  }

  onProgress(event: JobProgress): void {
    if (event.jobId === this.runningJob) this.progress = event;
  }

  async cancel(): Promise<void> {
    if (this.runningJob) await this.engine.cancelJob({ jobId: this.runningJob });
  }
}
