/**
 * Printing HTML to PDF with an installed Chromium (the CLI and browser mode; the desktop host passes
 * Electron's webContents.printToPDF instead). Chromium prints a file: URL, so the HTML goes to a private
 * temporary folder first; the page loads nothing else (its CSP forbids it) and the browser runs with its
 * network features off and a throw-away profile.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { EngineError } from '../engine/errors';

/**
 * How a host turns the report's HTML into PDF bytes. The desktop host can pass one built on Electron: load
 * the HTML into a hidden BrowserWindow (from a temporary file, like below) and return
 * `webContents.printToPDF({ printBackground: true, preferCSSPageSize: true })` — the page's own @page rule
 * sets A4 and the margins, as it does for Chromium here.
 */
export type PrintToPdf = (html: string) => Promise<Uint8Array>;

const CANDIDATES: Record<string, string[]> = {
  linux: [
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/snap/bin/chromium',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
    '/usr/bin/microsoft-edge',
  ],
  darwin: [
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
    '/Applications/Chromium.app/Contents/MacOS/Chromium',
    '/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge',
  ],
  win32: [
    'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
    'C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe',
    'C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe',
  ],
};

const INSTALL_HINT: Record<string, string> = {
  linux: 'install Chromium (Debian/Ubuntu: apt-get install chromium)',
  darwin: 'install Google Chrome or Chromium',
  win32: 'install Google Chrome or Microsoft Edge',
};

/** The browser to print with: $LAYERLENS_CHROMIUM, then $CHROME_PATH, then the usual install locations. */
export function findChromium(env: NodeJS.ProcessEnv = process.env, platform: string = process.platform): string {
  for (const name of ['LAYERLENS_CHROMIUM', 'CHROME_PATH'] as const) {
    const value = env[name];
    if (!value) continue;
    if (existsSync(value)) return value;
    throw new EngineError('not-found', `${name} is ${value}, which does not exist: point it at a Chromium or Chrome binary.`);
  }
  const found = (CANDIDATES[platform] ?? CANDIDATES.linux ?? []).find((p) => existsSync(p));
  if (found) return found;
  throw new EngineError(
    'not-found',
    `A PDF report needs Chromium or Chrome and none was found: ${INSTALL_HINT[platform] ?? INSTALL_HINT.linux}, or set LAYERLENS_CHROMIUM to its binary. The HTML report (--out report.html) needs nothing.`,
  );
}

/** Runs `file` until it exits; its stderr (last lines) is kept for the error message. */
function run(file: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new EngineError('not-found', `Cannot start ${file}: ${error.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

export interface ChromiumOptions {
  /** The browser binary; default: findChromium(). */
  executable?: string;
  timeoutMs?: number;
}

/** A PrintToPdf that runs headless Chromium once per report. */
export function chromiumPrinter(options: ChromiumOptions = {}): PrintToPdf {
  return async (html) => {
    const executable = options.executable ?? findChromium();
    const dir = await mkdtemp(path.join(tmpdir(), 'layerlens-report-'));
    try {
      const page = path.join(dir, 'report.html');
      const pdf = path.join(dir, 'report.pdf');
      await writeFile(page, html);
      // --no-sandbox: Chromium refuses to start as root without it (containers, CI). What it loads is our own
      // page, which has no script and may load nothing (its CSP).
      const args = [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-default-apps',
        '--disable-extensions',
        '--disable-sync',
        '--no-first-run',
        '--no-default-browser-check',
        '--mute-audio',
        `--user-data-dir=${path.join(dir, 'profile')}`,
        '--no-pdf-header-footer',
        `--print-to-pdf=${pdf}`,
        pathToFileURL(page).href,
      ];
      const { code, stderr } = await run(executable, args, options.timeoutMs ?? 120_000);
      const bytes = await readFile(pdf).catch(() => null);
      if (!bytes || bytes.byteLength === 0 || !bytes.subarray(0, 5).equals(Buffer.from('%PDF-'))) {
        const detail = stderr.trim().split('\n').slice(-3).join(' | ');
        throw new EngineError(
          'unsupported',
          `${path.basename(executable)} did not print the report to PDF (exit ${code ?? 'killed'})${detail ? `: ${detail}` : ''}.`,
        );
      }
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}
