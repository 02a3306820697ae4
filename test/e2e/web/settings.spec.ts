/**
 * Settings (issue 17, item 10): the run history's size limit set in the studio is the engine's at once (no
 * restart) and kept in the run database for the next session; a run larger than the whole limit is refused
 * with a one-line note where its result is shown. Its own served app: the limit must not reach other specs.
 */
import { expect, test } from '@playwright/test';
import { freshDatabase, serveApp, type ServedApp } from '../support/serve';
import { StatsPage } from '../support/stats-page';

let app: ServedApp | null = null;
test.afterEach(async () => {
  await app?.stop();
  app = null;
});

test('the history limit is set in Settings, applies at once, refuses a run larger than it, and is kept', async ({ page }) => {
  test.setTimeout(240_000);
  const db = freshDatabase();
  app = await serveApp(['--db', db]);
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(app.url);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await expect(page.getByTestId('model-name')).toHaveText('layerlens-demo.onnx');

  // The engine's own answer: the default, 2 GiB.
  await page.getByTestId('open-settings').click();
  const dialog = page.getByTestId('settings');
  const source = page.getByTestId('settings-history-source');
  await expect(source).toHaveAttribute('data-source', 'default');
  await expect(source).toContainText('Now 2.00 GB, the default');
  await expect(page.getByTestId('settings-database')).toContainText(db);

  // Nonsense is refused before it reaches the engine.
  const limit = page.getByTestId('settings-history-limit');
  await limit.fill('0');
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('settings-error')).toHaveText(/a number of MB from 1 to/);

  await limit.fill('1');
  await page.getByTestId('settings-save').click();
  await expect(source).toHaveAttribute('data-source', 'preference');
  await expect(source).toContainText('Now 1.0 MB, set here — saved');
  await page.screenshot({ path: test.info().outputPath('settings.png') });
  await page.getByTestId('settings-close').click();
  await expect(dialog).toBeHidden();

  // A statistics run with 1,500 bins per histogram is about 1.5 MB: answered, shown, and not kept.
  const stats = new StatsPage(page);
  await stats.open();
  await page.getByTestId('stats-bins').fill('1500');
  await stats.run.click();
  await expect(stats.summary).toBeVisible({ timeout: 90_000 });
  const note = page.getByTestId('not-kept');
  await expect(note).toBeVisible();
  await expect(note).toContainText(
    /^This run's result is 1\.\d MiB, more than the run history's whole limit of 1\.0 MiB, so it was not kept/,
  );
  // One line, the whole reason on hover.
  const box = await note.boundingBox();
  expect(box?.height ?? 0).toBeLessThan(40);
  await page.screenshot({ path: test.info().outputPath('not-kept.png') });
  await page.getByTestId('tab-history').click();
  // The studio's CAM run of the first sample (a few hundred KB) is kept; the statistics run is not.
  await expect(page.locator('[data-testid="history-run"][data-kind="cam"]').first()).toBeVisible();
  await expect(page.locator('[data-testid="history-run"][data-kind="stats"]')).toHaveCount(0);

  // The note's button leads to the limit; a run under it is kept again (40 bins).
  await page.getByTestId('tab-stats').click();
  await page.getByTestId('not-kept-settings').click();
  await expect(dialog).toBeVisible();
  await page.keyboard.press('Escape');
  await page.getByTestId('stats-bins').fill('40');
  await stats.runOnSamples();
  await expect(note).toBeHidden();

  // Kept in the run database: the next session starts with it.
  await app.stop();
  app = await serveApp(['--db', db]);
  await page.goto(app.url);
  await page.getByTestId('open-settings').click();
  await expect(source).toHaveAttribute('data-source', 'preference');
  await expect(limit).toHaveValue('1');
  await page.getByTestId('settings-reset').click();
  await expect(source).toHaveAttribute('data-source', 'default');
  expect(errors).toEqual([]);
});
