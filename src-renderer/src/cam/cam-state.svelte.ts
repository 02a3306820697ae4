/**
 * What the CAM grid shows and how it asks the engine. Fast methods (everything but the perturbation methods)
 * come from one request per (image, class, counterfactual) that also carries the prediction; switching a
 * pane's method or the colormap repaints without asking again. Every request is self-contained (the layers
 * it wants, the class), and answers are known by the engine's run key: the engine answers a repeated
 * question from its memory, and the grid keeps its recent answers by that key (their panes repaint from the
 * pixels drawn), so nothing here can outlive a change of preprocessing or labels. Slow methods
 * run as jobs with progress and cancel, one (layer, method) per pane, queued in the grid's order: none is
 * dropped while another runs. One user action (an image, a class) is one run in the history: each slow pane's
 * maps are added to the run of the fast answer shown, and a reopened run shows the slow maps it holds.
 */
import type { CamResponse, EngineApi, ImageSource, JobProgress, ModelId } from '../../../src-shared/api';
import {
  DEFAULT_METHODS,
  FAST_METHODS,
  PERTURBATION_METHODS,
  type CamMethod,
  type LayerMaps,
  type RawMap,
} from '../../../src-shared/cam';
import type { RgbImage } from '../../../src-shared/heatmap';
import type { RunId } from '../../../src-shared/runs';
import { CamSettings } from './cam-settings.svelte';
import { defaultPanes, panesOfRun } from './stored-panes';

export interface Subject {
  modelId: ModelId;
  image: ImageSource;
  /** Identifies the image for caching (sample id, file name + size…). */
  imageKey: string;
}

/** A slow answer's place: one pane, a layer and a method. */
const slowKey = (layer: string, method: CamMethod): string => `${method}\u0000${layer}`;

/** Answers the grid keeps by run key (with their painted panes): going back to a recent image is a repaint. */
const KEPT_ANSWERS = 3;

let jobCounter = 0;
const newJobId = (): string => `job-${Date.now().toString(36)}-${(jobCounter++).toString(36)}`;

export class CamState {
  readonly settings = new CamSettings();
  classChoice = $state<number | 'top'>('top');
  counterfactual = $state(false);
  /** The request's smoothing options (pytorch-grad-cam's eigen_smooth and aug_smooth): each is another run. */
  smoothing = $state<{ eigenSmooth: boolean; augSmooth: boolean }>({ eigenSmooth: false, augSmooth: false });
  /** Method shown in the left and right pane of each layer row (CAM | Grad-CAM, as in the fastai chapter). */
  paneMethods = $state<Record<string, [CamMethod, CamMethod]>>({});
  response = $state.raw<CamResponse | null>(null);
  /** The image the shown response belongs to (lets tests and benchmarks know when a new one is painted). */
  shownKey = $state<string | null>(null);
  /** Results of slow methods for the current subject and class, by slowKey(layer, method). */
  slow = $state.raw<Record<string, CamResponse>>({});
  /** The model's view of the image at its own size, as the engine sent its pixels; each pane resamples it. */
  base = $state.raw<RgbImage | null>(null);
  progress = $state<JobProgress | null>(null);
  pending = $state(false);
  error = $state<string | null>(null);
  private subject: Subject | null = null;
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a lookup by run key, never rendered
  private readonly answers = new Map<string, CamResponse>();
  /** The layers the grid shows (module paths or tensor names), sent with each request; null: the stages. */
  private layers: string[] | null = null;
  private runningJob: string | null = null;
  /** Slow (layer, method) requests waiting for the running one, in the order they were asked for. */
  private queue: { layer: string; method: CamMethod }[] = [];
  private request = 0;
  /** The methods the shown fast answer was asked for. */
  private askedFor: CamMethod[] = [];
  /** The run of the action shown (its fast answer's run), which the slow panes' maps join. */
  private actionRun: RunId | null = null;

  constructor(private readonly engine: EngineApi) {}

  /** The layers to ask for from now on (the grid's rows); null asks for the model's stages. */
  setLayers(layers: string[] | null): void {
    this.layers = layers && layers.length > 0 ? layers : null;
  }

