/**
 * The graph form of a stats run on onnxruntime's WebGPU provider, run on the CPU through SwiftShader's
 * Vulkan driver (Debian's Chromium ships it): its figures equal the CPU provider's, and onnxruntime's
 * profile places every node of the statistics graph on the WebGPU provider (no host round trip). Skipped,
 * with the reason, where SwiftShader or a WebGPU adapter is missing.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../../../src-main/engine/engine';
import { HookedSessions } from '../../../../src-main/engine/hooks/hooked-sessions';
import type { InputTensor } from '../../../../src-main/engine/input-tensor';
import type { PooledSession } from '../../../../src-main/engine/inference/session-pool';
import { readNpy, writeNpy } from '../../../../src-main/engine/npy';
import { runStats, type StatsRequest, type StatsResult } from '../../../../src-main/engine/stats/stats-runner';
import { rng } from '../../../helpers/gradcheck';
import { buildModel, node, valueInfo } from '../../../helpers/onnx-builder';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
// Read when onnxruntime first creates its WebGPU instance, i.e. in this test process, before any session.
if (existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES ??= SWIFTSHADER;

/** Why the WebGPU provider cannot run here, or null. */
async function webgpuMissing(): Promise<string | null> {
  if (!existsSync(SWIFTSHADER)) return `no SwiftShader Vulkan driver at ${SWIFTSHADER} (Debian's chromium package ships it)`;
  if (!ort.listSupportedBackends().some((b) => b.name === 'webgpu')) return 'this onnxruntime-node has no WebGPU provider';
  try {
    // A one-node model: fails here when Vulkan or the adapter cannot be used.
    const probe = await ort.InferenceSession.create(
      buildModel({ inputs: [valueInfo('x', [1])], outputs: [{ name: 'y' }], nodes: [node('Relu', ['x'], ['y'], 'relu')] }),
      { executionProviders: ['webgpu'], logSeverityLevel: 3 },
    );
    await probe.release();
    return null;
  } catch (error) {
    return `the WebGPU provider could not start (${String(error).split('\n')[0]})`;
  }
}

const missing = await webgpuMissing();
let engine: Engine;
let dir: string;
const profiles: string[] = [];

/** Sessions on the WebGPU provider only, each writing an onnxruntime profile (test-only: no device choice yet). */
async function webgpuSession(bytes: Uint8Array): Promise<PooledSession> {
  const prefix = path.join(dir, `profile-${profiles.length}`);
  profiles.push(prefix);
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['webgpu'],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    enableProfiling: true,
    profileFilePrefix: prefix,
  });
  return { session, provider: 'webgpu' as PooledSession['provider'] };
}

function loader(files: string[]) {
  return {
    count: files.length,
    load: async (i: number): Promise<InputTensor> => {
      const npy = readNpy(await readFile(files[i] as string), 'input.npy');
      return { name: 'input.npy', data: npy.data, shape: npy.shape };
    },
  };
}

/** Node placements from onnxruntime's profile (Chrome trace): the `*_kernel_time` events name the provider. */
async function placements(prefix: string): Promise<{ node: string; op: string; provider: string }[]> {
  const name = (await readdir(dir)).find((f) => path.join(dir, f).startsWith(prefix) && f.endsWith('.json'));
  if (!name) throw new Error(`no profile written for ${prefix}`);
  const events = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as {
    cat: string;
    name: string;
    args?: { op_name?: string; provider?: string };
  }[];
  return events
    .filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'))
    .map((e) => ({ node: e.name.replace(/_kernel_time$/, ''), op: e.args?.op_name ?? '', provider: e.args?.provider ?? '' }));
}

beforeAll(async () => {
  if (missing) return;
  engine = await Engine.create({ device: 'cpu' });
  dir = await mkdtemp(path.join(tmpdir(), 'layerlens-stats-webgpu-'));
});
afterAll(() => engine?.dispose());

