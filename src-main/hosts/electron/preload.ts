/**
 * The preload exposes exactly one thing to the page: a pipe of binary API frames. No Node, no ipcRenderer,
 * no channel names chosen by the page.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC_CHANNEL } from '../security-policy';

contextBridge.exposeInMainWorld('layerlensPipe', {
  send(frame: Uint8Array): void {
    if (!(frame instanceof Uint8Array)) throw new TypeError('frames are Uint8Array');
    ipcRenderer.send(IPC_CHANNEL, frame);
  },
  subscribe(onFrame: (frame: Uint8Array) => void): () => void {
    const listener = (_event: IpcRendererEvent, frame: Uint8Array): void => onFrame(frame);
    ipcRenderer.on(IPC_CHANNEL, listener);
    return () => ipcRenderer.off(IPC_CHANNEL, listener);
  },
});
