import { performance } from 'node:perf_hooks';

export async function timeRuns(runs: number, fn: () => Promise<unknown>): Promise<{ median: number; mean: number; min: number }> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return {
    median: times[Math.floor(times.length / 2)] as number,
    mean: times.reduce((a, b) => a + b, 0) / times.length,
    min: times[0] as number,
  };
}

export async function timeOnce(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
