import { existsSync } from 'node:fs';

/** Debian's Chromium (Playwright cannot download its own browsers here). PLAYWRIGHT_CHROMIUM overrides. */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.PLAYWRIGHT_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

/** Flags for headless Chromium as root, with no network beyond loopback; SwiftShader gives WebGL2. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--enable-unsafe-swiftshader',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
