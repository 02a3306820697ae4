/**
 * The methods added from pytorch-grad-cam (issue 15): the panes' menus list every registry method, FinerCAM
 * and KPCA-CAM paint, and the eigen-smooth and aug-smooth toggles ask for other maps (each its own run).
 */
import { readFileSync } from 'node:fs';
import { CAM_METHOD_LABELS, CAM_METHODS } from '../../../src-shared/cam';
import { expect, test } from '../support/fixtures';

const demo = JSON.parse(readFileSync('resources/demo/samples.json', 'utf8')) as { samples: { file: string }[] };
// A sample no other spec asks these methods of (the worker's server shares its run history between specs).
const sample = (demo.samples[5]?.file ?? '').replace(/^.*\//, '').replace(/\.[^.]+$/, '');

test('FinerCAM and KPCA-CAM from the pane menus; eigen-smooth and aug-smooth change the maps', async ({
  studio,
  cam,
  page,
}, testInfo) => {
  await studio.pickSample(sample);
  await cam.waitForPainted('layer4', 'gradcam');
  const menu = cam.pane('layer4', 'gradcam').getByTestId('pane-method');
  await expect(menu.locator('option')).toHaveText(CAM_METHODS.map((m) => CAM_METHOD_LABELS[m]));
  await menu.selectOption('finercam');
  await cam.pane('layer3', 'gradcam').getByTestId('pane-method').selectOption('kpcacam');
  await cam.waitForPainted('layer3', 'kpcacam');
  const finer = await cam.pixels('layer4', 'finercam');
  const kpca = await cam.pixels('layer3', 'kpcacam');
  const cam4 = await cam.pixels('layer4', 'cam');
  await cam.pane('layer3', 'kpcacam').scrollIntoViewIfNeeded();
  const shot = testInfo.outputPath('finercam-kpcacam.png');
  await page.screenshot({ path: shot });
  await testInfo.attach('finercam-kpcacam', { path: shot, contentType: 'image/png' });

  await page.getByTestId('cam-eigen-smooth').check();
  // FinerCAM and CAM sum per-channel terms: eigen-smooth changes them; KPCA-CAM it leaves as it is.
  await expect.poll(() => cam.pixels('layer4', 'finercam')).not.toBe(finer);
  await expect.poll(() => cam.pixels('layer4', 'cam')).not.toBe(cam4);
  expect(await cam.pixels('layer3', 'kpcacam')).toBe(kpca);
  await expect(page.getByTestId('class-explained')).toContainText('eigen-smooth');

  await page.getByTestId('cam-eigen-smooth').uncheck();
  await expect.poll(() => cam.pixels('layer4', 'finercam')).toBe(finer);
  await page.getByTestId('cam-aug-smooth').check();
  // Six inputs through two new hooked sessions (FinerCAM's run is its own): allow for the sessions' creation.
  await expect(page.getByTestId('class-explained')).toContainText('aug-smooth', { timeout: 60_000 });
  await expect.poll(() => cam.pixels('layer3', 'kpcacam')).not.toBe(kpca);
  await expect(page.getByTestId('class-explained')).toContainText('aug-smooth');
  await expect(page.getByTestId('class-explained')).not.toContainText('eigen-smooth');
  await expect(cam.error).toBeHidden();
  const augShot = testInfo.outputPath('aug-smooth.png');
  await page.screenshot({ path: augShot });
  await testInfo.attach('aug-smooth', { path: augShot, contentType: 'image/png' });
});
