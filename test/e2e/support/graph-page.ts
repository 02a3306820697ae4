/** Page object for the Graph tab: the layer graph, its search and controls, and the inspector. */
import { expect, type Locator, type Page } from '@playwright/test';

export class GraphPage {
  readonly tab: Locator;
  readonly view: Locator;
  readonly canvas: Locator;
  readonly search: Locator;
  readonly fitButton: Locator;
  readonly nodes: Locator;
  readonly stages: Locator;
  readonly minimap: Locator;
  readonly status: Locator;
  readonly inspector: Locator;
  readonly inspectorOp: Locator;
  readonly inspectorModule: Locator;
  readonly weightStats: Locator;

  constructor(readonly page: Page) {
    this.tab = page.getByTestId('tab-graph');
    this.view = page.getByTestId('graph-view');
    this.canvas = page.getByTestId('graph-canvas');
    this.search = page.getByTestId('graph-search');
    this.fitButton = page.getByTestId('graph-fit');
    this.nodes = page.getByTestId('graph-node');
    this.stages = page.getByTestId('graph-stage');
    this.minimap = page.getByTestId('graph-minimap');
    this.status = page.getByTestId('graph-status');
    this.inspector = page.getByTestId('inspector');
    this.inspectorOp = page.getByTestId('inspector-op');
    this.inspectorModule = page.getByTestId('inspector-module');
    this.weightStats = page.getByTestId('weight-stats');
  }

  /** Switches to the Graph tab and waits for the first layout. */
  async open(): Promise<void> {
    await this.tab.click();
    await expect(this.view).toBeVisible();
    await expect(this.status).toContainText('shown', { timeout: 30_000 });
  }

  /** A module, drawn either as a group (expanded) or as a box (collapsed). */
  module(path: string): Locator {
    return this.page.locator(`[data-testid="graph-module"][data-module="${path}"]`);
  }

  toggle(path: string): Locator {
    return this.page.locator(`[data-testid="graph-toggle"][data-module="${path}"]`);
  }

  /** The op nodes whose innermost module is `module`. */
  nodesIn(module: string): Locator {
    return this.page.locator(`[data-testid="graph-node"][data-module="${module}"]`);
  }

  /** The op nodes anywhere under `module`. */
  nodesUnder(module: string): Locator {
    return this.page.locator(`[data-testid="graph-node"][data-module^="${module}."]`);
  }

  stage(module: string): Locator {
    return this.page.locator(`[data-testid="graph-stage"][data-module="${module}"]`);
  }

  async isExpanded(path: string): Promise<boolean> {
    return (await this.module(path).first().getAttribute('data-expanded')) === 'true';
  }

  async expand(path: string): Promise<void> {
    if (!(await this.isExpanded(path))) await this.toggle(path).click();
    await expect(this.module(path)).toHaveAttribute('data-expanded', 'true');
  }

  async collapse(path: string): Promise<void> {
    if (await this.isExpanded(path)) await this.toggle(path).click();
    await expect(this.module(path)).toHaveAttribute('data-expanded', 'false');
  }

  /** Text of the inspector's tensor shapes for inputs or outputs, in order. */
  async shapes(role: 'input' | 'output'): Promise<string[]> {
    return this.inspector.locator(`[data-testid="inspector-shape"][data-role="${role}"]`).allInnerTexts();
  }

  async stat(stats: Locator, name: 'min' | 'max' | 'mean' | 'std' | 'sparsity' | 'count'): Promise<number> {
    const text = await stats.locator(`[data-stat="${name}"]`).innerText();
    return Number.parseFloat(text.replace(/,/g, ''));
  }

  async searchFor(query: string): Promise<void> {
    await this.search.fill(query);
    await this.search.press('Enter');
  }

  /** The canvas's zoom factor. */
  async zoom(): Promise<number> {
    return Number(await this.canvas.getAttribute('data-zoom'));
  }
}
