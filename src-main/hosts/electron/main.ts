/**
 * The Electron host: one window running the shared renderer, and the engine in a utility process (so long
 * work never blocks this process's event loop). The window's single IPC channel carries the same binary
 * frames as browser mode's WebSocket; this process only relays them (the engine process validates every
 * one). Only the files of this folder (src-main/hosts/electron/) import Electron.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  session,
  shell,
  utilityProcess,
  type IpcMainEvent,
  type IpcMainInvokeEvent,
} from 'electron';
import type { AppCommand } from '../../../src-shared/api';
import { DB_FILE_NAME } from '../../engine/runs/location';
import { EngineClient, type ChildLink } from '../engine-process/engine-client';
import type { FromEngine } from '../engine-process/protocol';
import {
  CONTENT_SECURITY_POLICY,
  DATASET_DIALOG_CHANNEL,
  GRANT_CHANNEL,
  IPC_CHANNEL,
  SECURE_WEB_PREFERENCES,
} from '../security-policy';
import { installCrashReporting, log } from './logging';
import { installMenu } from './menu';
import { printHtmlToPdf } from './print-pdf';
import { rememberBounds, restoredBounds } from './window-state';

const here = path.dirname(fileURLToPath(import.meta.url));
const appRoot = app.isPackaged ? process.resourcesPath : path.resolve(here, '..', '..');
const rendererIndex = path.resolve(here, '..', 'renderer', 'index.html');
const rendererUrl = pathToFileURL(rendererIndex).href;

function modelFromArgv(argv: string[]): string | null {
  return argv.slice(app.isPackaged ? 1 : 2).find((arg) => arg.toLowerCase().endsWith('.onnx')) ?? null;
}

/** The open window (one: the app is single-instance). */
let current: BrowserWindow | null = null;

/** The engine in Electron's utility process; its messages are structured clones (Uint8Array frames stay binary). */
function spawnEngine(): ChildLink {
  const options = {
    demoSamples: path.join(appRoot, 'resources', 'demo', 'samples.json'),
    initialModel: modelFromArgv(process.argv),
    // The same file name the CLI uses, in the app's own data folder.
    database: process.env.LAYERLENS_DB ?? path.join(app.getPath('userData'), DB_FILE_NAME),
    resources: [path.join(appRoot, 'resources')],
  };
  const child = utilityProcess.fork(path.resolve(here, 'engine.js'), [JSON.stringify(options)], {
    serviceName: 'LayerLens engine',
    stdio: 'pipe',
  });
  child.stderr?.on('data', (chunk: Buffer) => log('info', chunk.toString().trimEnd()));
  return {
    post: (message) => child.postMessage(message),
    subscribe: (listener) => {
      const onMessage = (message: unknown): void => listener(message as FromEngine);
      child.on('message', onMessage);
      return () => child.off('message', onMessage);
    },
    onExit: (listener) => child.once('exit', (code) => listener(code)),
    kill: () => void child.kill(),
  };
}

const engine = new EngineClient(
  spawnEngine,
  (message) => {
    log('error', message);
    // Calls in flight died with the engine: start the page afresh on the new one.
    if (current && !current.isDestroyed()) {
      void dialog.showMessageBox(current, { type: 'warning', message, detail: 'Finished runs are kept in the history.' });
      current.webContents.reload();
    }
  },
  printHtmlToPdf,
);

async function createWindow(): Promise<void> {
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
  // Only our own page, in our own window, may talk to the engine.
  const ours = (event: IpcMainEvent | IpcMainInvokeEvent): boolean =>
    event.sender === win.webContents && event.senderFrame?.url === rendererUrl;
  const onFrame = (event: IpcMainEvent, frame: unknown): void => {
    if (ours(event) && frame instanceof Uint8Array) engine.sendFrame(frame);
  };
  // Paths of files dropped on the window, read by the preload from real File objects (a page cannot forge one).
  const onGrant = (event: IpcMainEvent, paths: unknown): void => {
    if (!ours(event) || !Array.isArray(paths)) return;
    engine.grant(paths.filter((p): p is string => typeof p === 'string' && path.isAbsolute(p)));
  };
  // The Data set tab's folder: the user picks it in a native dialog, and only then may the engine read it.
  const onChooseDataset = async (event: IpcMainInvokeEvent): Promise<string | null> => {
    if (!ours(event)) return null;
    const result = await dialog.showOpenDialog(win, {
      title: 'Choose a labelled data set (one sub-folder of images per class)',
      properties: ['openDirectory'],
    });
    const folder = result.filePaths[0];
    if (result.canceled || !folder) return null;
    engine.grant([folder]);
    return folder;
  };
  ipcMain.on(IPC_CHANNEL, onFrame);
  ipcMain.on(GRANT_CHANNEL, onGrant);
  ipcMain.handle(DATASET_DIALOG_CHANNEL, onChooseDataset);
  const stopRelay = engine.onFrame((frame) => {
    if (!win.isDestroyed()) win.webContents.send(IPC_CHANNEL, frame);
  });
  current = win;
  rememberBounds(win);
  if (bounds.maximized) win.maximize();
  win.on('closed', () => {
    ipcMain.off(IPC_CHANNEL, onFrame);
    ipcMain.off(GRANT_CHANNEL, onGrant);
    ipcMain.removeHandler(DATASET_DIALOG_CHANNEL);
    stopRelay();
    if (current === win) current = null;
  });
  win.webContents.on('render-process-gone', (_event, details) => log('error', `renderer gone: ${details.reason}`));
  win.once('ready-to-show', () => win.show());
  await win.loadFile(rendererIndex);
}

const send = (command: AppCommand): void => engine.command(command);

app.enableSandbox();
installCrashReporting();

// One instance: a second launch (e.g. double-clicking an .onnx file) opens its model in the first window.
const primary = app.requestSingleInstanceLock();
if (!primary) app.quit();
app.on('second-instance', (_event, argv) => {
  if (!current) return;
  if (current.isMinimized()) current.restore();
  current.focus();
  const model = argv.find((arg) => arg.toLowerCase().endsWith('.onnx'));
  if (model) send({ kind: 'open-model', path: model });
});
// macOS delivers files opened from the Finder this way.
app.on('open-file', (event, file) => {
  event.preventDefault();
  if (file.toLowerCase().endsWith('.onnx')) send({ kind: 'open-model', path: file });
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
  try {
    await engine.start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log('error', `engine failed to start: ${message}`);
    dialog.showErrorBox('LayerLens cannot start its engine', message);
    app.quit();
    return;
  }
  installMenu(
    () => current,
    send,
    () => engine.recentModels(),
  );
  log('info', `started ${app.getVersion()}`);
  await createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
app.on('will-quit', () => engine.stop());
