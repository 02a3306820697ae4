/** How the CAM grid shows and exports maps: pane size, the enlarged view, legends and titled PNGs (issue 18). */
import { readFileSync } from 'node:fs';
import { expect, test } from '../support/fixtures';

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(1, 4).toString()).toBe('PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

test('the enlarged pane shows the same picture, larger, names what it shows, and Escape closes it', async ({
  studio,
  cam,
  page,
  consoleErrors,
}, testInfo) => {
  await studio.pickSample('02-circle');
  const pane = await cam.waitForPainted('layer3', 'gradcam');
  await cam.enlarge('layer3', 'gradcam');
  const big = cam.enlarged.getByTestId('cam-pane');
  await expect(big).toHaveAttribute('data-hot-x', /\d+/);
  expect(Number(await big.getAttribute('data-size'))).toBeGreaterThan(Number(await pane.getAttribute('data-size')));
  // The same image under the same map: scaled down to one size the two agree (the scrambled dialog drew two
  // squashed copies across the top and black below: a difference of ~60).
  expect(await cam.canvasDifference(pane.locator('canvas'), big.locator('canvas'))).toBeLessThan(8);
  const explained = (await page.getByTestId('class-explained').innerText()).replace(/^showing /, '');
  await expect(page.getByTestId('cam-enlarged-title')).toHaveText('layer3 · Grad-CAM');
  await expect(cam.enlarged).toContainText(`explains ${explained}`);
  await expect(cam.enlarged).toContainText('02-circle.png');
  await testInfo.attach('enlarged-pane', { body: await page.screenshot(), contentType: 'image/png' });
  await page.screenshot({ path: testInfo.outputPath('enlarged-pane.png') });
  await page.keyboard.press('Escape');
  await expect(cam.enlarged).toBeHidden();
  expect(consoleErrors).toEqual([]);
});

test('panes grow with the window, and each has a legend with its values', async ({ studio, cam, page }, testInfo) => {
  await page.setViewportSize({ width: 1600, height: 1000 });
  await studio.pickSample('02-circle');
  const pane = await cam.waitForPainted('layer4', 'gradcam');
  const box = await pane.locator('canvas').boundingBox();
  // Two panes a row beside the 340-px sidebar and the layer label: each far more than the old 224 px.
  expect(box?.width ?? 0).toBeGreaterThan(450);
  const grid = await cam.grid.boundingBox();
  const row = await cam.rows.first().boundingBox();
  expect((row?.width ?? 0) / (grid?.width ?? 1)).toBeGreaterThan(0.9);
  await page.setViewportSize({ width: 1100, height: 900 });
  await expect.poll(async () => (await pane.locator('canvas').boundingBox())?.width ?? 0).toBeLessThan(400);

  const legend = pane.getByTestId('pane-legend');
  const high = Number(await legend.getAttribute('data-high'));
  expect(high).toBeGreaterThan(0);
  const [low, top] = await legend.locator('span:not(.bar)').allInnerTexts();
  expect(Number(low)).toBeCloseTo(Number(await legend.getAttribute('data-low')), 2);
  expect(Number(top) / high).toBeCloseTo(1, 2);
  await page.getByTestId('cam-signed').click();
  await expect(legend).toHaveAttribute('data-low', /^-/);
  await expect(page.getByTestId('cam-legend')).toContainText('transparent');
  await page.screenshot({ path: testInfo.outputPath('grid-1100.png'), fullPage: true });
});

test('pane and grid PNG exports carry a title strip above the maps', async ({ studio, cam, page }) => {
  await studio.pickSample('02-circle');
  const pane = await cam.waitForPainted('layer4', 'gradcam');
  const size = Number(await pane.getAttribute('data-size'));
  const [download] = await Promise.all([page.waitForEvent('download'), pane.getByTestId('pane-export').click()]);
  expect(download.suggestedFilename()).toBe('layer4-gradcam.png');
  const png = pngSize(readFileSync(await download.path()));
  expect(png.width).toBe(size);
  expect(png.height).toBeGreaterThan(size + 30); // two lines of title above the pane
  const [gridDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('cam-export-grid').click()]);
  const grid = pngSize(readFileSync(await gridDownload.path()));
  expect(grid.width).toBe(2 * size + 3 * 24);
  expect(grid.height).toBeGreaterThan(4 * (size + 24 + 16) + 24 + 30);
});
