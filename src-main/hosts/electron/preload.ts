/**
 * The preload exposes exactly two things to the page: a pipe of binary API frames, and file access the user
 * grants (files dropped, a data-set folder picked in a native dialog) as paths the engine may read. No Node,
 * no ipcRenderer, no channel names chosen by the page.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { DATASET_DIALOG_CHANNEL, GRANT_CHANNEL, IPC_CHANNEL } from '../security-policy';

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

contextBridge.exposeInMainWorld('layerlensFiles', {
  /**
   * Paths of dropped files ('' for a file with none, e.g. one made by script), granted to the engine. Only a
   * File from a real drop or file input has a path, so the page cannot name a file the user did not give it.
   */
  grantDropped(files: File[]): string[] {
    const paths = files.map((f) => (f instanceof File ? webUtils.getPathForFile(f) : ''));
    const real = paths.filter((p) => p.length > 0);
    if (real.length > 0) ipcRenderer.send(GRANT_CHANNEL, real);
    return paths;
  },
  /** A folder the user picks in the native dialog (granted to the engine), or null when they cancel. */
  async chooseDatasetFolder(): Promise<string | null> {
    const chosen: unknown = await ipcRenderer.invoke(DATASET_DIALOG_CHANNEL);
    return typeof chosen === 'string' ? chosen : null;
  },
});
