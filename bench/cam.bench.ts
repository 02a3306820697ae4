/**
 * Issue targets: on a ResNet-50-shaped model at 224², all four stages' gradient methods from one hooked run
 * cost ≤ 2.0× a plain forward; the same on the demo model; ScoreCAM's time for the last stage.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { DEFAULT_METHODS, GRADIENT_METHODS } from '../src-shared/cam';
import { Engine } from '../src-main/engine/engine';
import type { OpenModel } from '../src-main/engine/model-registry';
import { resnet50Model } from './resnet50';
import type { Figure } from './run';
import { timeOnce } from './stats';

/** Blocks of runs of each side in turn; more of them average over the swings of a shared machine's load. */
const BLOCKS = 8;
const median = (times: number[]): number => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] as number;

async function ratio(engine: Engine, model: OpenModel, shape: number[], name: string, runs: number): Promise<Figure[]> {
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i));
  const input = { name: model.summary.inputs[0]?.name as string, data, shape };
  const plain = await engine.plainSession(model);
  const forward = () => plain.session.run({ [input.name]: new ort.Tensor('float32', data, shape) });
  await forward();
  // The default gradient methods: the set this figure has always measured, whatever methods are added.
  const methods = GRADIENT_METHODS.filter((m) => DEFAULT_METHODS.includes(m));
  const request = { layers: ['stages'], methods, classIndex: 'top' as const, counterfactual: false };
  const first = await timeOnce(() => engine.camTensor(model, input, request));
  // Blocks of each in turn, so that load from other processes on a shared machine weighs on both alike. The
  // first run of a block is not timed: the other session's thread pool is still spinning then, which
  // would add the same delay to both and flatter the ratio.
  const fwdTimes: number[] = [];
  const camTimes: number[] = [];
  const blockRatios: number[] = [];
  const cam = () => engine.camTensor(model, input, request);
  for (let block = 0; block < BLOCKS; block++) {
    const inBlock: number[][] = [];
    for (const [fn, times] of [
      [forward, fwdTimes],
      [cam, camTimes],
    ] as const) {
      await fn();
      const mine: number[] = [];
      for (let i = 0; i < Math.ceil(runs / BLOCKS); i++) mine.push(await timeOnce(fn));
      times.push(...mine);
      inBlock.push(mine);
    }
    blockRatios.push(median(inBlock[1] as number[]) / median(inBlock[0] as number[]));
  }
  const fwd = { median: median(fwdTimes) };
  const cams = { median: median(camTimes) };
  const run = await engine.camTensor(model, input, request);
  // A benchmark of maps that were not computed would measure nothing.
  for (const layer of run.layers) {
    const missing = Object.entries(layer.unavailable);
    if (missing.length > 0) throw new Error(`${name}: ${layer.label} has no ${missing[0]?.[0]}: ${missing[0]?.[1]}`);
  }
  return [
    { name: `${name}: plain forward (median)`, value: fwd.median, unit: 'ms' },
    { name: `${name}: first CAM (probe + rewrite + session)`, value: first, unit: 'ms' },
    { name: `${name}: all stages × gradient methods (median)`, value: cams.median, unit: 'ms' },
    { name: `${name}:   of which the hooked run`, value: run.timings.hookedRunMs, unit: 'ms' },
    { name: `${name}: CAM ÷ forward`, value: cams.median / fwd.median, unit: '×', target: { max: 2.0 } },
    // Neighbouring blocks share the machine's load of the moment: their ratio cancels slow swings.
    { name: `${name}:   CAM ÷ forward within a block (median of ${BLOCKS})`, value: median(blockRatios), unit: '×' },
    // The fastest runs are the ones other load disturbed least: on a busy machine this is the steadier figure.
    { name: `${name}:   fastest CAM ÷ fastest forward`, value: Math.min(...camTimes) / Math.min(...fwdTimes), unit: '×' },
  ];
}

export async function camBenchmark(): Promise<Figure[]> {
  // The ratio holds the plain session across CAM runs: with the default 1 GiB cache the ResNet-50's hooked
  // session evicts it, and each run would time making it again. Room for all four sessions.
  const engine = await Engine.create({ device: 'cpu', cacheLimitBytes: 4 * 1024 ** 3 });
  const figures: Figure[] = [];
  const demo = await engine.models.openPath('resources/demo/layerlens-demo.onnx');
  figures.push(...(await ratio(engine, demo, [1, 3, 96, 96], 'demo 96²', 40)));

  const dir = await mkdtemp(path.join(tmpdir(), 'layerlens-bench-'));
  const file = path.join(dir, 'resnet50.onnx');
  const build = await timeOnce(async () => writeFile(file, resnet50Model()));
  figures.push({ name: 'build ResNet-50-shaped model (random weights)', value: build, unit: 'ms' });
  const r50 = await engine.models.openPath(file);
  figures.push(...(await ratio(engine, r50, [1, 3, 224, 224], 'ResNet-50 224²', 24)));

  const input = { name: 'input', data: Float32Array.from({ length: 3 * 96 * 96 }, (_, i) => Math.cos(i)), shape: [1, 3, 96, 96] };
  const score = await timeOnce(() =>
    engine.camTensor(demo, input, { layers: ['layer4'], methods: ['scorecam'], classIndex: 'top', counterfactual: false }),
  );
  figures.push({ name: 'demo: ScoreCAM, last stage (128 channels)', value: score, unit: 'ms' });
  const ablation = await timeOnce(() =>
    engine.camTensor(demo, input, { layers: ['layer4'], methods: ['ablationcam'], classIndex: 'top', counterfactual: false }),
  );
  figures.push({ name: 'demo: AblationCAM, last stage', value: ablation, unit: 'ms' });
  engine.dispose();
  return figures;
}
