/** Page object for the History tab (shared by the web and Electron projects). */
import type { Locator, Page } from '@playwright/test';

export class HistoryPage {
  readonly tab: Locator;
  readonly runs: Locator;
  readonly size: Locator;

  constructor(readonly page: Page) {
    this.tab = page.getByTestId('tab-history');
    this.runs = page.getByTestId('history-run');
    this.size = page.getByTestId('history-size');
  }

  async open(): Promise<void> {
    await this.tab.click();
    await this.page.getByTestId('history').waitFor();
  }

  /** The row of the CAM run on an input whose file name contains `input`. */
  camRun(input: string): Locator {
    return this.runs
      .filter({ has: this.page.getByTestId('history-open').getByText(input) })
      .and(this.page.locator('[data-kind="cam"]'));
  }
}
