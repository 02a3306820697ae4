/** Long work (CAM perturbation runs, statistics) as cancellable jobs under the caller's id. */
import { EngineError } from '../errors';

export class Jobs {
  private readonly running = new Map<string, AbortController>();

  /** Runs `work` under `jobId`; a second job with the same id is refused while the first runs. */
  async run<T>(jobId: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.running.has(jobId)) throw new EngineError('invalid-request', `Job ${jobId} is already running.`);
    const controller = new AbortController();
    this.running.set(jobId, controller);
    try {
      return await work(controller.signal);
    } finally {
      this.running.delete(jobId);
    }
  }

  /** True when a job of that id was running (it stops at its next check). */
  cancel(jobId: string): boolean {
    const job = this.running.get(jobId);
    job?.abort();
    return job !== undefined;
  }
}
