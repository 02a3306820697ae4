import { describe, expect, it } from 'vitest';
import { RequestWorker } from '../../../src-main/engine/request-worker';

const ECHO = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ id, x }) => {
  if (x === 'exit') process.exit(3);
  if (x < 0) parentPort.postMessage({ id, error: 'negative: ' + x });
  else parentPort.postMessage({ id, result: x * 2 });
});`;

describe('a request worker', () => {
  it('answers each request by its id, and a request it fails with its error', async () => {
    const worker = new RequestWorker<number>(ECHO, 'the echo worker');
    const answers = await Promise.all([1, 2, 3].map((x) => worker.request({ x })));
    expect(answers).toEqual([2, 4, 6]);
    await expect(worker.request({ x: -1 })).rejects.toThrow('negative: -1');
    expect(worker.broken).toBe(false);
    await worker.request({ x: 'exit' }).catch(() => undefined);
  });

  it('rejects what is pending and is broken once the worker exits', async () => {
    const worker = new RequestWorker<number>(ECHO, 'the echo worker');
    await expect(worker.request({ x: 'exit' })).rejects.toThrow('the echo worker exited');
    expect(worker.broken).toBe(true);
  });
});
