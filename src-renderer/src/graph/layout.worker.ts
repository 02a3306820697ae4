/**
 * The layout worker: answers LayoutRequest messages with ELK layouts, off the UI thread. Created by
 * layout-client.ts as a module worker (Vite bundles it and ELK into one file).
 */
import ELK from 'elkjs/lib/elk.bundled.js';
import { fromElkGraph, LAYOUT_OPTIONS, toElkGraph } from './elk-graph';
import type { LayoutRequest, LayoutResponse } from './layout-messages';

interface WorkerScope {
  onmessage: ((event: MessageEvent<LayoutRequest>) => void) | null;
  postMessage(message: LayoutResponse): void;
}

const scope = self as unknown as WorkerScope;
// Without a workerUrl, ELK runs in this thread (we already are the worker).
const elk = new ELK();

async function answer(request: LayoutRequest): Promise<LayoutResponse> {
  const started = performance.now();
  try {
    const laidOut = await elk.layout(toElkGraph(request.input), { layoutOptions: LAYOUT_OPTIONS });
    return { type: 'layout-done', id: request.id, result: fromElkGraph(laidOut, performance.now() - started) };
  } catch (error) {
    return { type: 'layout-failed', id: request.id, message: error instanceof Error ? error.message : String(error) };
  }
}

// elk.bundled.js installs its own self.onmessage when it finds itself in a worker: assigning (rather than
// adding a listener) replaces it, so only our typed protocol is spoken here.
scope.onmessage = (event) => {
  if (event.data?.type !== 'layout') return;
  void answer(event.data).then((response) => scope.postMessage(response));
};
