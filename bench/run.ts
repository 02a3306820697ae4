/**
 * `npm run bench`: prints performance figures. It never fails on timing — targets are compared and
 * reported, not asserted. Later issues add their own benchmarks to `BENCHMARKS`.
 */
import { camBenchmark } from './cam.bench';
import { graphLayoutBenchmark } from './graph-layout.bench';
import { interpretBenchmark } from './interpret.bench';
import { predictBenchmark } from './predict.bench';
import { runsBenchmark } from './runs.bench';
import { statsBenchmark } from './stats.bench';
import { statsResnet50Benchmark } from './stats-resnet50.bench';
import { studioBenchmark } from './studio.bench';
import { trustBenchmark } from './trust.bench';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** Target from an issue, if any; reported as met / missed. */
  target?: { max: number };
}

const BENCHMARKS: { name: string; run: () => Promise<Figure[]> }[] = [
  { name: 'predict (demo model)', run: predictBenchmark },
  { name: 'cam (hook engine)', run: camBenchmark },
  { name: 'graph layout (renderer logic + ELK)', run: graphLayoutBenchmark },
  { name: 'studio (click to painted CAM grid, Chromium)', run: studioBenchmark },
  { name: 'stats (activation statistics run)', run: statsBenchmark },
  { name: 'stats (ResNet-50, 32 images, 2 threads; PyTorch: bench/torch-stats.py)', run: statsResnet50Benchmark },
  { name: 'runs (history: reopen a stored run)', run: runsBenchmark },
  { name: 'trust (faithfulness metrics and sanity check, demo model)', run: trustBenchmark },
  { name: 'interpret (data set: prediction pass, top-loss maps, peak RSS)', run: interpretBenchmark },
];

const filter = process.argv[2];
let failed = false;
for (const bench of BENCHMARKS) {
  if (filter && !bench.name.includes(filter)) continue;
  console.log(`\n## ${bench.name}`);
  try {
    for (const f of await bench.run()) {
      const verdict = f.target
        ? f.value <= f.target.max
          ? `  (target ≤ ${f.target.max} ${f.unit}: met)`
          : `  (target ≤ ${f.target.max} ${f.unit}: MISSED)`
        : '';
      console.log(`${f.name.padEnd(48)} ${f.value.toFixed(2).padStart(10)} ${f.unit}${verdict}`);
    }
  } catch (error) {
    failed = true;
    console.error(`benchmark "${bench.name}" could not run: ${error instanceof Error ? error.message : String(error)}`);
  }
}
// A benchmark that cannot run at all is a broken benchmark; a slow one is only reported.
process.exitCode = failed ? 1 : 0;
