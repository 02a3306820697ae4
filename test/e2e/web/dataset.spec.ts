import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '../support/fixtures';
import { DatasetPage } from '../support/dataset-page';
import { HistoryPage } from '../support/history-page';

const HELD_OUT = 'test/fixtures/demo-heldout';
const LABELS = ['circle', 'square', 'triangle', 'star', 'cross', 'hexagon'];

/** The committed held-out images as a labelled folder (one sub-folder per class), plus one unreadable file. */
function heldOutFolder(): string {
  const index = JSON.parse(readFileSync(path.join(HELD_OUT, 'index.json'), 'utf8')) as {
    images: { file: string; class: number }[];
  };
  const root = path.join(mkdtempSync(path.join(os.tmpdir(), 'layerlens-e2e-set-')), 'heldout');
  for (const image of index.images) {
    const dir = path.join(root, LABELS[image.class] as string);
    mkdirSync(dir, { recursive: true });
    copyFileSync(path.join(HELD_OUT, image.file), path.join(dir, image.file));
  }
  writeFileSync(path.join(root, 'star', 'broken.png'), 'not a png');
  return root;
}

test('Data set: accuracy, per-class table, a confusion cell’s images, top losses with maps; an image opens in the studio', async ({
  studio,
  page,
  consoleErrors,
}, testInfo) => {
  const set = new DatasetPage(studio.page);
  await expect(studio.modelName).toHaveText('layerlens-demo.onnx');
  await set.open();

  // A fault first: a folder whose classes mean nothing to the model.
  const wrong = mkdtempSync(path.join(os.tmpdir(), 'layerlens-e2e-wrong-'));
  mkdirSync(path.join(wrong, 'cats'));
  copyFileSync(path.join(HELD_OUT, '000.png'), path.join(wrong, 'cats', 'a.png'));
  await set.interpret(wrong, 4);
  await expect(set.error).toContainText('The class folder "cats" matches none of the model\'s classes');

  await set.interpret(heldOutFolder(), 6);
  await expect(set.accuracy).toHaveText('98.0%', { timeout: 60_000 });
  await expect(set.summary).toContainText('200 of 201 images');
  await expect(set.skipped).toContainText('1 image skipped');
  await expect(page.getByTestId('dataset-classes').locator('tbody tr')).toHaveCount(6);
  await expect(set.cells).toHaveCount(36);
  await expect(set.topLosses).toHaveCount(6);
  // Every top loss is drawn: the image, and the maps for the predicted and (where wrong) the actual class.
  const painted = await set.topLosses
    .first()
    .locator('canvas')
    .evaluateAll((canvases) =>
      canvases.map((c) => {
        const el = c as HTMLCanvasElement;
        const data = el.getContext('2d')?.getImageData(0, 0, el.width, el.height).data ?? new Uint8ClampedArray();
        let lit = 0;
        for (let i = 0; i < data.length; i += 4) if ((data[i] ?? 0) + (data[i + 1] ?? 0) + (data[i + 2] ?? 0) > 30) lit++;
        return lit;
      }),
    );
  expect(painted).toHaveLength(3);
  for (const lit of painted) expect(lit).toBeGreaterThan(1000);

  // The most confused cell is selected; clicking another cell lists its images.
  const confusedText = await set.confused.locator('li').first().textContent();
  expect(confusedText).toMatch(/→ .*: \d+/);
  await set.cell(5, 0).click();
  await expect(set.cellTitle).toContainText('hexagon predicted as circle');
  const count = Number(await set.cell(5, 0).textContent());
  await expect(set.cellImages).toHaveCount(count);
  await set.cell(1, 1).click();
  await expect(set.cellImages).toHaveCount(34);
  await expect(set.cellImages.first().locator('img')).toBeVisible();

  await set.cell(5, 0).click();
  await page.screenshot({ path: testInfo.outputPath('dataset-view.png') });
  await set.topLosses.last().scrollIntoViewIfNeeded();
  await page.screenshot({ path: testInfo.outputPath('dataset-top-losses.png') });
  await testInfo.attach('dataset-top-losses', { body: await page.screenshot(), contentType: 'image/png' });

  // One click on a top loss opens its image in the studio, with its prediction.
  const file = await set.topLosses.first().getAttribute('data-file');
  await set.topLosses.first().getByTestId('top-loss-open').click();
  await expect(page.getByTestId('tab-studio')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByText(file ?? '?').first()).toBeVisible();

  // The run is in the history and reopens in the Data set view as it was.
  const history = new HistoryPage(page);
  await history.open();
  const run = history.runs.and(page.locator('[data-kind="interpret"]')).first();
  await expect(run).toContainText('Data set heldout');
  await run.getByTestId('history-open').click();
  await expect(page.getByTestId('tab-dataset')).toHaveAttribute('aria-selected', 'true');
  await expect(set.accuracy).toHaveText('98.0%');
  await expect(set.topLosses).toHaveCount(6);
  expect(consoleErrors).toEqual([]);
});

