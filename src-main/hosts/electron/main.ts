/**
 * The Electron host: one window running the shared renderer, the engine behind a single IPC channel that
 * carries the same validated binary frames as browser mode's WebSocket. This is the only place (with the
 * preload) that imports Electron.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { app, BrowserWindow, ipcMain, session, shell, type IpcMainEvent } from 'electron';
import { serveEngine, type FramePipe } from '../../../src-shared/rpc-channel';
import { Engine } from '../../engine/engine';
import { CONTENT_SECURITY_POLICY, IPC_CHANNEL, SECURE_WEB_PREFERENCES } from '../security-policy';

const here = path.dirname(fileURLToPath(import.meta.url));
const appRoot = app.isPackaged ? process.resourcesPath : path.resolve(here, '..', '..');
const rendererIndex = path.resolve(here, '..', 'renderer', 'index.html');
const rendererUrl = pathToFileURL(rendererIndex).href;

function modelFromArgv(argv: string[]): string | null {
  return argv.slice(app.isPackaged ? 1 : 2).find((arg) => arg.toLowerCase().endsWith('.onnx')) ?? null;
}

async function createWindow(engine: Engine): Promise<void> {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'LayerLens',
    icon: path.join(appRoot, 'resources', 'icons', 'icon.png'),
    show: false,
    webPreferences: { ...SECURE_WEB_PREFERENCES, preload: path.resolve(here, '..', 'preload', 'preload.cjs') },
  });
  const listeners = new Set<(frame: Uint8Array) => void>();
  const onFrame = (event: IpcMainEvent, frame: unknown): void => {
    // Only our own page, in our own window, may talk to the engine.
    if (event.sender !== win.webContents || event.senderFrame?.url !== rendererUrl) return;
    if (!(frame instanceof Uint8Array)) return;
    for (const listener of listeners) listener(frame);
  };
  ipcMain.on(IPC_CHANNEL, onFrame);
  const pipe: FramePipe = {
    send: (frame) => {
      if (!win.isDestroyed()) win.webContents.send(IPC_CHANNEL, frame);
    },
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const rpc = serveEngine(engine, pipe, (reason) => console.warn(`[layerlens] rejected IPC frame: ${reason}`));
  win.on('closed', () => {
    ipcMain.off(IPC_CHANNEL, onFrame);
    rpc.$close();
  });
  win.once('ready-to-show', () => win.show());
  await win.loadFile(rendererIndex);
}

app.enableSandbox();

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    // Links to documentation open in the user's browser, never inside the app.
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

void app.whenReady().then(async () => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  const engine = await Engine.create({
    demoSamples: path.join(appRoot, 'resources', 'demo', 'samples.json'),
    initialModel: modelFromArgv(process.argv),
  });
  await createWindow(engine);
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void createWindow(engine);
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
