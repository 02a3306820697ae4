/**
 * The security settings both UI hosts apply, kept free of Electron imports so tests can assert them.
 * 'self' in connect-src also covers ws: to the same host (CSP level 3), which browser mode needs.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' blob: data:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/** BrowserWindow webPreferences, per Electron's security checklist. */
export const SECURE_WEB_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  webviewTag: false,
  navigateOnDragDrop: false,
  spellcheck: false,
} as const;

/** The IPC channel the preload exposes: binary API frames, nothing else. */
export const IPC_CHANNEL = 'layerlens:api';
/** Paths of files the user dropped on the window, read by the preload from the File objects themselves. */
export const GRANT_CHANNEL = 'layerlens:grant';
/** The page asks the main process for a data-set folder: the user picks it in a native dialog (invoke/handle). */
export const DATASET_DIALOG_CHANNEL = 'layerlens:choose-dataset';
