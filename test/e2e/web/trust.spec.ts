import { test, expect } from '@playwright/test';
import { CamPage } from '../support/cam-page';
import { freshDatabase, serveApp } from '../support/serve';
import { StudioPage } from '../support/studio-page';
import { TrustPage } from '../support/trust-page';

test('the Trust tab measures each pane of the image in view, shows curves, and runs the sanity check', async ({
  page,
}, testInfo) => {
  test.setTimeout(240_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.setViewportSize({ width: 1440, height: 1000 });
  const app = await serveApp(['--db', freshDatabase()]);
  try {
    await page.goto(app.url);
    const studio = new StudioPage(page);
    const cam = new CamPage(page);
    await studio.pickSample('03-square');
    await expect(cam.grid).toHaveAttribute('data-shown', 'sample:03-square');

    const trust = new TrustPage(page);
    await trust.open();
    await trust.evaluate.click();
    await expect(trust.rows).toHaveCount(4, { timeout: 120_000 });
    // Each layer's two panes (CAM or LayerCAM beside Grad-CAM), each with its numbers beside its map.
    await expect(trust.panes).toHaveCount(8);
    const last = trust.rows.last();
    await expect(last).toHaveAttribute('data-layer', 'layer4');
    const gradcam = last.locator('[data-method="gradcam"]');
    const deletion = Number(await gradcam.getByTestId('deletion-auc').innerText());
    const insertion = Number(await gradcam.getByTestId('insertion-auc').innerText());
    expect(deletion).toBeGreaterThanOrEqual(0);
    expect(deletion).toBeLessThan(insertion); // the demo model's last-stage Grad-CAM is faithful
    await expect(gradcam.getByTestId('average-drop')).toHaveText(/%$/);
    await expect(page.getByTestId('trust-subject')).toContainText('object box given');

    await gradcam.getByTestId('trust-curves-toggle').click();
    await expect(gradcam.getByTestId('trust-curves').locator('path')).toHaveCount(4);

    await page.getByTestId('sanity-this').click();
    await expect(trust.charts).toHaveCount(4, { timeout: 120_000 });
    await expect(trust.verdicts.filter({ has: page.locator('b', { hasText: 'Grad-CAM' }) }).first()).toHaveAttribute(
      'data-verdict',
      /pass|unclear|fail/,
    );
    await expect(page.locator('[data-method="gradcam"][data-verdict]')).toHaveAttribute('data-verdict', 'pass');
    await page.screenshot({ path: testInfo.outputPath('trust-faithfulness.png') });
    await page.getByTestId('sanity-section').scrollIntoViewIfNeeded();
    await page.getByTestId('sanity-section').screenshot({ path: testInfo.outputPath('trust-sanity.png') });

    // Both runs are in the history; the sanity check reopens in the Trust tab without being computed again.
    await page.getByTestId('tab-history').click();
    const trustRuns = page.locator('[data-testid="history-run"][data-kind="trust"]');
    await expect(trustRuns).toHaveCount(2);
    await trustRuns.first().getByTestId('history-open').click();
    await expect(page.getByTestId('tab-trust')).toHaveAttribute('aria-selected', 'true');
    await expect(trust.charts).toHaveCount(4);
    await expect(page.getByTestId('sanity-section')).toContainText('from the history');
    expect(errors).toEqual([]);
  } finally {
    await app.stop();
  }
});
