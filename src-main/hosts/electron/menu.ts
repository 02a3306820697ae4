/**
 * The native menu. Menu actions that touch files go through dialogs the user answers here, in the main
 * process; the studio only receives the chosen paths as commands.
 */
import { app, dialog, Menu, shell, type BrowserWindow, type MenuItemConstructorOptions } from 'electron';
import type { AppCommand } from '../../../src-shared/api';
import { VIEWS } from '../../../src-shared/primitives';
import { logFile } from './logging';

export const MODEL_FILTERS = [{ name: 'ONNX models', extensions: ['onnx'] }];
const IMAGE_FILTERS = [
  { name: 'Images and tensors', extensions: ['png', 'jpg', 'jpeg', 'webp', 'gif', 'tif', 'tiff', 'avif', 'npy'] },
];

export function installMenu(
  window: () => BrowserWindow | null,
  send: (command: AppCommand) => void,
  recent: () => Promise<{ name: string; path: string }[]>,
): void {
  const openModel = async (): Promise<void> => {
    const win = window();
    const result = win ? await dialog.showOpenDialog(win, { properties: ['openFile'], filters: MODEL_FILTERS }) : null;
    const file = result?.filePaths[0];
    if (file && !result?.canceled) send({ kind: 'open-model', path: file });
  };
  const openImages = async (): Promise<void> => {
    const win = window();
    const result = win
      ? await dialog.showOpenDialog(win, { properties: ['openFile', 'multiSelections'], filters: IMAGE_FILTERS })
      : null;
    if (result && !result.canceled && result.filePaths.length > 0) send({ kind: 'open-images', paths: result.filePaths });
  };
  const build = async (): Promise<void> => {
    const recentItems: MenuItemConstructorOptions[] = (await recent()).map((r) => ({
      label: r.name,
      toolTip: r.path,
      click: () => send({ kind: 'open-model', path: r.path }),
    }));
    const template: MenuItemConstructorOptions[] = [
      ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
      {
        label: 'File',
        submenu: [
          { label: 'Open Model…', accelerator: 'CmdOrCtrl+O', click: () => void openModel() },
          { label: 'Open Images…', accelerator: 'CmdOrCtrl+Shift+O', click: () => void openImages() },
          {
            label: 'Open Recent',
            submenu: recentItems.length > 0 ? recentItems : [{ label: 'No recent models', enabled: false }],
          },
          { type: 'separator' },
          { label: 'Export Report…', accelerator: 'CmdOrCtrl+E', click: () => send({ kind: 'export-report', format: 'html' }) },
          { label: 'Export Report as PDF…', click: () => send({ kind: 'export-report', format: 'pdf' }) },
          { type: 'separator' },
          { label: 'Settings…', accelerator: 'CmdOrCtrl+,', click: () => send({ kind: 'settings' }) },
          { type: 'separator' },
          { role: 'quit' },
        ],
      },
      {
        label: 'View',
        submenu: [
          ...VIEWS.map((view, i): MenuItemConstructorOptions => ({
            label: view.label,
            accelerator: `CmdOrCtrl+${i + 1}`,
            click: () => send({ kind: 'view', view: view.id }),
          })),
          { type: 'separator' },
          { role: 'zoomIn' },
          { role: 'zoomOut' },
          { role: 'resetZoom' },
          { role: 'togglefullscreen' },
        ],
      },
      {
        label: 'Help',
        submenu: [
          {
            label: 'About LayerLens',
            click: () => {
              const win = window();
              const about = {
                message: `LayerLens ${app.getVersion()}`,
                detail: 'CAM, Grad-CAM and activation statistics for any ONNX model.',
              };
              void (win ? dialog.showMessageBox(win, about) : dialog.showMessageBox(about));
            },
          },
          { label: 'Open Logs Folder', click: () => void shell.openPath(app.getPath('logs')) },
          { label: `Log file: ${logFile()}`, enabled: false },
        ],
      },
    ];
    Menu.setApplicationMenu(Menu.buildFromTemplate(template));
  };
  void build();
  // The recent list changes as models are opened: rebuild the menu when the window regains focus.
  app.on('browser-window-focus', () => void build());
}
