/**
 * The Trust tab's sanity check includes a perturbation method shown in the grid: AblationCAM's passes run
 * with the randomised weights fed in, and its similarity curve and verdict show like the others'.
 */
import { expect, test } from '../support/fixtures';
import { TrustPage } from '../support/trust-page';

test('the sanity check shows AblationCAM beside the in-graph methods', async ({ studio, cam, page }, testInfo) => {
  test.setTimeout(240_000);
  await page.setViewportSize({ width: 1440, height: 1000 });
  // A sample no other spec checks the sanity of: the worker's server shares its run history between specs.
  await studio.pickSample('06-hexagon');
  await cam.waitForPainted('layer4', 'gradcam');
  await cam.pane('layer4', 'gradcam').getByTestId('pane-method').selectOption('ablationcam');
  await cam.waitForPainted('layer4', 'ablationcam');

  const trust = new TrustPage(page);
  await trust.open();
  await page.getByTestId('sanity-this').click();
  await expect(trust.charts).toHaveCount(4, { timeout: 200_000 });
  await expect(page.locator('[data-testid="sanity-verdicts"] [data-method="ablationcam"]')).toHaveAttribute(
    'data-verdict',
    /pass|unclear|fail/,
  );
  // layer4's chart draws a line for AblationCAM, and nothing says it could not be checked.
  const layer4 = page.locator('figure', { has: page.locator('figcaption', { hasText: 'layer4' }) });
  await expect(layer4.locator('path.series title', { hasText: 'AblationCAM' })).toHaveCount(1);
  await expect(page.getByTestId('sanity-section')).not.toContainText('not part of the sanity check');
  await page.getByTestId('sanity-section').scrollIntoViewIfNeeded();
  await page.getByTestId('sanity-section').screenshot({ path: testInfo.outputPath('trust-sanity-ablationcam.png') });
});
