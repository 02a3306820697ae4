import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumPath } from './test/e2e/support/chromium';

/**
 * Two projects share the renderer tests' page objects:
 * - web: Debian's Chromium against `layerlens serve` (runs everywhere, CI included);
 * - electron: the desktop app via Playwright's _electron (skipped, with the reason, where Electron's binary is missing).
 */
export default defineConfig({
  testDir: 'test/e2e',
  outputDir: 'test-results',
  timeout: 60_000,
  workers: 1,
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: { screenshot: 'on', trace: 'retain-on-failure' },
  projects: [
    {
      name: 'web',
      testMatch: 'web/**/*.spec.ts',
      use: { browserName: 'chromium', launchOptions: { executablePath: chromiumPath(), args: CHROMIUM_ARGS } },
    },
    { name: 'electron', testMatch: 'electron/**/*.spec.ts' },
  ],
});
