/** Page object for the Trust tab. */
import type { Locator, Page } from '@playwright/test';

export class TrustPage {
  readonly tab: Locator;
  readonly view: Locator;
  readonly evaluate: Locator;
  readonly rows: Locator;
  readonly panes: Locator;
  readonly verdicts: Locator;
  readonly charts: Locator;

  constructor(readonly page: Page) {
    this.tab = page.getByTestId('tab-trust');
    this.view = page.getByTestId('trust-view');
    this.evaluate = page.getByTestId('trust-evaluate');
    this.rows = page.getByTestId('trust-row');
    this.panes = page.getByTestId('trust-pane');
    this.verdicts = page.getByTestId('sanity-verdicts').locator('[data-verdict]');
    this.charts = page.getByTestId('sanity-chart');
  }

  async open(): Promise<void> {
    await this.tab.click();
    await this.view.waitFor();
  }
}
