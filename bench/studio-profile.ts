/**
 * `npx tsx bench/studio-profile.ts [clicks]`: where the renderer's time goes between a click on a new image
 * and its painted CAM grid, on the ResNet-50-shaped model (bench/resnet50.ts) in Debian's Chromium against
 * `layerlens serve` (build first). Chromium's sampling profiler runs from each click until the grid shows the
 * image; the self time of each function is summed and printed per click, largest first. The page waits for
 * the engine most of that time ("(idle)"). A development aid for docs/performance.md, not a benchmark.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath } from '../test/e2e/support/chromium';
import { serveApp } from '../test/e2e/support/serve';
import { resnet50Model } from './resnet50';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const clicks = Number(process.argv[2] ?? 3);
const executablePath = chromiumPath();
if (!executablePath) throw new Error('Chromium is not installed (apt-get install chromium)');
const dir = await mkdtemp(path.join(tmpdir(), 'layerlens-studio-profile-'));
const model = path.join(dir, 'resnet50.onnx');
await writeFile(model, resnet50Model());
const app = await serveApp([model]);
const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  await page.goto(app.url);
  await page.locator('[data-testid="cam-pane"][data-hot-x]').first().waitFor({ timeout: 180_000 });
  await page.getByTestId('samples-other-model').locator('summary').click();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  const ids = await page.getByTestId('sample').evaluateAll((els) => els.map((e) => e.getAttribute('data-sample-id') ?? ''));
  const selfMs = new Map<string, number>();
  const profiled = ids.slice(1, 1 + clicks);
  for (const id of profiled) {
    await cdp.send('Profiler.start');
    await page.locator(`[data-testid="sample"][data-sample-id="${id}"]`).click();
    await page.waitForFunction(
      (key) => document.querySelector('[data-testid="cam-grid"]')?.getAttribute('data-shown') === key,
      `sample:${id}`,
      { timeout: 120_000, polling: 50 },
    );
    // The panes paint in the same update as the grid's key; one more frame for the paint itself.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve(null))));
    const { profile } = (await cdp.send('Profiler.stop')) as { profile: Profile };
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((sample, i) => {
      const frame = byId.get(sample)?.callFrame;
      if (!frame) return;
      const key = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').pop() ?? ''}:${frame.lineNumber}`;
      selfMs.set(key, (selfMs.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
    });
  }
  const rows = [...selfMs].sort((a, b) => b[1] - a[1]).slice(0, 30);
  for (const [where, ms] of rows) console.log(`${(ms / profiled.length).toFixed(1).padStart(8)} ms/click  ${where}`);
} finally {
  await browser.close();
  await app.stop();
}
