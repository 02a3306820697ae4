/** Starts the real `layerlens serve` (the built CLI) as a child process and reads the URL it prints. */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ServedApp {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export function serveApp(args: string[] = []): Promise<ServedApp> {
  const child: ChildProcess = spawn(process.execPath, ['bin/layerlens.js', 'serve', ...args], {
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