test('Data set: per-class mean maps and per-class activation statistics, a class picked', async ({
  studio,
  page,
  consoleErrors,
}, testInfo) => {
  const set = new DatasetPage(studio.page);
  await set.open();
  const index = JSON.parse(readFileSync(path.join(HELD_OUT, 'index.json'), 'utf8')) as {
    images: { file: string; class: number }[];
  };
  const root = path.join(mkdtempSync(path.join(os.tmpdir(), 'layerlens-e2e-classes-')), 'small');
  for (const image of index.images.slice(0, 48)) {
    const dir = path.join(root, LABELS[image.class] as string);
    mkdirSync(dir, { recursive: true });
    copyFileSync(path.join(HELD_OUT, image.file), path.join(dir, image.file));
  }
  await page.getByTestId('dataset-option-class-maps').check();
  await page.getByTestId('dataset-option-class-stats').check();
  await set.interpret(root, 2);
  await expect(set.summary).toContainText('48 of 48 images', { timeout: 60_000 });

  const maps = page.getByTestId('class-map');
  await expect(maps).toHaveCount(6);
  // Every class's mean map is drawn (a colormap, not a blank pane).
  const lit = await maps.locator('canvas').evaluateAll((canvases) =>
    canvases.map((c) => {
      const el = c as HTMLCanvasElement;
      const data = el.getContext('2d')?.getImageData(0, 0, el.width, el.height).data ?? new Uint8ClampedArray();
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if ((data[i] ?? 0) + (data[i + 1] ?? 0) + (data[i + 2] ?? 0) > 30) n++;
      return n;
    }),
  );
  expect(lit).toHaveLength(6);
  for (const n of lit) expect(n).toBeGreaterThan(1000);
  await expect(maps.first()).toContainText(/circle\s*\d+ images/);

  // The statistics of one class, then of another: the plots and the table follow the class picked.
  const stats = page.getByTestId('dataset-class-stats');
  await expect(stats).toHaveAttribute('data-class', '0');
  await expect(stats.getByTestId('stats-layer-plot')).toBeVisible();
  const rows = stats.getByTestId('stats-layer-table').locator('tbody tr');
  expect(await rows.count()).toBeGreaterThan(3);
  const before = await rows.first().textContent();
  await page.getByTestId('dataset-stats-class').selectOption('3');
  await expect(stats).toHaveAttribute('data-class', '3');
  await expect.poll(() => rows.first().textContent()).not.toBe(before);

  await maps.first().scrollIntoViewIfNeeded();
  await page.screenshot({ path: testInfo.outputPath('dataset-class-maps.png') });
  await stats.scrollIntoViewIfNeeded();
  await page.screenshot({ path: testInfo.outputPath('dataset-class-stats.png') });
  await testInfo.attach('dataset-class-stats', { body: await page.screenshot(), contentType: 'image/png' });
  expect(consoleErrors).toEqual([]);
});
