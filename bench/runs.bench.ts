/**
 * Issue target: reopening a cached ResNet-50-sized CAM run (all stages, all gradient methods) takes ≤ 100 ms.
 * Also reported: the same request answered from the database by a new engine, and a reopen that must first
 * open the 100 MB model again (a new session of the app).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CamRequestMessage } from '../src-shared/api';
import { GRADIENT_METHODS } from '../src-shared/cam';
import { Engine } from '../src-main/engine/engine';
import { resnet50Model } from './resnet50';
import type { Figure } from './run';
import { timeOnce, timeRuns } from './stats';

export async function runsBenchmark(): Promise<Figure[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'layerlens-bench-runs-'));
  const modelFile = path.join(dir, 'resnet50.onnx');
  const database = path.join(dir, 'runs.db');
  await writeFile(modelFile, resnet50Model());
  const image = { kind: 'path' as const, path: path.resolve('resources/demo/samples/01-star.png') };

  const first = await Engine.create({ device: 'cpu', database });
  const model = await first.openModelPath({ path: modelFile });
  const request: CamRequestMessage = {
    modelId: model.id,
    image,
    layers: ['stages'],
    methods: [...GRADIENT_METHODS],
    classIndex: 'top',
    counterfactual: false,
    jobId: 'bench',
  };
  let run = null as Awaited<ReturnType<Engine['computeCam']>>['run'];
  const computed = await timeOnce(async () => {
    run = (await first.computeCam(request)).run;
  });
  if (run === null) throw new Error('the run was not stored');
  const id = run;
  const opened = await first.openRun({ id });
  const maps = opened.cam?.result.layers.reduce((n, l) => n + Object.keys(l.maps).length, 0) ?? 0;
  if (opened.cam?.result.layers.length !== 4 || maps !== 4 * GRADIENT_METHODS.length) {
    throw new Error(
      `the stored run has ${opened.cam?.result.layers.length} layers and ${maps} maps, not 4 × ${GRADIENT_METHODS.length}`,
    );
  }
  const reopen = await timeRuns(20, () => first.openRun({ id }));
  first.dispose();

  const second = await Engine.create({ device: 'cpu', database });
  const again = await second.openModelPath({ path: modelFile });
  const cachedRequest = await timeRuns(1, async () => {
    const answer = await second.computeCam({ ...request, modelId: again.id });
    if (!answer.cached) throw new Error('a stored run was computed again');
  });
  second.dispose();

  const third = await Engine.create({ device: 'cpu', database });
  const cold = await timeOnce(() => third.openRun({ id }));
  third.dispose();

  return [
    { name: 'ResNet-50 224²: compute + store the run', value: computed, unit: 'ms' },
    { name: 'reopen the stored run (median of 20)', value: reopen.median, unit: 'ms', target: { max: 100 } },
    { name: 'same request in a new engine (from the database)', value: cachedRequest.median, unit: 'ms' },
    { name: 'reopen in a new engine (opens the 100 MB model too)', value: cold, unit: 'ms' },
  ];
}
