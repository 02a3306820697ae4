/** A log file in the user's data folder; an uncaught error shows its path instead of a blank window. */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { app, dialog } from 'electron';

export function logFile(): string {
  return path.join(app.getPath('logs'), 'layerlens.log');
}

export function log(level: 'info' | 'warn' | 'error', message: string): void {
  try {
    mkdirSync(path.dirname(logFile()), { recursive: true });
    appendFileSync(logFile(), `${new Date().toISOString()} ${level} ${message}\n`);
  } catch {
    // The log is a convenience: never fail because of it.
  }
}

export function installCrashReporting(): void {
  const report = (error: unknown): void => {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log('error', text);
    dialog.showErrorBox('LayerLens hit an unexpected error', `${text.split('\n')[0]}\n\nDetails are in ${logFile()}`);
  };
  process.on('uncaughtException', report);
  process.on('unhandledRejection', report);
}
