/**
 * The desktop app through Playwright's _electron. Runs wherever Electron's binary is installed; on machines
 * where it could not be downloaded (offline CI) every test is skipped with that reason.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { _electron as electron, expect, test } from '@playwright/test';
import { StudioPage } from '../support/studio-page';

function electronBinary(): { path?: string; reason?: string } {
  try {
    const binary = createRequire(import.meta.url)('electron') as unknown;
    if (typeof binary === 'string' && existsSync(binary)) return { path: binary };
    return { reason: 'the electron package has no binary' };
  } catch (error) {
    return { reason: `Electron's binary is not installed here (${String((error as Error).message).split('\n')[0]})` };
  }
}

const binary = electronBinary();
test.skip(!binary.path, binary.reason ?? '');

test('the desktop app opens on the demo and predicts', async () => {
  const app = await electron.launch({ executablePath: binary.path, args: ['.'] });
  const page = await app.firstWindow();
  const studio = new StudioPage(page);
  await expect(studio.modelName).toHaveText('layerlens-demo.onnx');
  await expect(studio.topRows).toHaveCount(5);
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
