/**
 * Connects the renderer to the engine over whichever host it runs in: the Electron preload's pipe when
 * present, otherwise a WebSocket back to `layerlens serve`. Everything above this file sees only EngineApi.
 */
import type { EngineApi, RendererApi } from '../../../src-shared/api';
import { connectEngine, type FramePipe } from '../../../src-shared/rpc-channel';

declare global {
  interface Window {
    layerlensPipe?: FramePipe;
  }
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
