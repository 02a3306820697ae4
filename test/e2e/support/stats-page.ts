/** Page object for the Statistics tab (activation statistics, colorful dimension, 3D stack). */
import { expect, type Locator, type Page } from '@playwright/test';

export class StatsPage {
  readonly tab: Locator;
  readonly run: Locator;
  readonly cancel: Locator;
  readonly progress: Locator;
  readonly summary: Locator;
  readonly layerPlot: Locator;
  readonly layerSelect: Locator;
  readonly layerRows: Locator;
  readonly colorDim: Locator;
  readonly view3d: Locator;
  readonly readout: Locator;

  constructor(readonly page: Page) {
    this.tab = page.getByTestId('tab-stats');
    this.run = page.getByTestId('stats-run');
    this.cancel = page.getByTestId('stats-cancel');
    this.progress = page.getByTestId('stats-progress');
    this.summary = page.getByTestId('stats-summary');
    this.layerPlot = page.getByTestId('stats-layer-plot');
    this.layerSelect = page.getByTestId('stats-layer-select');
    this.layerRows = page.getByTestId('stats-layer-row');
    this.colorDim = page.getByTestId('stats-colordim');
    this.view3d = page.getByTestId('stats-3d');
    this.readout = page.getByTestId('stats-3d-readout');
  }

  async open(): Promise<void> {
    await expect(this.page.getByTestId('model-name')).toHaveText('layerlens-demo.onnx');
    await this.tab.click();
    await expect(this.run).toBeEnabled();
  }

  /** Runs on the demo's samples and waits for the result. */
  async runOnSamples(): Promise<void> {
    await this.run.click();
    await expect(this.summary).toBeVisible({ timeout: 30_000 });
    await expect(this.run).toBeEnabled();
  }

  async layers(): Promise<string[]> {
    return ((await this.layerPlot.getAttribute('data-layers')) ?? '').split(',');
  }

  /** How many pixels of the colorful dimension's plot area differ from the (transparent) background. */
  async colorDimPainted(): Promise<number> {
    await expect(this.colorDim).toHaveAttribute('data-drawn', 'true');
    return this.colorDim.evaluate((c) => {
      const canvas = c as HTMLCanvasElement;
      const data = canvas.getContext('2d')?.getImageData(60, 20, canvas.width - 80, canvas.height - 50).data ?? [];
      let n = 0;
      for (let i = 0; i < data.length; i += 4)
        if ((data[i + 3] ?? 0) > 0 && (data[i] ?? 0) + (data[i + 1] ?? 0) + (data[i + 2] ?? 0) > 0) n++;
      return n;
    });
  }

  /** Fraction of the 3D canvas's pixels that are not (near) black, read back from its PNG. */
  async view3dBrightFraction(): Promise<number> {
    return this.view3d.locator('canvas').evaluate(async (c) => {
      const url = (c as HTMLCanvasElement).toDataURL('image/png');
      const image = new Image();
      image.src = url;
      await image.decode();
      const copy = new OffscreenCanvas(image.width, image.height);
      const ctx = copy.getContext('2d');
      if (!ctx) return 0;
      ctx.drawImage(image, 0, 0);
      const data = ctx.getImageData(0, 0, image.width, image.height).data;
      let bright = 0;
      for (let i = 0; i < data.length; i += 4) if ((data[i] ?? 0) + (data[i + 1] ?? 0) + (data[i + 2] ?? 0) > 90) bright++;
      return bright / (data.length / 4);
    });
  }
}
