/**
 * The studio's state and the actions that change it. Components read this and call its methods; the engine
 * is reached only through the `EngineApi` this class (and the stores it creates) hold.
 */
import { SettingsState } from '../settings/settings-state.svelte';
import type {
  DeviceChoice,
  DeviceState,
  AppCommand,
  ViewName,
  Preprocess,
  EngineApi,
  ImageSource,
  JobProgress,
  ModelId,
  ModelSummary,
  OpenedRun,
  RgbImage,
  Prediction,
  ReportFormat,
  Sample,
  TensorName,
} from '../../../src-shared/api';
import type { GraphView, WeightStats } from '../../../src-shared/graph';
import type { RunId, StoredImageSource } from '../../../src-shared/runs';
import { HistoryState } from '../history/history-state.svelte';
import type { LayerTarget } from '../graph/visible-graph';
import { PromiseCache } from './promise-cache';
import { CamState } from '../cam/cam-state.svelte';
import { StatsState } from '../stats/stats-state.svelte';
import { TrustState } from '../trust/trust-state.svelte';
import { DatasetState } from '../dataset/dataset-state.svelte';
import { droppedPaths, type HostKind } from './transport';

export type { LayerTarget } from '../graph/visible-graph';

export interface ShownImage {
  source: ImageSource;
  name: string;
  url: string;
  width: number;
  height: number;
}

