/**
 * The studio's state and the actions that change it. Components read this and call its methods; only this
 * file talks to the engine.
 */
import type { EngineApi, ImageSource, ModelSummary, Prediction, Sample } from '../../../src-shared/api';
import type { HostKind } from './transport';

export interface ShownImage {
  source: ImageSource;
  name: string;
  url: string;
  width: number;
  height: number;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class Studio {
  version = $state('');
  model = $state<ModelSummary | null>(null);
  samples = $state<Sample[]>([]);
  image = $state<ShownImage | null>(null);
  prediction = $state<Prediction | null>(null);
  busy = $state(false);
  error = $state<string | null>(null);
  /** Sample thumbnails, by sample id. */
  thumbnails = $state<Record<string, string>>({});

  constructor(
    private readonly engine: EngineApi,
    readonly host: HostKind,
  ) {}

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

  async start(): Promise<void> {
    await this.attempt(async () => {
      const state = await this.engine.getStartupState();
      this.version = state.version;
      this.model = state.model;
      this.samples = state.samples;
      await Promise.all(state.samples.map(async (s) => this.loadThumbnail(s)));
      const first = state.samples[0];
      if (first && state.model) await this.showImage({ kind: 'sample', id: first.id }, first.file);
    });
  }

  private async loadThumbnail(sample: Sample): Promise<void> {
    const image = await this.engine.getImage({ source: { kind: 'sample', id: sample.id } });
    this.thumbnails[sample.id] = URL.createObjectURL(new Blob([image.bytes as BlobPart], { type: image.mime }));
  }

  async openModelFile(file: File): Promise<void> {
    await this.attempt(async () => {
      const bytes = new Uint8Array(await file.arrayBuffer());
      this.model = await this.engine.openModelBytes({ name: file.name, bytes });
      this.prediction = null;
      if (this.image) await this.predictShown();
    });
  }

  async openImageFile(file: File): Promise<void> {
    const bytes = new Uint8Array(await file.arrayBuffer());
    await this.attempt(() => this.showImage({ kind: 'bytes', name: file.name, bytes }, file.name));
  }

  async pickSample(sample: Sample): Promise<void> {
    await this.attempt(() => this.showImage({ kind: 'sample', id: sample.id }, sample.file));
  }

  private async showImage(source: ImageSource, name: string): Promise<void> {
    const data = await this.engine.getImage({ source });
    if (this.image) URL.revokeObjectURL(this.image.url);
    const url = URL.createObjectURL(new Blob([data.bytes as BlobPart], { type: data.mime }));
    this.image = { source, name, url, width: data.width, height: data.height };
    this.prediction = null;
    await this.predictShown();
  }

  private async predictShown(): Promise<void> {
    if (!this.model || !this.image) return;
    this.prediction = await this.engine.predict({ modelId: this.model.id, image: this.image.source, topK: 5 });
  }

  sampleFor(source: ImageSource | undefined): Sample | undefined {
    return source?.kind === 'sample' ? this.samples.find((s) => s.id === source.id) : undefined;
  }
}
