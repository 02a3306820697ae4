/**
 * The graph of real PyTorch exports reads well (issue 18): the exporter's Identity aliases of parameters fold
 * into the ops they feed (their weights keep their statistics), edges carry shapes, Fit keeps text legible
 * and stage badges stay inside the box of what they mark.
 */
import type { Locator } from '@playwright/test';
import { expect, test } from '../support/fixtures';

const THIN_RESNET50 = 'test/fixtures/graph/thin-resnet50.onnx';

async function openModel(page: import('@playwright/test').Page, file: string, name: string): Promise<void> {
  await expect(page.getByTestId('model-name')).toHaveText('layerlens-demo.onnx');
  await page.getByTestId('model-file').setInputFiles(file);
  await expect(page.getByTestId('model-name')).toHaveText(name);
}

/** Every stage badge lies within the box of the module (or op) it marks. */
async function badgesInside(badges: Locator, boxOf: (module: string) => Locator): Promise<number> {
  const n = await badges.count();
  for (let i = 0; i < n; i++) {
    const badge = badges.nth(i);
    const module = (await badge.getAttribute('data-module')) ?? '';
    const b = await badge.boundingBox();
    const m = await boxOf(module).first().boundingBox();
    expect(b && m, `badge of ${module}`).toBeTruthy();
    if (!b || !m) continue;
    expect(b.x, `badge of ${module}`).toBeGreaterThanOrEqual(m.x - 0.5);
    expect(b.x + b.width, `badge of ${module}`).toBeLessThanOrEqual(m.x + m.width + 0.5);
    expect(b.y, `badge of ${module}`).toBeGreaterThanOrEqual(m.y - 0.5);
    expect(b.y + b.height, `badge of ${module}`).toBeLessThanOrEqual(m.y + m.height + 0.5);
  }
  return n;
}

test('a ResNet-50 export: no Identity boxes, shapes on edges, legible at Fit, badges inside their modules', async ({
  graph,
  page,
  consoleErrors,
}, testInfo) => {
  await openModel(page, THIN_RESNET50, 'thin-resnet50.onnx');
  await graph.open();
  await page.getByRole('button', { name: 'Expand all' }).click();
  await expect(graph.nodesIn('layer1.0.conv1')).toHaveCount(1);
  // 47 Identity aliases in the file; none is drawn.
  await expect(page.locator('[data-testid="graph-node"][data-op="Identity"]')).toHaveCount(0);
  await expect(page.locator('[data-testid="graph-node"][data-op="Conv"]').first()).toBeVisible();

  // A bias reached through an Identity is the conv's weight, with its statistics.
  await graph.nodesIn('layer1.0.conv2').click();
  await expect(graph.inspectorOp).toHaveText('Conv');
  await expect(graph.weightStats).toHaveCount(2);
  await expect(graph.weightStats.nth(1).locator('[data-stat="count"]')).toContainText('4');

  await page.getByRole('button', { name: 'Collapse all' }).click();
  await expect(graph.nodesUnder('layer4')).toHaveCount(0);
  await graph.fitButton.click();
  // The collapsed network fits at a zoom where its 11–12 px text is legible.
  expect(await graph.zoom()).toBeGreaterThanOrEqual(0.6);
  const shapes = page.getByTestId('graph-edge-shape');
  await expect(shapes.first()).toBeVisible();
  // layer1's output (ResNet-50's 256 channels, a sixteenth here) on the edge into layer2.
  expect(await shapes.allTextContents()).toContain('1 × 16 × 56 × 56');
  expect(await badgesInside(graph.stages, (m) => graph.module(m))).toBe(4);
  await page.screenshot({ path: testInfo.outputPath('resnet50-collapsed-fit.png') });
  await testInfo.attach('resnet50-collapsed-fit', { body: await page.screenshot(), contentType: 'image/png' });
  expect(consoleErrors).toEqual([]);
});

test('MobileNetV2: the collapsed `features` box holds its five stage badges', async ({ graph, page }, testInfo) => {
  await openModel(page, 'test/fixtures/torch/mobilenetv2/model.onnx', 'model.onnx');
  await graph.open();
  await page.getByRole('button', { name: 'Collapse all' }).click();
  await graph.fitButton.click();
  await expect(graph.stages).toHaveCount(5);
  const features = graph.module('features');
  await expect(features).toHaveAttribute('data-expanded', 'false');
  // Every badge sits on the features box (the stages are inside it), within its bounds.
  expect(await badgesInside(graph.stages, () => features)).toBe(5);
  await page.screenshot({ path: testInfo.outputPath('mobilenetv2-collapsed-fit.png') });
});
