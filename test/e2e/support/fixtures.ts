/**
 * Fixtures shared by the web specs: one real `layerlens serve` per worker (the built CLI, started as a user
 * would), a list of console errors per page, and the studio page object opened on the demo.
 */
import { test as base } from '@playwright/test';
import { CamPage } from './cam-page';
import { GraphPage } from './graph-page';
import { serveApp, type ServedApp } from './serve';
import { StudioPage } from './studio-page';

export const test = base.extend<
  { consoleErrors: string[]; studio: StudioPage; cam: CamPage; graph: GraphPage },
  { app: ServedApp }
>({
  app: [
    // eslint-disable-next-line no-empty-pattern -- Playwright's fixture signature
    async ({}, use) => {
      const app = await serveApp();
      await use(app);
      await app.stop();
    },
    { scope: 'worker' },
  ],
  consoleErrors: async ({ page }, use) => {
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await use(errors);
  },
  studio: async ({ page, app, consoleErrors: _ }, use) => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(app.url);
    await use(new StudioPage(page));
  },
  cam: async ({ page, studio: _ }, use) => {
    await use(new CamPage(page));
  },
  graph: async ({ page, studio }, use) => {
    await base.expect(studio.modelName).toHaveText('layerlens-demo.onnx');
    await use(new GraphPage(page));
  },
});

export { expect } from '@playwright/test';
