/**
 * Beyond cam-requests.spec.ts (issue 18 items 3–4): while a slow pane computes, no other layer is ever named in
 * the progress, and a labels edit never shows an answer kept under the old labels.
 */
import { expect, test } from '../support/fixtures';

test('a slow pane computes only its own layer', async ({ studio, cam, page }) => {
  // A sample no other spec asks slow methods of: the worker's server shares its run history between specs.
  await studio.pickSample('07-star');
  await cam.waitForPainted('layer4', 'gradcam');
  // Every progress line the grid shows while ScoreCAM runs for the layer4 pane.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { progressSeen: string[] }).progressSeen = seen;
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid="cam-progress"]')?.textContent;
      if (text) seen.push(text.replace(/\s+/g, ' ').trim());
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await cam.pane('layer4', 'gradcam').getByTestId('pane-method').selectOption('scorecam');
  await cam.waitForPainted('layer4', 'scorecam');
  const seen = await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
  expect(seen.some((t) => /layer4: \d+\/\d+ channels/.test(t) && !/: 0\/1 /.test(t))).toBe(true);
  for (const line of seen) expect(line).not.toMatch(/layer[123]\b/);
});

test('after loading a labels file the maps name the class with the new label, never a kept answer', async ({
  studio,
  cam,
  page,
}) => {
  await studio.pickSample('05-cross');
  await cam.enlarge('layer4', 'gradcam');
  await expect(cam.enlarged).toContainText('explains cross');
  await page.keyboard.press('Escape');
  const labels = ['circle', 'square', 'triangle', 'star', 'cross', 'hexagon'].map((l) => `my-${l}`);
  await page.getByTestId('labels-file').setInputFiles({
    name: 'labels.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from(labels.join('\n')),
  });
  try {
    await expect(studio.topRows.first().locator('.label')).toHaveText('my-cross');
    await cam.enlarge('layer4', 'gradcam');
    await expect(cam.enlarged).toContainText('explains my-cross');
    await page.keyboard.press('Escape');
  } finally {
    // The worker's server is shared by the specs: give the demo its own labels back (no file = the model's).
    await page.getByTestId('labels-file').setInputFiles([]);
    await expect(page.getByTestId('model-labels')).toHaveAttribute('data-source', 'model');
  }
  await cam.enlarge('layer4', 'gradcam');
  await expect(cam.enlarged).toContainText('explains cross');
});
