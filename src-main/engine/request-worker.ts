/**
 * A worker thread (run from source, `eval`) that answers requests by id. The engine's helper threads (the
 * statistics scan, the sanity check's comparisons) share it: it keeps the process alive only while a reply
 * is awaited (a CLI run has nothing else pending), and an error or exit rejects every pending request and
 * marks it broken, so that its user does the work on its own thread from then on.
 *
 * The worker's side posts `{ id, result }` or `{ id, error }` for each `{ id, ...message }` it receives.
 */
import { Worker } from 'node:worker_threads';

type Reply<T> = { id: number; result: T } | { id: number; error: string };

export class RequestWorker<T> {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(result: T): void; reject(error: Error): void }>();
  private nextId = 0;
  broken = false;

  /** `what` names the worker in the error a caller sees when it exits ("the scan worker"). */
  constructor(source: string, what: string, workerData?: unknown) {
    this.worker = new Worker(source, { eval: true, ...(workerData === undefined ? {} : { workerData }) });
    this.worker.unref();
    this.worker.on('message', (reply: Reply<T>) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.settle(reply.id);
      if ('error' in reply) waiting.reject(new Error(reply.error));
      else waiting.resolve(reply.result);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', () => this.fail(new Error(`${what} exited`)));
  }

  /** Sends `message`, moving the `transfer` buffers (copied instead where one cannot be moved). */
  request(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> {
    const id = this.nextId++;
    const done = new Promise<T>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    if (this.pending.size === 1) this.worker.ref();
    try {
      this.worker.postMessage({ ...message, id }, transfer);
    } catch {
      this.worker.postMessage({ ...message, id });
    }
    return done;
  }

  private settle(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }

  private fail(error: Error): void {
    this.broken = true;
    for (const [id, waiting] of [...this.pending]) {
      this.settle(id);
      waiting.reject(error);
    }
  }
}
