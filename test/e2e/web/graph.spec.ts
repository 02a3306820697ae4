import { expect, test } from '../support/fixtures';

test('the layer graph: expand a stage, inspect a conv, its shapes and weight statistics', async ({
  graph,
  consoleErrors,
  page,
}, testInfo) => {
  await graph.open();

  // The demo's four stages are marked.
  await expect(graph.stages).toHaveCount(4);
  for (const stage of ['layer1', 'layer2', 'layer3', 'layer4']) await expect(graph.stage(stage)).toHaveCount(1);

  // Collapsed, layer1 is one box with its op summary and output shape, and none of its ops.
  await graph.collapse('layer1');
  await expect(graph.nodesUnder('layer1')).toHaveCount(0);
  await expect(graph.module('layer1')).toContainText('10 nodes');
  await expect(graph.module('layer1')).toContainText('1 × 16 × 48 × 48');

  // Expanded (laid out again), its ops are there.
  await graph.expand('layer1');
  await graph.expand('layer1.0');
  const conv = graph.nodesIn('layer1.0.conv1');
  await expect(conv).toHaveCount(1);
  await expect(conv).toHaveAttribute('data-op', 'Conv');
  await conv.click();

  await expect(graph.inspectorOp).toHaveText('Conv');
  await expect(graph.inspectorModule).toHaveText('layer1.0.conv1');
  // Input: the maxpool's 16×48×48 map (then weight and bias); output: layer1's 16 channels at 48×48.
  const inputs = await graph.shapes('input');
  expect(inputs).toHaveLength(3);
  expect(inputs[0]).toContain('16 × 48 × 48');
  expect(inputs[1]).toBe('[16 × 16 × 3 × 3]');
  expect(inputs[2]).toBe('[16]');
  const outputs = await graph.shapes('output');
  expect(outputs).toHaveLength(1);
  expect(outputs[0]).toContain('16 × 48 × 48');
  await expect(page.getByTestId('inspector-params')).toHaveText('2,320');

  // Weight statistics of the kernel: 16·16·3·3 values of a trained conv.
  await expect(graph.weightStats).toHaveCount(2);
  const kernel = graph.weightStats.first();
  await expect(kernel.locator('[data-stat="count"]')).toContainText('2,304');
  const [min, max, mean, std, sparsity] = await Promise.all(
    (['min', 'max', 'mean', 'std', 'sparsity'] as const).map((s) => graph.stat(kernel, s)),
  );
  expect(min).toBeLessThan(0);
  expect(max).toBeGreaterThan(0);
  expect(min).toBeLessThanOrEqual(mean as number);
  expect(mean).toBeLessThanOrEqual(max as number);
  expect(std).toBeGreaterThan(0);
  // Plausible weights, not bytes read at the wrong offset.
  expect(Math.max(Math.abs(min as number), Math.abs(max as number))).toBeLessThan(10);
  expect(sparsity).toBeGreaterThanOrEqual(0);
  expect(sparsity).toBeLessThan(100);

  // A screenshot to look at: layer1 open, its conv selected.
  const shot = await page.screenshot();
  await testInfo.attach('graph', { body: shot, contentType: 'image/png' });
  expect(consoleErrors).toEqual([]);
});

