import { readFile } from 'node:fs/promises';
import { test, expect } from '@playwright/test';
import { CamPage } from '../support/cam-page';
import { HistoryPage } from '../support/history-page';
import { freshDatabase, serveApp } from '../support/serve';
import { StudioPage } from '../support/studio-page';

/** Every pane's layer, method and hottest pixel: what a user sees of the maps. */
async function hotPoints(cam: CamPage): Promise<string[]> {
  await expect(cam.page.locator('[data-testid="cam-pane"][data-hot-x]').first()).toBeVisible();
  return cam.page
    .locator('[data-testid="cam-pane"][data-hot-x]')
    .evaluateAll((panes) =>
      panes.map(
        (p) =>
          `${p.getAttribute('data-layer')}/${p.getAttribute('data-method')}@${p.getAttribute('data-hot-x')},${p.getAttribute('data-hot-y')}`,
      ),
    );
}

test('an analysis survives a restart and reopens from the history without being computed again', async ({ page }) => {
  const db = freshDatabase();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.setViewportSize({ width: 1440, height: 900 });

  let app = await serveApp(['--db', db]);
  const studio = new StudioPage(page);
  const cam = new CamPage(page);
  let before: string[];
  try {
    await page.goto(app.url);
    await studio.pickSample('03-square');
    await expect(cam.grid).toHaveAttribute('data-shown', 'sample:03-square');
    await expect(cam.grid).toHaveAttribute('data-cached', 'false');
    before = await hotPoints(cam);
    expect(before.length).toBeGreaterThanOrEqual(4);
  } finally {
    await app.stop();
  }

  // A new server process on the same database: nothing is in memory any more.
  app = await serveApp(['--db', db]);
  try {
    await page.goto(app.url);
    const history = new HistoryPage(page);
    await history.open();
    const row = history.camRun('03-square');
    await expect(row).toHaveCount(1);
    await expect(row).toHaveAttribute('data-status', 'complete');
    const runId = await row.getAttribute('data-run-id');
    await expect(row.locator('img')).toBeVisible();
    await row.getByTestId('history-open').click();

    await expect(page.getByTestId('tab-studio')).toHaveAttribute('aria-selected', 'true');
    await expect(cam.grid).toHaveAttribute('data-shown', 'sample:03-square');
    await expect(cam.grid).toHaveAttribute('data-run', runId as string);
    await expect(cam.grid).toHaveAttribute('data-cached', 'true');
    expect(await hotPoints(cam)).toEqual(before);
    await expect(studio.topRows.first()).toContainText('square');

    // The shown analysis as a PDF report (browser mode prints with the installed Chromium).
    const pdfDownload = page.waitForEvent('download');
    await page.getByTestId('export-report').selectOption('pdf');
    const pdf = await pdfDownload;
    expect(pdf.suggestedFilename()).toBe('layerlens-demo-report.pdf');
    expect((await readFile((await pdf.path()) as string)).subarray(0, 5).toString()).toBe('%PDF-');

    // The run's own HTML report, from its row in the history.
    await history.open();
    const htmlDownload = page.waitForEvent('download');
    await row.getByTestId('history-report').click();
    const html = await readFile((await (await htmlDownload).path()) as string, 'utf8');
    expect(html).toContain('03-square.png');
    expect(html).toContain(`stored run #${runId}`);

    // Pin and rename survive a reload of the page.
    await row.getByTestId('history-pin').click();
    await expect(row.getByTestId('history-pin')).toHaveAttribute('aria-pressed', 'true');
    await page.reload();
    await history.open();
    await expect(history.runs.first()).toHaveAttribute('data-run-id', runId as string);
    await history.runs.first().getByTestId('history-delete').click();
    await expect(page.locator(`[data-testid="history-run"][data-run-id="${runId}"]`)).toHaveCount(0);
  } finally {
    await app.stop();
  }
  expect(errors).toEqual([]);
});

test('an uploaded image’s run reopens after a restart: the model’s view stands in for the bytes not kept, and a class change asks again', async ({
  page,
}, testInfo) => {
  const db = freshDatabase();
  await page.setViewportSize({ width: 1440, height: 900 });
  let app = await serveApp(['--db', db]);
  const cam = new CamPage(page);
  try {
    await page.goto(app.url);
    await cam.waitForPainted('layer4', 'gradcam');
    await page.getByTestId('image-file').setInputFiles('resources/demo/samples/06-hexagon.png');
    await expect(cam.grid).toHaveAttribute('data-shown', /^image:/);
    await cam.waitForPainted('layer4', 'gradcam');
  } finally {
    await app.stop();
  }
  app = await serveApp(['--db', db]);
  try {
    await page.goto(app.url);
    const history = new HistoryPage(page);
    await history.open();
    const row = history.camRun('06-hexagon.png');
    await expect(row).toHaveCount(1);
    await row.getByTestId('history-open').click();
    await expect(cam.grid).toHaveAttribute('data-shown', /^run:/);
    await cam.waitForPainted('layer4', 'gradcam');
    // The image shown is the model's view (96×96), made a PNG in the page and uploaded once.
    await expect(page.getByTestId('input-image')).toHaveAttribute('alt', '06-hexagon.png');
    await expect(page.getByTestId('input-image').locator('xpath=..')).toContainText('96×96');
    const runBefore = await cam.grid.getAttribute('data-run');
    await page.getByTestId('class-option').nth(1).click();
    await expect(cam.grid).not.toHaveAttribute('data-run', runBefore ?? '');
    await cam.waitForPainted('layer4', 'gradcam');
    await expect(cam.error).toBeHidden();
    await testInfo.attach('reopened-upload', { body: await page.screenshot(), contentType: 'image/png' });
  } finally {
    await app.stop();
  }
});
