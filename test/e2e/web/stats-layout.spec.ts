/** How the Statistics view is laid out and follows the user (issue 18): sizes, axis names, scrolling, the volume's image. */
import type { Locator } from '@playwright/test';
import { expect, test } from '../support/fixtures';
import { StatsPage } from '../support/stats-page';

async function height(locator: Locator): Promise<number> {
  return (await locator.boundingBox())?.height ?? 0;
}

test('the plots name the layers, the 3D view and the volume are shown whole, the table follows the selection', async ({
  studio,
  page,
  consoleErrors,
}, testInfo) => {
  const stats = new StatsPage(studio.page);
  await stats.open();
  await stats.runOnSamples();
  const layers = await stats.layers();

  // Every plot writes layer names under its x axis: the first, the last and the selected one at least.
  const chart = page.getByTestId('stats-chart').first();
  await stats.layerSelect.selectOption({ label: 'layer3' });
  const named = ((await chart.getAttribute('data-x-labels')) ?? '').split(',');
  expect(named).toContain(layers[0]);
  expect(named).toContain('layer3');
  expect(named.length).toBeGreaterThan(3);
  await page.screenshot({ path: testInfo.outputPath('statistics.png') });

  // The table scrolls to the layer selected elsewhere (the selector, a plot, the 3D view).
  const table = page.getByTestId('stats-layer-table').locator('xpath=..');
  for (const layer of [layers.at(-1) as string, layers[0] as string]) {
    await stats.layerSelect.selectOption({ label: layer });
    const row = stats.layerRows.filter({ has: page.locator(`code:text-is("${layer}")`) });
    await expect
      .poll(async () => {
        const [r, t] = [await row.boundingBox(), await table.boundingBox()];
        return !!r && !!t && r.y >= t.y - 1 && r.y + r.height <= t.y + t.height + 1;
      })
      .toBe(true);
  }

  // The 3D colourful dimension is a real view, not a 200-px strip.
  await expect(stats.view3d).toHaveAttribute('data-painted', 'true');
  expect(await height(stats.view3d)).toBeGreaterThanOrEqual(400);
  expect(await height(stats.view3d.locator('canvas'))).toBeGreaterThanOrEqual(400);

  // The activation volume's box holds its whole canvas.
  await stats.layerSelect.selectOption({ label: 'layer1' });
  await page.getByTestId('stats-volume-load').click();
  const volume = page.getByTestId('stats-volume');
  await expect(volume).toHaveAttribute('data-voxels', /^[1-9]\d*$/);
  expect(await height(volume)).toBeGreaterThan(await height(volume.locator('canvas')));
  await expect(volume).toContainText('01-star.png');
  await volume.scrollIntoViewIfNeeded();
  await page.screenshot({ path: testInfo.outputPath('statistics-volume.png') });
  await stats.view3d.scrollIntoViewIfNeeded();
  await page.screenshot({ path: testInfo.outputPath('statistics-3d.png') });
  expect(consoleErrors).toEqual([]);
});

test('the activation volume follows the shown image: no old volume under the new image’s name', async ({ studio, page }) => {
  const stats = new StatsPage(studio.page);
  await stats.open();
  await stats.runOnSamples();
  await stats.layerSelect.selectOption({ label: 'layer2' });
  await page.getByTestId('stats-volume-load').click();
  const volume = page.getByTestId('stats-volume');
  await expect(volume).toContainText('layer2 of samples/01-star.png');
  await page.getByTestId('tab-studio').click();
  await studio.pickSample('03-square');
  await expect(page.getByTestId('input-image')).toHaveAttribute('alt', /03-square/);
  await stats.tab.click();
  await expect(volume).toContainText('layer2 of samples/03-square.png');
  await stats.layerSelect.selectOption({ label: 'layer3' });
  await expect(volume).toContainText('layer3 of samples/03-square.png');
});
