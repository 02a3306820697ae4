/**
 * The device menu (issue 20): the studio shows where analyses run and why not on a GPU, and switches the
 * device for later analyses. The served app is shared between specs: the test puts `auto` back.
 */
import { expect, test } from '../support/fixtures';

test('the toolbar shows the device in use, says why it is not a GPU, and switches it', async ({
  studio,
  page,
  consoleErrors,
}) => {
  await expect(studio.modelName).toHaveText('layerlens-demo.onnx');
  const device = page.getByTestId('device');
  const provider = page.getByTestId('device-provider');
  const label = page.locator('label.device');
  await expect(device).toHaveValue('auto');
  await expect(provider).toHaveText(/^→ (CPU|WebGPU)$/);
  if ((await provider.textContent())?.includes('CPU'))
    await expect(label).toHaveAttribute('title', /^Running on the CPU: no hardware GPU for WebGPU: /);
  await page.screenshot({ path: test.info().outputPath('device-auto.png') });

  await device.selectOption('webgpu');
  await expect(provider).toHaveText('→ WebGPU');
  await expect(label).toHaveAttribute('title', 'New analyses run on WebGPU');
  await device.selectOption('cpu');
  await expect(provider).toHaveText('→ CPU');
  await expect(label).toHaveAttribute('title', 'New analyses run on CPU');

  await device.selectOption('auto');
  await expect(device).toHaveValue('auto');
  expect(consoleErrors).toEqual([]);
});
