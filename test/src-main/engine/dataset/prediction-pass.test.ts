/** The prediction pass's batch size: one image per run or full batches, whichever the probes time faster. */
import { describe, expect, it } from 'vitest';
import { BatchChooser } from '../../../../src-main/engine/dataset/prediction-pass';

/** Runs the chooser's probes with `perImageMs(size)` per image; returns the sizes it asked for and its choice. */
function probe(max: number, perImageMs: (size: number, run: number) => number): { asked: number[]; chosen: number | null } {
  const chooser = new BatchChooser(max);
  const asked: number[] = [];
  for (let run = 0; run < 20 && chooser.size === null; run++) {
    const size = chooser.next();
    asked.push(size);
    chooser.record(size, size * perImageMs(size, run));
  }
  return { asked, chosen: chooser.size };
}

describe('BatchChooser', () => {
  it('keeps full batches where they run faster per image', () => {
    const { asked, chosen } = probe(16, (size) => (size === 16 ? 2 : 5));
    expect(asked).toEqual([1, 16, 1, 16, 1, 16]);
    expect(chosen).toBe(16);
  });

  it('runs one image at a time where batching is slower (a small model on few cores)', () => {
    expect(probe(16, (size) => (size === 16 ? 6 : 5)).chosen).toBe(1);
  });

  it("does not count each size's first run (it allocates)", () => {
    // The first batched run is very slow and the first single run very fast: neither decides.
    const { chosen } = probe(16, (size, run) => (run === 0 ? 0.1 : run === 1 ? 100 : size === 16 ? 2 : 5));
    expect(chosen).toBe(16);
  });

  it('keeps full batches unless one image per run is clearly (10%) faster', () => {
    expect(probe(16, (size) => (size === 16 ? 5 : 4.7)).chosen).toBe(16);
    expect(probe(16, (size) => (size === 16 ? 5 : 4.4)).chosen).toBe(1);
  });

  it('takes the best of the counted runs of each size: one disturbed run does not decide', () => {
    // The second single run is disturbed (slow): the third still shows one image per run the faster.
    const { chosen } = probe(16, (size, run) => (size === 16 ? 5 : run === 2 ? 50 : 4));
    expect(chosen).toBe(1);
  });

  it('a fixed batch (max 1) needs no probe; a graph that refuses batches fixes it to 1', () => {
    expect(probe(1, () => 1)).toEqual({ asked: [], chosen: 1 });
    const chooser = new BatchChooser(16);
    chooser.fix(1);
    expect(chooser.next()).toBe(1);
    expect(chooser.size).toBe(1);
  });
});
