/**
 * The desktop app through Playwright's _electron. Runs wherever Electron's binary is installed; on machines
 * where it could not be downloaded (offline CI) every test is skipped with that reason.
 */
import { _electron as electron, expect, test } from '@playwright/test';
import { findElectronBinary } from '../../../src-main/hosts/electron-binary';
import { CamPage } from '../support/cam-page';
import { StudioPage } from '../support/studio-page';

const binary = findElectronBinary();
test.skip(!('path' in binary), 'missing' in binary ? `Electron's binary is not installed here: ${binary.missing}` : '');

test('the desktop app opens on the demo and predicts', async () => {
  const app = await electron.launch({ executablePath: 'path' in binary ? binary.path : '', args: ['.'] });
  const page = await app.firstWindow();
  const studio = new StudioPage(page);
  await expect(studio.modelName).toHaveText('layerlens-demo.onnx');
  await expect(studio.topRows).toHaveCount(5);
  // The same CAM grid as in browser mode, over Electron IPC.
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
  await app.close();
});
