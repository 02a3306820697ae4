/**
 * Connects the renderer to the engine over whichever host it runs in: the Electron preload's pipe when
 * present, otherwise a WebSocket back to `layerlens serve`. Everything above this file sees only EngineApi.
 */
import type { EngineApi, RendererApi } from '../../../src-shared/api';
import { connectEngine, type FramePipe } from '../../../src-shared/rpc-channel';

declare global {
  interface Window {
    layerlensPipe?: FramePipe;
    /** Desktop app only: dropped files' paths and a data-set folder picked in a dialog, which the engine may then read. */
    layerlensFiles?: { grantDropped(files: File[]): string[]; chooseDatasetFolder?(): Promise<string | null> };
  }
}

/**
 * Paths of dropped files where the host has them (the desktop app: the engine then reads the files itself,
 * and they can appear in the history by path); null in the browser, where files are sent as bytes.
 */
export function droppedPaths(files: File[]): (string | null)[] | null {
  const paths = window.layerlensFiles?.grantDropped(files);
  return paths ? paths.map((p) => p || null) : null;
}

/**
 * The host's folder dialog for a data set (the desktop app), or null where there is none (a browser: the
 * path is typed, the engine's machine may not be the browser's).
 */
export function datasetFolderDialog(): (() => Promise<string | null>) | null {
  const files = window.layerlensFiles;
  return files?.chooseDatasetFolder ? () => files.chooseDatasetFolder?.() ?? Promise.resolve(null) : null;
}

function webSocketPipe(url: string): FramePipe {
  const socket = new WebSocket(url);
  socket.binaryType = 'arraybuffer';
  const pending: Uint8Array[] = [];
  const listeners = new Set<(frame: ArrayBuffer) => void>();
  socket.addEventListener('open', () => {
    for (const frame of pending.splice(0)) socket.send(frame);
  });
  socket.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (!(event.data instanceof ArrayBuffer)) return;
    for (const listener of listeners) listener(event.data);
  });
  return {
    send(frame) {
      if (socket.readyState === WebSocket.OPEN) socket.send(frame);
      else if (socket.readyState === WebSocket.CONNECTING) pending.push(frame);
      else throw new Error('The connection to the LayerLens engine is closed: restart "layerlens serve" and reload.');
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export type HostKind = 'electron' | 'browser';

export function connect(renderer: RendererApi): { engine: EngineApi; host: HostKind } {
  if (window.layerlensPipe) return { engine: connectEngine(window.layerlensPipe, renderer), host: 'electron' };
  const url = new URL('/api', window.location.href);
  url.protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = new URLSearchParams(window.location.search).get('token');
  if (token) url.searchParams.set('token', token);
  url.hash = '';
  return { engine: connectEngine(webSocketPipe(url.href), renderer), host: 'browser' };
}
