/**
 * The Trust tab: faithfulness metrics of the maps the studio shows (per pane: deletion / insertion AUC,
 * average drop, beside a random map), and the sanity check of the model's methods. Both are engine jobs
 * with progress and cancel, kept in the run history; the answer for a subject is remembered here too.
 */
import type { EngineApi, ImageSource, JobProgress, ModelId } from '../../../src-shared/api';
import type { RunId } from '../../../src-shared/runs';
import type { CamMethod } from '../../../src-shared/cam';
import { DEFAULT_TRUST_STEPS, type Box, type TrustBaseline, type TrustResponse } from '../../../src-shared/trust';

export interface TrustSubject {
  modelId: ModelId;
  image: ImageSource;
  /** Identifies the image (and class) the answer belongs to. */
  key: string;
  box: Box | null;
  classIndex: number;
  layers: string[];
  methods: CamMethod[];
}

let jobCounter = 0;
const newJobId = (): string => `trust-${Date.now().toString(36)}-${(jobCounter++).toString(36)}`;

export class TrustState {
  steps = $state(DEFAULT_TRUST_STEPS);
  baselineKind = $state<TrustBaseline['kind']>('blur');
  sigma = $state(5);
  /** Faithfulness of the shown image's maps. */
  response = $state.raw<TrustResponse | null>(null);
  /** The subject key `response` belongs to. */
  shownKey = $state<string | null>(null);
  /** The sanity check (per model), and over how many images it ran. */
  sanity = $state.raw<TrustResponse | null>(null);
  /** Panes whose curves are open, by "layer|method". */
  openCurves = $state<Record<string, boolean>>({});
  sanityMode = $state<'cascading' | 'independent'>('cascading');
  /** The models `response` and `sanity` are of (a report exports only the shown model's runs). */
  responseModel = $state<ModelId | null>(null);
  sanityModel = $state<ModelId | null>(null);
  progress = $state<JobProgress | null>(null);
  pending = $state<'faithfulness' | 'sanity' | null>(null);
  error = $state<string | null>(null);
  private job: string | null = null;

  constructor(private readonly engine: EngineApi) {}

  baseline(): TrustBaseline {
    return this.baselineKind === 'zero' ? { kind: 'zero' } : { kind: 'blur', sigma: this.sigma };
  }

  onProgress(event: JobProgress): void {
    if (event.method === 'trust' && event.jobId === this.job) this.progress = event;
  }

  toggleCurves(layer: string, method: string): void {
    const key = `${layer}|${method}`;
    this.openCurves = { ...this.openCurves, [key]: !this.openCurves[key] };
  }

  async evaluate(subject: TrustSubject): Promise<void> {
    const response = await this.run('faithfulness', {
      modelId: subject.modelId,
      images: [subject.image],
      boxes: [subject.box],
      layers: subject.layers,
      methods: subject.methods,
      classIndex: subject.classIndex,
      faithfulness: true,
      sanity: false,
    });
    if (response) {
      this.response = response;
      this.responseModel = subject.modelId;
      this.shownKey = subject.key;
    }
  }

  /** The sanity check of `methods` over `images` (the shown image, or the model's samples). */
  async checkSanity(modelId: ModelId, images: ImageSource[], layers: string[], methods: CamMethod[]): Promise<void> {
    const response = await this.run('sanity', {
      modelId,
      images,
      boxes: null,
      layers,
      methods,
      classIndex: 'top',
      faithfulness: false,
      sanity: true,
    });
    if (response) {
      this.sanity = response;
      this.sanityModel = modelId;
    }
  }

  /** Stored trust runs of `model` behind what the tab shows. */
  runsOf(model: ModelId): RunId[] {
    return [
      this.responseModel === model ? (this.response?.run ?? null) : null,
      this.sanityModel === model ? (this.sanity?.run ?? null) : null,
    ].filter((id): id is RunId => id !== null);
  }

  /** A stored trust run reopened from the history. */
  showStored(response: TrustResponse, key: string | null, modelId: ModelId): void {
    if (response.result.sanity) {
      this.sanity = response;
      this.sanityModel = modelId;
    }
    if (response.result.images.length > 0) {
      this.response = response;
      this.responseModel = modelId;
      this.shownKey = key;
    }
  }

  async cancel(): Promise<void> {
    if (this.job) await this.engine.cancelJob({ jobId: this.job });
  }

  private async run(
    kind: 'faithfulness' | 'sanity',
    req: Omit<Parameters<EngineApi['evaluateTrust']>[0], 'settings' | 'jobId'>,
  ): Promise<TrustResponse | null> {
    const jobId = newJobId();
    this.job = jobId;
    this.pending = kind;
    this.progress = null;
    this.error = null;
    try {
      return await this.engine.evaluateTrust({
        ...req,
        settings: { steps: this.steps, baseline: this.baseline(), seed: 0 },
        jobId,
      });
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
      return null;
    } finally {
      if (this.job === jobId) {
        this.job = null;
        this.pending = null;
        this.progress = null;
      }
    }
  }
}
