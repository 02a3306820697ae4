/**
 * The GPU form of the hooked graph on onnxruntime's WebGPU provider (through SwiftShader here): every node
 * runs on the GPU — an op without a WebGPU kernel would run on the CPU with a copy across the bus each way,
 * which on a real GPU cost more than the backward pass itself — and its maps equal the CPU provider's.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TensorName } from '../../../../src-shared/api';
import { analyzeGraph, type GraphAnalysis } from '../../../../src-main/engine/graph/analyze-graph';
import { resolveLayers } from '../../../../src-main/engine/graph/layers';
import type { GraphForm } from '../../../../src-main/engine/hooks/graph-builder';
import { buildHookedModel, SEED_INPUT, TOP_WEIGHT_INPUT } from '../../../../src-main/engine/hooks/hooked-model';
import { IN_GRAPH_METHODS } from '../../../../src-main/engine/hooks/map-graph';
import { describeModel } from '../../../../src-main/engine/model-registry';
import { readNpy } from '../../../../src-main/engine/npy';
import { maxAbsDiff, minMax, pearson } from '../../../helpers/map-compare';
import { runOnWebgpu, useSwiftShader, webgpuUnavailable } from '../../../helpers/webgpu';

const skip = webgpuUnavailable();
// A torchvision-style ResNet (PyTorch export, opset 11): residual fan-outs (summed gradients), strided 1×1
// downsampling (whose CPU adjoint uses MaxUnpool), MaxPool, BatchNorm folded into the convolutions.
const DIR = path.resolve(import.meta.dirname, '../../../fixtures/torch/resnet');

describe.skipIf(skip !== null)(`the GPU form on WebGPU${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let analysis: GraphAnalysis;
  let tensors: TensorName[];
  let feeds: Record<string, ort.Tensor>;

  const hooked = (form: GraphForm) =>
    buildHookedModel(analysis, tensors, true, { maps: IN_GRAPH_METHODS, exposeActivations: false, exposeGradients: false, form });

  beforeAll(async () => {
    useSwiftShader();
    const model = describeModel(new Uint8Array(readFileSync(path.join(DIR, 'model.onnx'))), 'resnet.onnx', null);
    const input = readNpy(readFileSync(path.join(DIR, 'input.npy')), 'input.npy');
    analysis = await analyzeGraph(model, new Map([['input' as TensorName, input.shape]]));
    tensors = [...new Set(resolveLayers(analysis, ['stages'], 'resnet').map((l) => l.tensor))];
    const seed = new Float32Array(10);
    seed[3] = 1;
    feeds = {
      input: new ort.Tensor('float32', input.data, input.shape),
      [SEED_INPUT]: new ort.Tensor('float32', seed, [1, 10]),
      [TOP_WEIGHT_INPUT]: new ort.Tensor('float32', Float32Array.of(0), []),
    };
  });

  it('places every node of the hooked graph on the GPU, and its maps equal the CPU provider’s', async () => {
    expect(tensors.length).toBe(4);
    const gpu = hooked('gpu');
    const onGpu = await runOnWebgpu(gpu.bytes, feeds);
    expect(onGpu.cpuNodes).toEqual([]);
    expect(onGpu.webgpuNodes).toBeGreaterThan(100);

    const cpu = await ort.InferenceSession.create(gpu.bytes, { executionProviders: ['cpu'] });
    const reference = await cpu.run(feeds);
    await cpu.release();
    let compared = 0;
    for (const [tensor, maps] of gpu.maps) {
      for (const [method, output] of maps) {
        const a = onGpu.outputs[output]?.data as Float32Array;
        const b = reference[output]?.data as Float32Array;
        expect(a.every(Number.isFinite), `${tensor} ${method}`).toBe(true);
        const flat = b.every((v) => v === b[0]);
        if (flat) {
          // A constant map (FEM where no channel stands out) has no correlation to compare: equal values.
          expect(maxAbsDiff(a, b), `${tensor} ${method}`).toBeLessThan(1e-6);
        } else {
          expect(pearson(a, b), `${tensor} ${method}`).toBeGreaterThan(0.99999);
          expect(maxAbsDiff(minMax(a), minMax(b)), `${tensor} ${method}`).toBeLessThan(1e-3);
        }
        compared++;
      }
    }
    // Every method at every stage, but CAM only where the head reads the layer (the last stage), and FinerCAM,
    // whose score is another (its own run, below).
    expect(compared).toBe(4 * (IN_GRAPH_METHODS.length - 2) + 1);
    expect(gpu.unavailable.get(tensors[0] as TensorName)?.get('finercam')).toMatch(/run of its own/);

    // FinerCAM's run: its seed is built from the logits in the graph, on the GPU too.
    const finer = buildHookedModel(analysis, tensors, true, {
      maps: ['finercam'],
      exposeActivations: false,
      exposeGradients: false,
      form: 'gpu',
      target: 'finer',
    });
    const finerOnGpu = await runOnWebgpu(finer.bytes, feeds);
    expect(finerOnGpu.cpuNodes).toEqual([]);
    const finerCpu = await ort.InferenceSession.create(finer.bytes, { executionProviders: ['cpu'] });
    const finerReference = await finerCpu.run(feeds);
    await finerCpu.release();
    for (const maps of finer.maps.values()) {
      const output = maps.get('finercam') as string;
      expect(
        pearson(finerOnGpu.outputs[output]?.data as Float32Array, finerReference[output]?.data as Float32Array),
      ).toBeGreaterThan(0.99999);
    }
  }, 180_000);

  it('would not: the CPU forms put Sum and MaxUnpool, which WebGPU lacks, on the CPU', async () => {
    const placed = await runOnWebgpu(hooked('plain').bytes, feeds);
    const ops = new Set(placed.cpuNodes.map((n) => n.split(' ')[0]));
    expect(ops).toContain('Sum');
    expect(ops).toContain('MaxUnpool');
  }, 180_000);
});
