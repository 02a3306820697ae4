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

  /** The enlarged-pane dialog (opened by clicking a pane). */
  get enlarged(): Locator {
    return this.page.getByTestId('cam-enlarged');
  }

  /** Opens the enlarged view of a pane. */
  async enlarge(layer: string, method: string): Promise<void> {
    const pane = await this.waitForPainted(layer, method);
    await pane.locator('canvas').click();
    await expect(this.enlarged).toBeVisible();
  }

  /**
   * Mean absolute difference (0–255) between two canvases drawn at one small size: the same picture at two
   * sizes differs little, a scrambled one a lot.
   */
  async canvasDifference(a: Locator, b: Locator): Promise<number> {
    const handleA = await a.elementHandle();
    const handleB = await b.elementHandle();
    return this.page.evaluate(
      ([x, y]) => {
        const read = (c: Element): Uint8ClampedArray => {
          const small = new OffscreenCanvas(64, 64);
          const ctx = small.getContext('2d') as OffscreenCanvasRenderingContext2D;
          ctx.drawImage(c as HTMLCanvasElement, 0, 0, 64, 64);
          return ctx.getImageData(0, 0, 64, 64).data;
        };
        const da = read(x as Element);
        const db = read(y as Element);
        let sum = 0;
        for (let i = 0; i < da.length; i++) if (i % 4 !== 3) sum += Math.abs((da[i] as number) - (db[i] as number));
        return sum / ((da.length / 4) * 3);
      },
      [handleA, handleB],
    );
  }
}
