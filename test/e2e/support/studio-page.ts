/** Page object for the studio, shared by the web and Electron projects. */
import { expect, type Locator, type Page } from '@playwright/test';

export class StudioPage {
  readonly modelName: Locator;
  readonly inputs: Locator;
  readonly outputs: Locator;
  readonly samples: Locator;
  readonly topRows: Locator;
  readonly error: Locator;
  readonly provider: Locator;

  constructor(readonly page: Page) {
    this.modelName = page.getByTestId('model-name');
    this.inputs = page.getByTestId('model-inputs').locator('li');
    this.outputs = page.getByTestId('model-outputs').locator('li');
    this.samples = page.getByTestId('sample');
    this.topRows = page.getByTestId('top5-row');
    this.error = page.getByTestId('error');
    this.provider = page.getByTestId('provider');
  }

  async pickSample(id: string): Promise<void> {
    // With a model other than the demo's open, the demo's samples are folded away (the model may still be
    // changing when this is called, so the check is retried until the click lands).
    const sample = this.page.locator(`[data-testid="sample"][data-sample-id="${id}"]`);
    const folded = this.page.getByTestId('samples-other-model');
    await expect(async () => {
      if ((await folded.count()) > 0 && (await folded.getAttribute('open')) === null) await folded.locator('summary').click();
      await sample.click({ timeout: 1000 });
    }).toPass();
  }

  async topLabels(): Promise<string[]> {
    await expect(this.topRows.first()).toBeVisible();
    return this.topRows.locator('.label').allInnerTexts();
  }

  async topProbabilities(): Promise<number[]> {
    const texts = await this.topRows.locator('.prob').allInnerTexts();
    return texts.map((t) => Number.parseFloat(t) / 100);
  }
}
