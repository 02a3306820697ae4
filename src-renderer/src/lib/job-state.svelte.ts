/**
 * What every long analysis tab (statistics, data set) keeps about its one running job: whether it runs, its
 * progress, its error, and how to cancel it. The engine call and what a progress event means are the tab's.
 */
import type { EngineApi, JobProgress } from '../../../src-shared/api';

let jobCounter = 0;

export class JobState<P> {
  progress = $state.raw<P | null>(null);
  running = $state(false);
  error = $state<string | null>(null);
  private job: string | null = null;

  /** `method`: the progress events that belong to this tab; `toProgress` turns one into what the panel shows. */
  constructor(
    protected readonly engine: EngineApi,
    private readonly method: JobProgress['method'],
    private readonly toProgress: (event: JobProgress) => P,
  ) {}

  /**
   * Runs `call` as this tab's job (one at a time): null when one is already running or it failed (the error
   * is then shown). A cancelled job answers with its partial result, like a finished one.
   */
  protected async runJob<T>(initial: P, call: (jobId: string) => Promise<T>): Promise<T | null> {
    if (this.running) return null;
    const jobId = `${this.method}-${Date.now().toString(36)}-${(jobCounter++).toString(36)}`;
    this.job = jobId;
    this.running = true;
    this.error = null;
    this.progress = initial;
    try {
      return await call(jobId);
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
      return null;
    } finally {
      this.job = null;
      this.running = false;
      this.progress = null;
    }
  }

  onProgress(event: JobProgress): void {
    if (event.method === this.method && event.jobId === this.job) this.progress = this.toProgress(event);
  }

  async cancel(): Promise<void> {
    if (this.job) await this.engine.cancelJob({ jobId: this.job });
  }
}
