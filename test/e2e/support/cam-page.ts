/** Page object for the CAM grid (shared by the web and Electron projects). */
import { expect, type Locator, type Page } from '@playwright/test';

export class CamPage {
  readonly grid: Locator;
  readonly rows: Locator;
  readonly error: Locator;

  constructor(readonly page: Page) {
    this.grid = page.getByTestId('cam-grid');
    this.rows = page.getByTestId('cam-row');
    this.error = page.getByTestId('cam-error');
  }

  pane(layer: string, method: string): Locator {
    return this.page.locator(`[data-testid="cam-pane"][data-layer="${layer}"][data-method="${method}"]`).first();
  }

  async waitForPainted(layer: string, method: string): Promise<Locator> {
    const pane = this.pane(layer, method);
    await expect(pane).toHaveAttribute('data-hot-x', /\d+/);
    return pane;
  }

  /** Hottest pixel of a pane, in the pane's own pixels, and the pane size. */
  async hottest(layer: string, method: string): Promise<{ x: number; y: number; size: number }> {
    const pane = await this.waitForPainted(layer, method);
    return {
      x: Number(await pane.getAttribute('data-hot-x')),
      y: Number(await pane.getAttribute('data-hot-y')),
      size: Number(await pane.getAttribute('data-size')),
    };
  }

  /** A fingerprint of what a pane's canvas shows. */
  async pixels(layer: string, method: string): Promise<string> {
    const pane = await this.waitForPainted(layer, method);
    return pane.locator('canvas').evaluate((c) => (c as unknown as { toDataURL(type: string): string }).toDataURL('image/png'));
  }

  async explain(classIndex: number): Promise<void> {
    await this.page.locator(`[data-testid="class-option"][data-class="${classIndex}"]`).click();
    await expect(this.page.getByTestId('class-explained')).toHaveAttribute('data-class', String(classIndex));
  }
}
