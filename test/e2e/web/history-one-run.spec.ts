/**
 * One user action is one run (issue 18 item 7): picking an image while panes show ScoreCAM and AblationCAM
 * makes one run in the history — not one for the fast maps and one per slow pane — named by the image, the
 * class label and every method, and reopened (after a restart: nothing in memory) it shows the slow maps.
 */
import { expect, test } from '@playwright/test';
import { CamPage } from '../support/cam-page';
import { HistoryPage } from '../support/history-page';
import { freshDatabase, serveApp } from '../support/serve';
import { StudioPage } from '../support/studio-page';

test('an image picked with slow panes is one run, named by image, class and methods, and reopens with the slow maps', async ({
  page,
}, testInfo) => {
  test.setTimeout(120_000);
  const db = freshDatabase();
  await page.setViewportSize({ width: 1440, height: 900 });
  const studio = new StudioPage(page);
  const cam = new CamPage(page);
  const history = new HistoryPage(page);

  let app = await serveApp(['--db', db]);
  let runId: string;
  let scoreBefore: string;
  let ablationBefore: string;
  try {
    await page.goto(app.url);
    await studio.pickSample('01-star');
    await cam.waitForPainted('layer4', 'gradcam');
    // The right panes of two rows switched to the slow methods (they compute for the image shown, too).
    await cam.pane('layer2', 'gradcam').getByTestId('pane-method').selectOption('scorecam');
    await cam.pane('layer4', 'gradcam').getByTestId('pane-method').selectOption('ablationcam');
    await cam.waitForPainted('layer2', 'scorecam');
    await cam.waitForPainted('layer4', 'ablationcam');

    // The action: another image. Its fast maps, then both slow panes.
    await studio.pickSample('04-triangle');
    await expect(cam.grid).toHaveAttribute('data-shown', 'sample:04-triangle');
    await expect(cam.page.getByTestId('cam-progress')).toHaveCount(0, { timeout: 60_000 });
    // A pane switched to a fast method the answer lacks (FEM) asks again, and adds to the same run.
    await cam.pane('layer3', 'gradcam').getByTestId('pane-method').selectOption('fem');
    await cam.waitForPainted('layer3', 'fem');
    scoreBefore = await cam.pixels('layer2', 'scorecam');
    ablationBefore = await cam.pixels('layer4', 'ablationcam');
    runId = (await cam.grid.getAttribute('data-run')) as string;
    expect(runId).toMatch(/^\d+$/);

    await history.open();
    const rows = history.camRun('04-triangle');
    await expect(rows).toHaveCount(1);
    await expect(rows).toHaveAttribute('data-run-id', runId);
    await expect(rows).toHaveAttribute('data-status', 'complete');
    await expect(rows.getByTestId('history-open')).toHaveText(
      /^CAM, .*Grad-CAM.*, ScoreCAM, AblationCAM, FEM of 04-triangle\.png · triangle \(top class\)$/,
    );
    await expect(rows).toContainText('ScoreCAM at layer2');
    await expect(rows).toContainText('AblationCAM at layer4');
    await expect(rows).toContainText('FEM at every stage');
    // The first image's action is one run too: the slow maps asked for it joined its run.
    await expect(history.camRun('01-star')).toHaveCount(1);
    await expect(history.runs).toHaveCount(2);
    await testInfo.attach('history', { body: await page.screenshot(), contentType: 'image/png' });
    await page.screenshot({ path: testInfo.outputPath('history-one-run.png') });
  } finally {
    await app.stop();
  }

  // A new server on the same database, a new page: no map in memory, every pane back to its default.
  app = await serveApp(['--db', db]);
  try {
    await page.goto(app.url);
    await history.open();
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { progressSeen: string[] }).progressSeen = seen;
      new MutationObserver(() => {
        const text = document.querySelector('[data-testid="cam-progress"]')?.textContent;
        if (text) seen.push(text);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await history.camRun('04-triangle').getByTestId('history-open').click();
    await expect(cam.grid).toHaveAttribute('data-run', runId);
    await expect(cam.grid).toHaveAttribute('data-shown', 'sample:04-triangle');
    expect(await cam.pixels('layer2', 'scorecam')).toBe(scoreBefore);
    expect(await cam.pixels('layer4', 'ablationcam')).toBe(ablationBefore);
    await cam.waitForPainted('layer2', 'layercam');
    await cam.waitForPainted('layer4', 'cam');
    // Shown from the run: nothing was computed again.
    expect(await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen)).toEqual([]);
    await cam.pane('layer2', 'scorecam').scrollIntoViewIfNeeded();
    await testInfo.attach('reopened', { body: await page.screenshot(), contentType: 'image/png' });
    await page.screenshot({ path: testInfo.outputPath('reopened-layer2.png') });
    await history.open();
    await expect(history.runs).toHaveCount(2);
  } finally {
    await app.stop();
  }
});