/** What the input panel shows of an image: an object URL (owned: revoked when the image is replaced) and its size. */
interface Picture {
  url: string;
  width: number;
  height: number;
  owned: boolean;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class Studio {
  version = $state('');
  /** Where analyses run (the toolbar's device menu). */
  device = $state<DeviceState | null>(null);
  model = $state<ModelSummary | null>(null);
  samples = $state<Sample[]>([]);
  /** The model the samples were drawn for (the demo's). */
  samplesModel = $state<ModelId | null>(null);
  image = $state<ShownImage | null>(null);
  prediction = $state<Prediction | null>(null);
  /** The stored run shown (reopened from the history), whose prediction was not timed now; null otherwise. */
  shownRun = $state<{ id: RunId; provider: string | null; durationMs: number | null } | null>(null);
  busy = $state(false);
  error = $state<string | null>(null);
  /** Sample thumbnails, by sample id. */
  thumbnails = $state<Record<string, string>>({});
  /** The samples' pictures (the thumbnails are the images themselves): a click shows one without asking again. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a lookup for clicks, never rendered
  private readonly samplePictures = new Map<string, Picture>();
  /** Whether the shown image's URL is ours to revoke (a sample's belongs to its thumbnail). */
  private ownsImageUrl = false;
  /** The stages the user chose for the open model (module paths or tensor names); null: the detected ones. */
  stages = $state.raw<string[] | null>(null);
  /** The open model's layer graph (large and immutable: not deeply reactive). */
  graph = $state.raw<GraphView | null>(null);
  /** Which view is shown: the CAM studio, the layer graph, the activation statistics or the run history. */
  view = $state<ViewName>('studio');
  /** A stage row the CAM grid should bring into view (set from the graph). */
  focusedLayer = $state<string | null>(null);
  graphWarnings = $state.raw<string[]>([]);
  graphLoading = $state(false);
  graphError = $state<string | null>(null);
  /** The node or module selected in the graph (a stage is a module). */
  selection = $state.raw<LayerTarget | null>(null);
  /** Weight statistics, by model and tensor: asked for once. */
  private readonly weightStatsCache = new PromiseCache<WeightStats | null>();

  /** The CAM grid's state: maps for the shown image, class and display settings. */
  readonly cam: CamState;
  /** The Statistics tab: activation statistics over images (fastai's ActivationStats). */
  readonly stats: StatsState;
  readonly dataset: DatasetState;
  /** The History tab: every stored run. */
  readonly history: HistoryState;
  /** The Trust tab: faithfulness metrics of the shown maps and the sanity check of the methods. */
  readonly trust: TrustState;
  /** The Settings dialog (the run history's size limit). */
  readonly settings: SettingsState;
  private imageSerial = 0;
  private imageRequests = 0;
  /** Models the user opened (a file, a path, a run's): the start-up model must not replace a later one. */
  private modelOpens = 0;

  constructor(
    private readonly engine: EngineApi,
    readonly host: HostKind,
  ) {
    this.cam = new CamState(engine);
    this.stats = new StatsState(engine);
    this.dataset = new DatasetState(engine);
    this.history = new HistoryState(engine);
    this.trust = new TrustState(engine);
    this.settings = new SettingsState(engine);
  }

  private async attempt<T>(work: () => Promise<T>): Promise<T | undefined> {
    this.busy = true;
    this.error = null;
    try {
      return await work();
    } catch (error) {
      this.error = errorMessage(error);
      return undefined;
    } finally {
      this.busy = false;
    }
  }

  /** Later analyses run on `choice`; the prediction shown is asked again so its provider line is true. */
  async setDevice(choice: DeviceChoice): Promise<void> {
    await this.attempt(async () => {
      this.device = await this.engine.setDevice({ device: choice });
    });
  }

  async start(): Promise<void> {
    await this.attempt(async () => {
      const state = await this.engine.getStartupState();
      this.device = await this.engine.getDevice();
      this.version = state.version;
      // A model the user opened while the page started stays (its answer may come before this one).
      const userModel = this.modelOpens > 0;
      if (!userModel) this.model = state.model;
      this.samples = state.samples;
      this.samplesModel = state.samplesModel;
      if (state.model && !userModel) void this.loadGraph(state.model);
      await Promise.all(state.samples.map(async (s) => this.loadThumbnail(s)));
      const first = state.samples[0];
      // The first sample by default — unless the user picked an image or a model while the thumbnails loaded.
      if (first && state.model && this.imageRequests === 0 && this.modelOpens === 0)
        await this.showImage({ kind: 'sample', id: first.id }, first.file);
    });
  }

  private async loadThumbnail(sample: Sample): Promise<void> {
    const image = await this.engine.getImage({ source: { kind: 'sample', id: sample.id } });
    const url = URL.createObjectURL(new Blob([image.bytes as BlobPart], { type: image.mime }));
    this.samplePictures.set(sample.id, { url, width: image.width, height: image.height, owned: false });
    this.thumbnails[sample.id] = url;
  }

  async openModelFile(file: File): Promise<void> {
    await this.attempt(async () => {
      this.modelOpens++;
      const bytes = new Uint8Array(await file.arrayBuffer());
      this.model = await this.engine.openModelBytes({ name: file.name, bytes });
      this.prediction = null;
      void this.loadGraph(this.model);
      if (this.image) await this.predictShown();
    });
  }

  /** Models opened from files (engine side), for the toolbar's "Recent" list. */
  recent = $state<{ name: string; path: string }[]>([]);

  async refreshRecent(): Promise<void> {
    this.recent = await this.engine.recentModels();
  }

  async openModelPath(path: string): Promise<void> {
    await this.attempt(async () => {
      this.modelOpens++;
      this.model = await this.engine.openModelPath({ path });
      this.prediction = null;
      void this.loadGraph(this.model);
      void this.refreshRecent();
      if (this.image) await this.predictShown();
    });
  }

  /** Applies edited preprocessing (null: the model's own) and re-runs the shown image. */
  async setPreprocess(preprocess: Omit<Preprocess, 'source'> | null): Promise<void> {
    const model = this.model;
    if (!model) return;
    await this.attempt(async () => {
      this.model = await this.engine.setPreprocess({ modelId: model.id, preprocess });
      if (this.image) await this.predictShown();
    });
  }

  /** Class names from a labels file: one per line, or a JSON array. */
  async loadLabels(file: File | null): Promise<void> {
    const model = this.model;
    if (!model) return;
    await this.attempt(async () => {
      let labels: string[] | null = null;
      if (file) {
        const text = await file.text();
        const json = text.trimStart().startsWith('[') ? (JSON.parse(text) as unknown) : null;
        labels = Array.isArray(json)
          ? json.map(String)
          : text
              .split(/\r?\n/)
              .map((l) => l.trim())
              .filter((l) => l.length > 0);
        if (labels.length === 0) throw new Error(`${file.name} has no labels: write one class name per line.`);
      }
      this.model = await this.engine.setLabels({ modelId: model.id, labels });
      if (this.image) await this.predictShown();
    });
  }

  /** Menus and files opened from the OS (desktop host). */
  onCommand(command: AppCommand): void {
    if (command.kind === 'open-model') void this.openModelPath(command.path);
    else if (command.kind === 'view') this.view = command.view;
    else if (command.kind === 'export-report') void this.exportCurrentReport(command.format);
    else if (command.kind === 'settings') void this.settings.show();
    else {
      const first = command.paths[0];
      if (first) void this.attempt(() => this.showImage({ kind: 'path', path: first }, first.split(/[\\/]/).pop() ?? first));
    }
  }

  /** Files dropped on the window: a model opens, an image is analysed (by path where the host allows it). */
  async openDropped(files: File[]): Promise<void> {
    const paths = droppedPaths(files);
    for (const [i, file] of files.entries()) {
      const path = paths?.[i] ?? null;
      const isModel = file.name.toLowerCase().endsWith('.onnx');
      if (isModel && path) await this.openModelPath(path);
      else if (isModel) await this.openModelFile(file);
      else if (path) await this.attempt(() => this.showImage({ kind: 'path', path }, file.name));
      else await this.openImageFile(file);
    }
  }

  /** An image from the user's disk: its bytes cross to the engine once; every later request names the upload. */
  async openImageFile(file: File): Promise<void> {
    const bytes = new Uint8Array(await file.arrayBuffer());
    await this.attempt(async () => {
      const request = ++this.imageRequests;
      const uploaded = await this.engine.uploadImage({ name: file.name, bytes });
      // Shown from the bytes here where the browser can; TIFF, HEIF… come back from the engine as PNG.
      const picture: Picture = uploaded.mime
        ? {
            url: URL.createObjectURL(new Blob([bytes as BlobPart], { type: uploaded.mime })),
            width: uploaded.width,
            height: uploaded.height,
            owned: true,
          }
        : await this.fetchPicture(uploaded.source);
      if (request !== this.imageRequests) {
        if (picture.owned) URL.revokeObjectURL(picture.url);
        return;
      }
      await this.showImage(uploaded.source, file.name, picture, request);
    });
  }

  /** An image of a data set (by its path on the engine's machine), shown in the studio. */
  async openImagePath(path: string): Promise<void> {
    this.view = 'studio';
    await this.attempt(() => this.showImage({ kind: 'path', path }, path.split(/[\\/]/).pop() ?? path));
  }

  async pickSample(sample: Sample): Promise<void> {
    await this.attempt(() => this.showImage({ kind: 'sample', id: sample.id }, sample.file));
  }

  /** The stored runs behind what is shown: the CAM grid's run, the statistics and trust runs of the same model. */
  currentRuns(): RunId[] {
    const cam = this.cam.response?.run ?? null;
    const stats = this.stats.result?.run ?? null;
    const sameModel = this.model !== null && this.stats.modelId === this.model.id;
    const dataset = this.model !== null && this.dataset.modelId === this.model.id ? (this.dataset.result?.run ?? null) : null;
    const trust = this.model ? this.trust.runsOf(this.model.id) : [];
    return [cam, sameModel ? stats : null, dataset, ...trust].filter((id): id is RunId => id !== null);
  }

  async exportCurrentReport(format: ReportFormat): Promise<void> {
    const runs = this.currentRuns();
    if (runs.length === 0) {
      this.error = 'There is nothing to report yet: analyse an image or run the statistics first.';
      return;
    }
    await this.exportReport(runs, format);
  }

  /** Builds a report of stored runs and hands it to the browser (or the desktop app) to save. */
  async exportReport(runIds: RunId[], format: ReportFormat): Promise<void> {
    await this.attempt(async () => {
      const file = await this.engine.exportReport({ runIds, format });
      const url = URL.createObjectURL(new Blob([file.bytes as BlobPart], { type: file.mime }));
      const link = document.createElement('a');
      link.href = url;
      link.download = file.name;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    });
  }

  /** Shows a stored run as if just computed: its model, image, prediction and maps, or its statistics. */
  async openRun(id: RunId): Promise<void> {
    await this.attempt(async () => this.showRun(await this.engine.openRun({ id })));
  }

  /** Computes an interrupted or cancelled run again and shows it. */
  async resumeRun(id: RunId): Promise<void> {
    await this.attempt(async () =>
      this.showRun(await this.engine.resumeRun({ id, jobId: `resume-${id}-${Date.now().toString(36)}` })),
    );
    void this.history.refresh();
  }

  private async showRun(opened: OpenedRun): Promise<void> {
    const { summary } = opened;
    const request = ++this.imageRequests;
    if (!opened.model) throw new Error(`Run ${summary.id}'s model cannot be opened: ${opened.modelProblem ?? 'unknown reason'}`);
    if (opened.model.id !== this.model?.id) {
      this.modelOpens++;
      this.model = opened.model;
      void this.loadGraph(opened.model);
    }
    if (summary.kind === 'stats') {
      if (!opened.stats) throw new Error(`Run ${summary.id} has no stored result (${summary.status}): resume it or delete it.`);
      this.stats.showStored(opened.stats, opened.model.id);
      this.view = 'stats';
      return;
    }
    if (summary.kind === 'interpret') {
      if (!opened.interpret)
        throw new Error(`Run ${summary.id} has no stored result (${summary.status}): resume it or delete it.`);
      this.dataset.show(opened.interpret, opened.model.id);
      this.view = 'dataset';
      return;
    }
    if (summary.kind === 'trust') {
      if (!opened.trust) throw new Error(`Run ${summary.id} has no stored result (${summary.status}): resume it or delete it.`);
      this.trust.showStored(opened.trust, null, opened.model.id);
      this.view = 'trust';
      return;
    }
    const response = opened.cam;
    if (!response) throw new Error(`Run ${summary.id} has no stored result (${summary.status}): resume it or delete it.`);
    const stored = summary.params.image;
    const name = stored.kind === 'sample' ? (this.sampleFor(stored)?.file ?? stored.id) : (summary.inputs.first ?? 'image');
    let source = displayable(stored);
    let picture = source ? await this.fetchPicture(source).catch(() => null) : null;
    // An uploaded image's bytes are not kept: the image as the model saw it stands in for it (uploaded once,
    // so that a class or method change can ask again).
    if (!picture && response.modelView) {
      const png = await pngOf(response.modelView);
      const uploaded = await this.engine.uploadImage({ name, bytes: new Uint8Array(await png.arrayBuffer()) });
      source = uploaded.source;
      picture = { url: URL.createObjectURL(png), width: uploaded.width, height: uploaded.height, owned: true };
    }
    if (request !== this.imageRequests || !source || !picture) {
      if (picture?.owned) URL.revokeObjectURL(picture.url);
      if (request === this.imageRequests) throw new Error(`Run ${summary.id}'s image cannot be shown: it was not kept.`);
      return;
    }
    this.setImage(source, name, picture);
    const image = { modelId: opened.model.id, image: source };
    this.prediction = opened.prediction;
    this.shownRun = { id: summary.id, provider: summary.provider, durationMs: summary.durationMs };
    this.view = 'studio';
    const imageKey = stored.kind === 'sample' ? `sample:${stored.id}` : `run:${summary.id}`;
    // The run's layers stay the grid's rows while it is shown (a class change asks for the same ones).
    this.cam.setLayers(summary.params.layers.includes('stages') ? null : summary.params.layers);
    this.cam.showStored({ ...image, imageKey }, response, summary.params.classIndex, summary.params.counterfactual);
  }

  /**
   * Shows an image and analyses it. A sample's picture is its thumbnail and an upload's was made from the
   * bytes at hand, so only a file named by path is asked for: the CAM request goes out at once otherwise.
   */
  private async showImage(
    source: ImageSource,
    name: string,
    known: Picture | null = null,
    request = ++this.imageRequests,
  ): Promise<void> {
    const picture =
      known ?? (source.kind === 'sample' ? this.samplePictures.get(source.id) : undefined) ?? (await this.fetchPicture(source));
    if (request !== this.imageRequests) {
      // A later choice wins, whatever order the answers come in.
      if (picture.owned) URL.revokeObjectURL(picture.url);
      return;
    }
    this.setImage(source, name, picture);
    this.cam.setLayers(this.stages);
    this.cam.classChoice = 'top';
    this.prediction = null;
    this.shownRun = null;
    await this.predictShown();
  }

  private setImage(source: ImageSource, name: string, picture: Picture): void {
    if (this.image && this.ownsImageUrl) URL.revokeObjectURL(this.image.url);
    this.image = { source, name, url: picture.url, width: picture.width, height: picture.height };
    this.ownsImageUrl = picture.owned;
    this.imageSerial += 1;
  }

  /** An image as the engine hands it to a browser (converted where the browser cannot show its format). */
  private async fetchPicture(source: ImageSource): Promise<Picture> {
    const data = await this.engine.getImage({ source });
    const url = URL.createObjectURL(new Blob([data.bytes as BlobPart], { type: data.mime }));
    return { url, width: data.width, height: data.height, owned: true };
  }

  /**
   * The prediction and the maps of the shown image, from one CAM run: its answer carries the logits and the
   * top classes. Only where the maps cannot be computed at all is the prediction asked for alone.
   */
  private async predictShown(): Promise<void> {
    if (!this.model || !this.image) return;
    const { id } = this.model;
    const { source } = this.image;
    const serial = this.imageSerial;
    const current = (): boolean => serial === this.imageSerial && this.model?.id === id;
    const imageKey = source.kind === 'sample' ? `sample:${source.id}` : `image:${this.imageSerial}`;
    const answer = await this.cam.show({ modelId: id, image: source, imageKey });
    // Another image (or model) was chosen meanwhile: its own request shows it.
    if (!current()) return;
    if (answer) {
      const { logits, provider, inputShape, timings } = answer.result;
      this.prediction = { top: answer.top, logits, provider, inferenceMs: timings.hookedRunMs, inputShape };
      return;
    }
    // Superseded by a newer request (no error): that one shows its own answer.
    if (!this.cam.error) return;
    const prediction = await this.engine.predict({ modelId: id, image: source, topK: 5 });
    if (current()) this.prediction = prediction;
  }

  /** Loads the layer graph of `model` (its detected stages); failures show in the graph view, not as a studio error. */
  private async loadGraph(model: ModelSummary): Promise<void> {
    this.stages = null;
    this.cam.setLayers(null);
    this.graph = null;
    this.graphWarnings = [];
    this.graphError = null;
    this.selection = null;
    this.graphLoading = true;
    try {
      const { graph, warnings } = await this.engine.getGraph({ modelId: model.id });
      if (this.model?.id !== model.id) return;
      this.graph = graph;
      this.graphWarnings = warnings;
    } catch (error) {
      if (this.model?.id === model.id) this.graphError = errorMessage(error);
    } finally {
      if (this.model?.id === model.id) this.graphLoading = false;
    }
  }

  /** Progress events pushed by the engine for long jobs. */
  onProgress(event: JobProgress): void {
    this.cam.onProgress(event);
    this.stats.onProgress(event);
    this.trust.onProgress(event);
    this.dataset.onProgress(event);
  }

  /**
   * Sets the stages by module path or tensor name (null: back to the detected ones); the maps follow. The
   * choice lives here, not in the engine: the graph is asked for with it (which checks it), and every CAM,
   * statistics and data-set request names the layers it wants.
   */
  async setStages(layers: string[] | null): Promise<void> {
    const model = this.model;
    if (!model) return;
    const chosen = layers && layers.length > 0 ? layers : null;
    await this.attempt(async () => {
      const { graph, warnings } = await this.engine.getGraph({ modelId: model.id, stages: chosen });
      if (this.model?.id !== model.id) return;
      this.graph = graph;
      this.graphWarnings = warnings;
      this.stages = chosen;
      this.cam.setLayers(chosen);
      this.cam.forget();
      if (this.image && this.prediction) await this.predictShown();
    });
  }

  /** From the graph: show a stage's heatmaps in the studio. */
  openStageMaps(layer: string): void {
    this.focusedLayer = layer;
    this.view = 'studio';
  }

  /** A layer the graph should open up to and centre on, once it is shown. */
  pendingReveal = $state.raw<LayerTarget | null>(null);

  /** From the statistics: select the node producing `tensor` in the graph (revealed when the graph shows). */
  selectInGraph(tensor: string): boolean {
    const producer = this.graph?.tensors.find((t) => t.name === tensor)?.producer;
    if (producer === null || producer === undefined) return false;
    const target: LayerTarget = { kind: 'node', index: producer };
    this.selection = target;
    this.pendingReveal = target;
    return true;
  }

  /** …and go there. */
  showInGraph(tensor: string): void {
    if (this.selectInGraph(tensor)) this.view = 'graph';
  }

  selectLayer(target: LayerTarget | null): void {
    this.selection = target;
  }

  /** Statistics of a weight tensor of the open model (null for non-float ones); cached per model. */
  weightStats(tensor: TensorName): Promise<WeightStats | null> {
    const model = this.model;
    if (!model) return Promise.resolve(null);
    // Asked once per model and tensor; a failure is shown where the statistics would be, and asked again next time.
    return this.weightStatsCache.get(`${model.id}\u0000${tensor}`, () =>
      this.engine.getWeightStats({ modelId: model.id, tensor }),
    );
  }

  /** Activation statistics over the demo's samples, or over images picked by the user (images or .npy files). */
  async runStats(files: File[] | null): Promise<void> {
    const model = this.model;
    if (!model) return;
    const images: ImageSource[] = files
      ? await Promise.all(
          files.map(async (f) => ({ kind: 'bytes' as const, name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })),
        )
      : this.samples.map((s) => ({ kind: 'sample' as const, id: s.id }));
    await this.stats.run(model.id, images, this.stages);
  }

  /** Whether the samples (and their ground truth) belong to the open model; elsewhere they are only examples. */
  get samplesFitModel(): boolean {
    return this.model !== null && this.model.id === this.samplesModel;
  }

  sampleFor(source: ImageSource | StoredImageSource | undefined): Sample | undefined {
    return source?.kind === 'sample' ? this.samples.find((s) => s.id === source.id) : undefined;
  }
}

/** A stored input the engine can read again (uploaded bytes were not kept). */
function displayable(source: StoredImageSource): ImageSource | null {
  return source.kind === 'bytes' ? null : source;
}

/** Raw RGB pixels as a PNG file (a run's model view standing in for an upload that was not kept). */
async function pngOf(view: RgbImage): Promise<Blob> {
  const rgba = new Uint8ClampedArray(view.width * view.height * 4);
  for (let i = 0, j = 0; i < view.rgb.length; i += 3, j += 4) {
    rgba[j] = view.rgb[i] as number;
    rgba[j + 1] = view.rgb[i + 1] as number;
    rgba[j + 2] = view.rgb[i + 2] as number;
    rgba[j + 3] = 255;
  }
  const canvas = new OffscreenCanvas(view.width, view.height);
  canvas.getContext('2d')?.putImageData(new ImageData(rgba, view.width, view.height), 0, 0);
  return canvas.convertToBlob({ type: 'image/png' });
}
