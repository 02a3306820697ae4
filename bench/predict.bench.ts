import path from 'node:path';
import { Engine } from '../src-main/engine/engine';
import type { Figure } from './run';
import { timeOnce, timeRuns } from './stats';

const SAMPLES = path.resolve('resources/demo/samples.json');

export async function predictBenchmark(): Promise<Figure[]> {
  let engine!: Engine;
  const open = await timeOnce(async () => {
    engine = await Engine.create({ demoSamples: SAMPLES, device: 'cpu' });
  });
  const { model, samples } = await engine.getStartupState();
  if (!model || samples.length === 0) throw new Error('the demo model or its samples are missing');
  const image = { kind: 'sample' as const, id: (samples[0] as { id: string }).id };
  const first = await timeOnce(() => engine.predict({ modelId: model.id, image }));
  const warm = await timeRuns(30, () => engine.predict({ modelId: model.id, image }));
  const prediction = await engine.predict({ modelId: model.id, image });
  engine.dispose();
  return [
    { name: 'open demo model (decode + summary)', value: open, unit: 'ms' },
    { name: 'first predict (session creation + run)', value: first, unit: 'ms' },
    { name: 'predict, warm, median of 30 (incl. decode)', value: warm.median, unit: 'ms' },
    { name: 'onnxruntime run only, warm', value: prediction.inferenceMs, unit: 'ms' },
  ];
}