test('stage badges select the stage; search reveals and centres an op; pan, zoom and fit', async ({
  graph,
  consoleErrors,
  page,
}) => {
  await graph.open();

  // Everything collapsed: the stages are top-level boxes; fit them all in view.
  await page.getByRole('button', { name: 'Collapse all' }).click();
  await expect(graph.nodesUnder('layer4')).toHaveCount(0);
  await graph.fitButton.click();
  await expect(graph.minimap).toBeVisible();
  expect(await graph.zoom()).toBeGreaterThan(0.5);

  await graph.stage('layer3').click();
  await expect(graph.inspectorOp).toHaveText('Module');
  await expect(graph.inspectorModule).toHaveText('layer3');
  await expect(graph.inspector).toContainText('stage 3');
  await expect(graph.inspector.locator('[data-testid="inspector-shape"][data-role="output"]')).toContainText('64 × 12 × 12');

  // Search from the collapsed graph: the op is revealed (its modules opened), selected and centred.
  await graph.searchFor('layer4.1.conv2');
  await expect(graph.inspectorOp).toHaveText('Conv');
  await expect(graph.inspectorModule).toHaveText('layer4.1.conv2');
  const conv = graph.nodesIn('layer4.1.conv2');
  await expect(conv).toHaveCount(1);
  await expect(graph.inspector.locator('[data-testid="inspector-shape"][data-role="output"]')).toContainText('128 × 6 × 6');
  const center = async (): Promise<{ dx: number; dy: number }> => {
    const [node, canvas] = [await conv.boundingBox(), await graph.canvas.boundingBox()];
    if (!node || !canvas) throw new Error('the node or the canvas is not laid out');
    return {
      dx: node.x + node.width / 2 - (canvas.x + canvas.width / 2),
      dy: node.y + node.height / 2 - (canvas.y + canvas.height / 2),
    };
  };
  const centred = await center();
  expect(Math.abs(centred.dx)).toBeLessThan(40);
  expect(Math.abs(centred.dy)).toBeLessThan(40);

  // Hovering the edge leaving it shows the tensor's shape.
  const box = await conv.boundingBox();
  if (!box) throw new Error('the conv is not laid out');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height + 6);
  await expect(page.getByTestId('graph-edge-label')).toContainText('128 × 6 × 6');

  // Drag pans; the wheel zooms about the pointer.
  const canvasBox = await graph.canvas.boundingBox();
  if (!canvasBox) throw new Error('no canvas');
  const start = { x: canvasBox.x + 60, y: canvasBox.y + 60 };
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  await page.mouse.move(start.x + 50, start.y + 30, { steps: 5 });
  await page.mouse.up();
  const panned = await center();
  expect(panned.dx - centred.dx).toBeCloseTo(50, 0);
  expect(panned.dy - centred.dy).toBeCloseTo(30, 0);
  const before = await graph.zoom();
  await page.mouse.wheel(0, -300);
  await expect.poll(() => graph.zoom()).toBeGreaterThan(before);
  // A drag is not a click: the selection is unchanged.
  await expect(graph.inspectorModule).toHaveText('layer4.1.conv2');

  // Back to the studio: the prediction view is still there.
  await page.getByTestId('tab-studio').click();
  await expect(page.getByTestId('top5-row')).toHaveCount(5);
  expect(consoleErrors).toEqual([]);
});

test('opening another model shows its graph', async ({ graph, consoleErrors, page }) => {
  await graph.open();
  await expect(graph.status).toContainText('49 nodes');
  await page.getByTestId('model-file').setInputFiles('test/fixtures/torch/densenet/model.onnx');
  await expect(graph.status).toContainText('78 nodes', { timeout: 30_000 });
  await expect(graph.stages).toHaveCount(4);
  await expect(graph.stage('features.denseblock2')).toHaveCount(1);
  await expect(graph.inspector).toContainText('BatchNormalization');
  expect(consoleErrors).toEqual([]);
});

test('stages can be changed from the graph, and a stage opens its heatmaps', async ({ graph, page }) => {
  await graph.open();
  await expect(graph.stages).toHaveCount(4);
  const overview = async (): Promise<void> => {
    await page.getByRole('button', { name: 'Collapse all' }).click();
    await graph.fitButton.click();
  };
  await overview();
  await graph.stage('layer3').click();
  await page.getByTestId('stage-remove').click();
  await expect(graph.stages).toHaveCount(3);
  await page.getByTestId('tab-studio').click();
  await expect(page.getByTestId('cam-row')).toHaveCount(3);
  await page.getByTestId('tab-graph').click();
  await overview();
  await graph.stage('layer2').click();
  await page.getByTestId('stage-reset').click();
  await expect(graph.stages).toHaveCount(4);
  await overview();
  await graph.stage('layer2').click();
  await page.getByTestId('stage-open-maps').click();
  await expect(page.locator('[data-testid="cam-row"][data-layer="layer2"]')).toBeInViewport();
  await expect(page.getByTestId('cam-row')).toHaveCount(4);
});
