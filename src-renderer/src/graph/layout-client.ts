/** The UI side of the layout worker: one worker for the app, one promise per request. */
import type { LayoutInput, LayoutRequest, LayoutResponse, LayoutResult } from './layout-messages';

interface Pending {
  resolve(result: LayoutResult): void;
  reject(error: Error): void;
}

export class LayoutClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./layout.worker.ts', import.meta.url), { type: 'module', name: 'layerlens-layout' });
    worker.onmessage = (event: MessageEvent<LayoutResponse>) => {
      const response = event.data;
      const pending = this.pending.get(response.id);
      if (!pending) return;
      this.pending.delete(response.id);
      if (response.type === 'layout-done') pending.resolve(response.result);
      else pending.reject(new Error(`The graph layout failed: ${response.message}`));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.fail(new Error(`The graph layout worker stopped: ${event.message || 'it could not be loaded'}`));
    };
    this.worker = worker;
    return worker;
  }

  private fail(error: Error): void {
    this.worker?.terminate();
    this.worker = null;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  layout(input: LayoutInput): Promise<LayoutResult> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<LayoutResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: LayoutRequest = { type: 'layout', id, input };
      worker.postMessage(request);
    });
  }

  dispose(): void {
    this.fail(new Error('The graph layout was cancelled.'));
  }
}

let shared: LayoutClient | null = null;

/** The app's layout client, started on first use. */
export function layoutClient(): LayoutClient {
  shared ??= new LayoutClient();
  return shared;
}