describe.skipIf(missing !== null)(
  `statistics on the WebGPU provider (SwiftShader)${missing ? ` — skipped: ${missing}` : ''}`,
  () => {
    it('equal the CPU provider’s, with every node of the statistics graph on the GPU', async () => {
      const fixture = 'test/fixtures/torch/resnet';
      const model = await engine.models.openPath(`${fixture}/model.onnx`);
      const random = rng(9);
      const files = [`${fixture}/input.npy`];
      const input = readNpy(await readFile(files[0] as string), 'input.npy');
      for (let i = 0; i < 1; i++) {
        const file = path.join(dir, `input-${i}.npy`);
        await writeFile(
          file,
          writeNpy(
            input.data.map((v) => v + (random() - 0.5)),
            input.shape,
          ),
        );
        files.push(file);
      }
      let session: PooledSession | null = null;
      const deps = {
        analysis: (m: typeof model, shape: number[]) => engine.analysis(m, shape),
        hooked: new HookedSessions(async () => {
          throw new Error('the graph form must not expose activations');
        }),
        session: async (_key: string, bytes: () => Uint8Array) => (session = await webgpuSession(bytes())),
        onCpu: () => false,
      };
      for (const range of [{ kind: 'fixed', lo: 0, hi: 10 } as const, { kind: 'auto' } as const]) {
        const req: StatsRequest = { layers: null, includeParamless: true, bins: 40, range };
        const gpu = await runStats(deps, model, loader(files), req);
        const cpu = await engine.statsFiles(model, files, { ...req, form: 'graph' });
        expect(gpu.form).toBe('graph');
        expect(gpu.provider).toBe('webgpu');
        expect(cpu.provider).toBe('cpu');
        sameFigures(gpu, cpu);
        const prefix = profiles[profiles.length - 1] as string;
        await (session as PooledSession | null)?.session.release();
        const placed = await placements(prefix);
        const statsNodes = placed.filter((p) => p.node.startsWith('layerlens/stats/'));
        // Per layer at least the three reductions, the histogram's matrix product and the hi count.
        expect(new Set(statsNodes.map((p) => p.op))).toEqual(
          new Set([
            'Reshape',
            'ReduceSum',
            'ReduceSumSquare',
            'Less',
            'Cast',
            'Sub',
            'Mul',
            'Floor',
            'Equal',
            'MatMul',
            ...(range.kind === 'auto' ? ['ReduceMin', 'ReduceMax'] : []),
          ]),
        );
        expect(statsNodes.filter((p) => p.provider !== 'WebGpuExecutionProvider')).toEqual([]);
        expect(placed.filter((p) => p.op.startsWith('Memcpy'))).toEqual([]);
      }
    }, 120_000);
  },
);

/**
 * The two providers' convolutions round differently, so their activations differ by float32 rounding:
 * sums and ranges agree to 1e-5, and a count may differ only by values that sit within that rounding of
 * a threshold (a bin edge, 0.05) — at most 1 in 10⁴ of them here.
 */
function sameFigures(a: StatsResult, b: StatsResult): void {
  expect(a.images).toBe(b.images);
  expect(a.layers.map((l) => l.label)).toEqual(b.layers.map((l) => l.label));
  a.layers.forEach((layer, k) => {
    const x = layer.stats;
    const y = (b.layers[k] as StatsResult['layers'][number]).stats;
    const close = (p: number, q: number) => expect(Math.abs(p - q)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(q)));
    const counts = Math.max(2, 1e-4 * y.count);
    close(x.range[0], y.range[0]);
    close(x.range[1], y.range[1]);
    expect(x.hist.reduce((s, h, i) => s + Math.abs(h - (y.hist[i] as number)), 0)).toBeLessThanOrEqual(counts);
    expect(Math.abs(x.outside - y.outside)).toBeLessThanOrEqual(counts);
    expect(Math.abs(x.nearZero - y.nearZero) * y.count).toBeLessThanOrEqual(counts);
    expect(x.count).toBe(y.count);
    close(x.mean, y.mean);
    close(x.std, y.std);
    x.channelMean.forEach((m, c) => close(m, y.channelMean[c] as number));
    x.perImage.forEach((p, i) => close(p.std, y.perImage[i]?.std as number));
  });
}
