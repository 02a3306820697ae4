/** Starts the real `layerlens serve` (the built CLI) as a child process and reads the URL it prints. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ServedApp {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** A fresh run database for each served app (pass `--db FILE` in `args` to share one across restarts). */
export function freshDatabase(): string {
  return path.join(mkdtempSync(path.join(os.tmpdir(), 'layerlens-e2e-')), 'layerlens.db');
}

export function serveApp(args: string[] = []): Promise<ServedApp> {
  const db = args.includes('--db') ? [] : ['--db', freshDatabase()];
  const child: ChildProcess = spawn(process.execPath, ['bin/layerlens.js', 'serve', ...db, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`layerlens serve printed no URL in 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /http:\/\/127\.0\.0\.1:(\d+)\/\?token=\S+/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        url: match[0],
        port: Number(match[1]),
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`layerlens serve exited with ${code}:\n${output}`));
    });
  });
}
