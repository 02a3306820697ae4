/** Page object for the Data set tab (fastai's ClassificationInterpretation). */
import { expect, type Locator, type Page } from '@playwright/test';

export class DatasetPage {
  readonly tab: Locator;
  readonly path: Locator;
  readonly topK: Locator;
  readonly run: Locator;
  readonly cancel: Locator;
  readonly error: Locator;
  readonly accuracy: Locator;
  readonly summary: Locator;
  readonly skipped: Locator;
  readonly cells: Locator;
  readonly cellTitle: Locator;
  readonly cellImages: Locator;
  readonly confused: Locator;
  readonly topLosses: Locator;

  constructor(readonly page: Page) {
    this.tab = page.getByTestId('tab-dataset');
    this.path = page.getByTestId('dataset-path');
    this.topK = page.getByTestId('dataset-topk');
    this.run = page.getByTestId('dataset-run');
    this.cancel = page.getByTestId('dataset-cancel');
    this.error = page.getByTestId('dataset-error');
    this.accuracy = page.getByTestId('dataset-accuracy');
    this.summary = page.getByTestId('dataset-summary');
    this.skipped = page.getByTestId('dataset-skipped');
    this.cells = page.getByTestId('confusion-cell');
    this.cellTitle = page.getByTestId('cell-title');
    this.cellImages = page.getByTestId('cell-image');
    this.confused = page.getByTestId('dataset-confused');
    this.topLosses = page.getByTestId('top-loss');
  }

  async open(): Promise<void> {
    await this.tab.click();
    await expect(this.run).toBeEnabled();
  }

  async interpret(dataset: string, topK: number): Promise<void> {
    await this.path.fill(dataset);
    await this.topK.fill(String(topK));
    await this.run.click();
  }

  cell(actual: number, predicted: number): Locator {
    return this.page.locator(`[data-testid="confusion-cell"][data-actual="${actual}"][data-predicted="${predicted}"]`);
  }
}
