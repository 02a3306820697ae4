/** Runs in the history are named as a user would name them (issue 18): image(s), class label, methods. */
import { expect, test } from '../support/fixtures';
import { CamPage } from '../support/cam-page';
import { HistoryPage } from '../support/history-page';
import { serveApp } from '../support/serve';
import { StatsPage } from '../support/stats-page';
import { StudioPage } from '../support/studio-page';

test('a CAM run is named by its image, the class label it explains and its methods; reopened, it says so', async ({ page }) => {
  // A history of its own: the worker's server shares its run history between specs, and an earlier spec's
  // run of the same question would answer this one (and be counted here).
  const app = await serveApp();
  try {
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(app.url);
    const studio = new StudioPage(page);
    const cam = new CamPage(page);
    await studio.pickSample('06-hexagon');
    await cam.waitForPainted('layer4', 'gradcam');
    await cam.explain(Number(await page.getByTestId('class-option').nth(1).getAttribute('data-class')));
    const other = (await page.getByTestId('class-explained').innerText()).replace(/^showing /, '');
    await cam.waitForPainted('layer4', 'gradcam');

    const history = new HistoryPage(page);
    await history.open();
    const runs = history.camRun('06-hexagon');
    await expect(runs).toHaveCount(2);
    const titles = await runs.getByTestId('history-open').allInnerTexts();
    expect(titles).toContainEqual(expect.stringMatching(/^CAM, .*Grad-CAM.* of 06-hexagon\.png · hexagon \(top class\)$/));
    expect(titles).toContainEqual(expect.stringMatching(new RegExp(` of 06-hexagon\\.png · ${other}$`)));
    for (const title of titles) expect(title).not.toMatch(/class \d/);

    // Reopened, the prediction says where it comes from instead of a made-up "0.0 ms".
    await runs.filter({ hasText: 'top class' }).getByTestId('history-open').click();
    await expect(studio.provider).toContainText(/from run #\d+ in the history/);
    await expect(studio.provider).not.toContainText('0.0 ms');
  } finally {
    await app.stop();
  }
});

test('a statistics run over 8 images says 8 images, not its first one', async ({ studio, page }) => {
  const stats = new StatsPage(studio.page);
  await stats.open();
  await stats.runOnSamples();
  const history = new HistoryPage(page);
  await history.open();
  const row = history.runs.and(page.locator('[data-kind="stats"]'));
  // Other specs' statistics runs share the server: every one over the 8 samples reads the same.
  await expect(row.getByTestId('history-open').first()).toHaveText('Statistics over 8 images (01-star.png, …)');
});
