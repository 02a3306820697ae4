/**
 * The desktop app through Playwright's _electron. Runs wherever Electron's binary is installed; on machines
 * where it could not be downloaded (offline CI) every test is skipped with that reason.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { _electron as electron, expect, test, type ElectronApplication } from '@playwright/test';
import { findElectronBinary } from '../../../src-main/hosts/electron-binary';
import { CamPage } from '../support/cam-page';
import { DatasetPage } from '../support/dataset-page';
import { GraphPage } from '../support/graph-page';
import { HistoryPage } from '../support/history-page';
import { StudioPage } from '../support/studio-page';

const binary = findElectronBinary();
test.skip(!('path' in binary), 'missing' in binary ? `Electron's binary is not installed here: ${binary.missing}` : '');

async function launch(): Promise<ElectronApplication> {
  const data = mkdtempSync(path.join(os.tmpdir(), 'layerlens-electron-'));
  return electron.launch({
    executablePath: 'path' in binary ? binary.path : '',
    args: ['.', `--user-data-dir=${data}`],
    env: { ...process.env, LAYERLENS_DB: path.join(data, 'layerlens.db') },
  });
}

/** Clicks a menu item by its labels (or role, lower case), e.g. ['File', 'Open Model…'], as a user would. */
async function clickMenu(app: ElectronApplication, labels: string[]): Promise<void> {
  await app.evaluate(({ Menu, BrowserWindow }, path) => {
    let items = Menu.getApplicationMenu()?.items ?? [];
    let item;
    for (const label of path) {
      item = items.find((i) => i.label === label || i.role?.toLowerCase() === label);
      if (!item) throw new Error(`no menu item ${label}`);
      items = item.submenu?.items ?? [];
    }
    item?.click(undefined, BrowserWindow.getAllWindows()[0], undefined as never);
  }, labels);
}

test('the desktop app opens on the demo, predicts, and is locked down', async () => {
  const app = await launch();
  const page = await app.firstWindow();
  const studio = new StudioPage(page);
  await expect(studio.modelName).toHaveText('layerlens-demo.onnx');
  await expect(studio.topRows).toHaveCount(5);
  // The same CAM grid as in browser mode, over Electron IPC to the engine's utility process.
  const cam = new CamPage(page);
  await expect(cam.rows).toHaveCount(4);
  await cam.waitForPainted('layer4', 'gradcam');
  const prefs = await app.evaluate(({ BrowserWindow }) => {
    const w = BrowserWindow.getAllWindows()[0];
    // Not in Electron's typings, but present at run time: the preferences the renderer really got.
    return (w?.webContents as unknown as { getLastWebPreferences?: () => unknown }).getLastWebPreferences?.();
  });
  expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
  expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
  expect(await page.evaluate(() => Object.keys((globalThis as { layerlensPipe?: object }).layerlensPipe ?? {}).sort())).toEqual([
    'send',
    'subscribe',
  ]);
  expect(await page.evaluate(() => Object.keys((globalThis as { layerlensFiles?: object }).layerlensFiles ?? {}))).toEqual([
    'grantDropped',
    'chooseDatasetFolder',
  ]);
  await app.close();
});

test('open a model from the menu (dialog stubbed), see its graph and maps, export a report, find the run in the history, quit', async () => {
  const app = await launch();
  const page = await app.firstWindow();
  const studio = new StudioPage(page);
  await expect(studio.modelName).toHaveText('layerlens-demo.onnx');
  const model = path.resolve('resources/demo/layerlens-demo.onnx');
  await app.evaluate(({ dialog }, file) => {
    dialog.showOpenDialog = (async () => ({ canceled: false, filePaths: [file] })) as typeof dialog.showOpenDialog;
  }, model);
  await clickMenu(app, ['File', 'Open Model…']);
  await expect(studio.topRows).toHaveCount(5);

  await clickMenu(app, ['View', 'Graph']);
  const graph = new GraphPage(page);
  await expect(graph.view).toBeVisible();
  await expect(graph.stages.first()).toBeVisible();

  await clickMenu(app, ['View', 'Studio']);
  const cam = new CamPage(page);
  await cam.waitForPainted('layer4', 'gradcam');

  // File → Export Report: the download is saved where the test says (instead of asking in a dialog).
  const saved = path.join(mkdtempSync(path.join(os.tmpdir(), 'layerlens-report-')), 'report.html');
  await app.evaluate(({ session }, file) => {
    session.defaultSession.once('will-download', (_event, item) => item.setSavePath(file));
  }, saved);
  await clickMenu(app, ['File', 'Export Report…']);
  await expect
    .poll(() => existsSync(saved) && readFileSync(saved, 'utf8').includes('Class activation maps'), { timeout: 30_000 })
    .toBe(true);

  await clickMenu(app, ['View', 'History']);
  const history = new HistoryPage(page);
  await expect(history.runs.first()).toHaveAttribute('data-status', 'complete');

  await clickMenu(app, ['File', 'quit']);
  await expect.poll(() => app.process().exitCode, { timeout: 10_000 }).not.toBeNull();
});

test('Data set: the folder is chosen in the native dialog (stubbed), granted to the engine and interpreted', async () => {
  const app = await launch();
  const page = await app.firstWindow();
  const set = new DatasetPage(page);
  await expect(new StudioPage(page).modelName).toHaveText('layerlens-demo.onnx');
  // Six held-out images in class folders, picked "in the dialog".
  const labels = ['circle', 'square', 'triangle', 'star', 'cross', 'hexagon'];
  const index = JSON.parse(readFileSync('test/fixtures/demo-heldout/index.json', 'utf8')) as {
    images: { file: string; class: number }[];
  };
  const folder = path.join(mkdtempSync(path.join(os.tmpdir(), 'layerlens-electron-set-')), 'picked');
  for (const image of index.images.slice(0, 12)) {
    mkdirSync(path.join(folder, labels[image.class] as string), { recursive: true });
    copyFileSync(
      path.join('test/fixtures/demo-heldout', image.file),
      path.join(folder, labels[image.class] as string, image.file),
    );
  }
  await app.evaluate(({ dialog }, dir) => {
    dialog.showOpenDialog = (async () => ({ canceled: false, filePaths: [dir] })) as typeof dialog.showOpenDialog;
  }, folder);
  await set.open();
  await page.getByTestId('dataset-choose-folder').click();
  await expect(set.path).toHaveValue(folder);
  await set.topK.fill('2');
  await set.run.click();
  await expect(set.summary).toContainText('12 of 12 images', { timeout: 60_000 });
  await expect(set.topLosses).toHaveCount(2);
  await app.close();
});
