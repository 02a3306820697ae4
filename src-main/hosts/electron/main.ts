/**
 * The Electron host: one window running the shared renderer, the engine behind a single IPC channel that
 * carries the same validated binary frames as browser mode's WebSocket. This is the only place (with the
 * preload) that imports Electron.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { app, BrowserWindow, ipcMain, session, shell, type IpcMainEvent } from 'electron';
import type { AppCommand } from '../../../src-shared/api';
import { serveEngine, type FramePipe } from '../../../src-shared/rpc-channel';
import { DB_FILE_NAME } from '../../engine/runs/location';
import { Engine } from '../../engine/engine';
import { CONTENT_SECURITY_POLICY, IPC_CHANNEL, SECURE_WEB_PREFERENCES } from '../security-policy';
import { installCrashReporting, log } from './logging';
import { installMenu } from './menu';
import { rememberBounds, restoredBounds } from './window-state';

const here = path.dirname(fileURLToPath(import.meta.url));
const appRoot = app.isPackaged ? process.resourcesPath : path.resolve(here, '..', '..');
const rendererIndex = path.resolve(here, '..', 'renderer', 'index.html');
const rendererUrl = pathToFileURL(rendererIndex).href;

function modelFromArgv(argv: string[]): string | null {
  return argv.slice(app.isPackaged ? 1 : 2).find((arg) => arg.toLowerCase().endsWith('.onnx')) ?? null;
}

/** The open window and its RPC endpoint (one window: the app is single-instance). */
let current: { win: BrowserWindow; send(command: AppCommand): void } | null = null;

async function createWindow(engine: Engine): Promise<void> {
  const bounds = restoredBounds();
  const win = new BrowserWindow({
    width: bounds.width ?? 1400,
    height: bounds.height ?? 900,
    ...(bounds.x !== undefined && bounds.y !== undefined ? { x: bounds.x, y: bounds.y } : {}),
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
  const rpc = serveEngine(engine, pipe, (reason) => log('warn', `rejected IPC frame: ${reason}`));
  current = { win, send: (command) => void rpc.command.asEvent(command) };
  rememberBounds(win);
  if (bounds.maximized) win.maximize();
  win.on('closed', () => {
    ipcMain.off(IPC_CHANNEL, onFrame);
    rpc.$close();
    if (current?.win === win) current = null;
  });
  win.webContents.on('render-process-gone', (_event, details) => log('error', `renderer gone: ${details.reason}`));
  win.once('ready-to-show', () => win.show());
  await win.loadFile(rendererIndex);
}

app.enableSandbox();
installCrashReporting();

// One instance: a second launch (e.g. double-clicking an .onnx file) opens its model in the first window.
const primary = app.requestSingleInstanceLock();
if (!primary) app.quit();
app.on('second-instance', (_event, argv) => {
  if (!current) return;
  if (current.win.isMinimized()) current.win.restore();
  current.win.focus();
  const model = argv.find((arg) => arg.toLowerCase().endsWith('.onnx'));
  if (model) current.send({ kind: 'open-model', path: model });
});
// macOS delivers files opened from the Finder this way.
app.on('open-file', (event, file) => {
  event.preventDefault();
  if (file.toLowerCase().endsWith('.onnx')) current?.send({ kind: 'open-model', path: file });
});

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
  if (!primary) return;
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  const engine = await Engine.create({
    demoSamples: path.join(appRoot, 'resources', 'demo', 'samples.json'),
    initialModel: modelFromArgv(process.argv),
    // The same file name the CLI uses, in the app's own data folder.
    database: process.env.LAYERLENS_DB ?? path.join(app.getPath('userData'), DB_FILE_NAME),
  });
  installMenu(
    () => current?.win ?? null,
    (command) => current?.send(command),
    () => engine.recentModels(),
  );
  log('info', `started ${app.getVersion()}`);
  await createWindow(engine);
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void createWindow(engine);
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