  /** CAM beside Grad-CAM where the head allows CAM (the last stage); LayerCAM beside it elsewhere. */
  methodsFor(layer: string): [CamMethod, CamMethod] {
    return this.paneMethods[layer] ?? defaultPanes(this.response?.result.layers.find((l) => l.label === layer));
  }

  setPaneMethod(layer: string, side: 0 | 1, method: CamMethod): void {
    const pair = [...this.methodsFor(layer)] as [CamMethod, CamMethod];
    pair[side] = method;
    this.paneMethods[layer] = pair;
    if (PERTURBATION_METHODS.includes(method)) void this.computeSlow(layer, method);
    // A fast method the shown answer lacks: asked for, and added to the same action's run.
    else if (this.subject && !this.fastMethods().every((m) => this.askedFor.includes(m)))
      void this.show(this.subject, this.actionRun);
  }

  /** The methods of the one fast request: the defaults and any other fast method a pane shows. */
  private fastMethods(): CamMethod[] {
    const shown = Object.values(this.paneMethods).flat();
    return FAST_METHODS.filter((m) => DEFAULT_METHODS.includes(m) || shown.includes(m));
  }

  /**
   * The layer's maps from whichever answer holds `method`: the fast one, that pane's slow request, or a
   * reopened run, whose answer holds the slow maps that were added to it.
   */
  private source(layer: LayerMaps | undefined, method: CamMethod): LayerMaps | undefined {
    if (!layer || !PERTURBATION_METHODS.includes(method) || holds(layer, method)) return layer;
    return this.slow[slowKey(layer.label, method)]?.result.layers.find((l) => l.label === layer.label);
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

  /**
   * Shows the fast maps of a subject (and returns the answer, whose `top` is the prediction), or null when a
   * newer request superseded this one or it failed (the error shows in the grid).
   */
  async show(subject: Subject, addToRun: RunId | null = null): Promise<CamResponse | null> {
    const changed = this.subject?.imageKey !== subject.imageKey || this.subject?.modelId !== subject.modelId;
    this.subject = subject;
    if (changed) {
      this.slow = {};
      this.queue = [];
    }
    // A new action (another image, class, preprocessing…) until its answer names its run.
    this.actionRun = addToRun;
    const ticket = ++this.request;
    this.error = null;
    this.pending = true;
    const methods = this.fastMethods();
    let response: CamResponse;
    try {
      response = await this.engine.computeCam({
        modelId: subject.modelId,
        image: subject.image,
        ...(this.layers ? { layers: this.layers } : {}),
        methods,
        classIndex: this.classChoice,
        counterfactual: this.counterfactual,
        ...this.smoothingOptions(this.smoothing),
        jobId: newJobId(),
        ...(addToRun === null ? {} : { addToRun }),
      });
    } catch (error) {
      if (ticket === this.request) this.error = error instanceof Error ? error.message : String(error);
      return null;
    } finally {
      if (ticket === this.request) this.pending = false;
    }
    if (!this.display(subject, response, ticket)) return null;
    this.askedFor = methods;
    return response;
  }

  /**
   * Equal run keys, equal answers: an answer seen before keeps its maps and model view (the same objects), so
   * its panes repaint from the pixels they drew (render-pane.ts) instead of computing them again. Bounded.
   */
  private byKey(answer: CamResponse): CamResponse {
    const known = this.answers.get(answer.key);
    this.answers.delete(answer.key);
    const response = known ? { ...answer, result: known.result, modelView: known.modelView } : answer;
    this.answers.set(answer.key, response);
    for (const key of this.answers.keys()) if (this.answers.size > KEPT_ANSWERS) this.answers.delete(key);
    return response;
  }

  /** Puts an answer on screen unless request `ticket` was superseded; then asks for the panes' slow methods. */
  private display(subject: Subject, answer: CamResponse, ticket: number): boolean {
    if (ticket !== this.request) return false; // a newer request superseded this one
    const response = this.byKey(answer);
    // Raw pixels: nothing to decode between the answer and the painted grid.
    this.base = response.modelView;
    this.response = response;
    this.shownKey = subject.imageKey;
    this.actionRun = response.run;
    // Every pane showing a slow method the answer does not hold, in the grid's order.
    for (const layer of response.result.layers)
      for (const m of this.methodsFor(layer.label))
        if (PERTURBATION_METHODS.includes(m) && !holds(layer, m)) void this.computeSlow(layer.label, m);
    return true;
  }

  /** Shows an answer that was stored (a run reopened from the history) without asking the engine. */
  showStored(subject: Subject, response: CamResponse, classIndex: number | 'top', counterfactual: boolean): void {
    this.classChoice = classIndex;
    this.counterfactual = counterfactual;
    const { eigenSmooth = false, augSmooth = false } = response.result;
    this.smoothing = { eigenSmooth, augSmooth };
    this.subject = subject;
    this.slow = {};
    this.error = null;
    this.pending = false;
    const first = response.result.layers[0];
    this.askedFor = first ? ([...Object.keys(first.maps), ...Object.keys(first.unavailable)] as CamMethod[]) : [];
    // The run as it was made: its slow maps in their panes, and no pane asking for what it does not hold.
    this.paneMethods = panesOfRun(response.result.layers, this.paneMethods, defaultPanes);
    this.display(subject, response, ++this.request);
  }

  async choose(classIndex: number | 'top', counterfactual = this.counterfactual): Promise<void> {
    this.classChoice = classIndex;
    this.counterfactual = counterfactual;
    this.slow = {};
    this.queue = [];
    this.actionRun = null;
    if (this.subject) await this.show(this.subject);
  }

  /** Turns a smoothing option on or off: the maps are asked for again (slow panes too). */
  async setSmoothing(option: 'eigenSmooth' | 'augSmooth', on: boolean): Promise<void> {
    this.smoothing = { ...this.smoothing, [option]: on };
    await this.choose(this.classChoice);
  }

  /** The request's fields for the options that are on (absent when off, so plain runs keep their keys). */
  private smoothingOptions(s: { eigenSmooth: boolean; augSmooth: boolean }): { eigenSmooth?: true; augSmooth?: true } {
    return { ...(s.eigenSmooth ? { eigenSmooth: true } : {}), ...(s.augSmooth ? { augSmooth: true } : {}) };
  }

  /**
   * One pane's slow method: only that layer is computed. While another slow job runs, the request waits its
   * turn (in the order asked) instead of being dropped.
   */
  async computeSlow(layer: string, method: CamMethod): Promise<void> {
    const subject = this.subject;
    const key = slowKey(layer, method);
    if (!subject || this.slow[key]) return;
    if (this.runningJob) {
      if (!this.queue.some((q) => q.layer === layer && q.method === method)) this.queue.push({ layer, method });
      return;
    }
    const classIndex = this.classChoice;
    const counterfactual = this.counterfactual;
    const smoothing = this.smoothing;
    const run = this.actionRun;
    const jobId = newJobId();
    this.runningJob = jobId;
    this.progress = { jobId, layer, method, done: 0, total: 1 };
    try {
      const response = await this.engine.computeCam({
        modelId: subject.modelId,
        image: subject.image,
        layers: [layer],
        methods: [method],
        classIndex,
        counterfactual,
        ...this.smoothingOptions(smoothing),
        jobId,
        // Stored as more maps of the action's run, not as a run of its own.
        ...(run === null ? {} : { addToRun: run }),
      });
      const current =
        this.subject === subject &&
        this.classChoice === classIndex &&
        this.counterfactual === counterfactual &&
        this.smoothing === smoothing;
      if (current) this.slow = { ...this.slow, [key]: response };
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
      // Cancelled: the waiting requests are dropped with it (the user asked to stop).
      if (/cancel/i.test(this.error)) this.queue = [];
    } finally {
      this.runningJob = null;
      this.progress = null;
    }
    const next = this.queue.shift();
    if (next && this.subject) void this.computeSlow(next.layer, next.method);
  }

  /** Drops every kept answer (the stages changed, so the same request now means other layers). */
  forget(): void {
    this.slow = {};
    this.queue = [];
    this.response = null;
  }

  onProgress(event: JobProgress): void {
    if (event.jobId === this.runningJob) this.progress = event;
  }

  async cancel(): Promise<void> {
    if (this.runningJob) await this.engine.cancelJob({ jobId: this.runningJob });
  }
}

/** Whether an answer's layer holds `method`: its map, or why there is none. */
function holds(layer: LayerMaps, method: CamMethod): boolean {
  return method in layer.maps || method in layer.unavailable;
}
