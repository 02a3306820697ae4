/**
 * Device choice: WebGPU where asked (SwiftShader here), the CPU with a one-line reason where WebGPU cannot
 * run, and `auto` never on a software adapter.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { SessionPool } from '../../../../src-main/engine/inference/session-pool';
import { useSwiftShader, webgpuUnavailable } from '../../../helpers/webgpu';

const demo = { path: path.resolve(import.meta.dirname, '../../../../resources/demo/layerlens-demo.onnx') };
const input = () => ({ input: new ort.Tensor('float32', new Float32Array(3 * 96 * 96).fill(0.1), [1, 3, 96, 96]) });
const skip = webgpuUnavailable();

describe('the session pool’s devices', () => {
  it('runs on the CPU provider when asked', async () => {
    const pool = new SessionPool();
    const pooled = await pool.get('demo', demo, 'cpu', 'demo');
    expect(pooled.provider).toBe('cpu');
    expect(pooled.fallback).toBeUndefined();
    pool.clear();
  });

  it.skipIf(skip !== null)('auto does not take a software adapter: CPU, and it says why', async () => {
    useSwiftShader();
    const pool = new SessionPool();
    expect(pool.expected('auto')).toEqual({ provider: 'cpu', why: expect.stringMatching(/^no hardware GPU for WebGPU: /) });
    const pooled = await pool.get('demo', demo, 'auto', 'demo');
    expect(pooled.provider).toBe('cpu');
    expect(pooled.fallback).toMatch(/^no hardware GPU for WebGPU: (no GPU is visible|only a software Vulkan driver)/);
    pool.clear();
  });

  it.skipIf(skip !== null)(
    'webgpu runs the model on WebGPU (SwiftShader) with the CPU provider’s answer',
    async () => {
      useSwiftShader();
      const pool = new SessionPool();
      const gpu = await pool.get('demo', demo, 'webgpu', 'demo');
      const cpu = await pool.get('demo', demo, 'cpu', 'demo');
      expect(gpu.provider).toBe('webgpu');
      const [a, b] = [await gpu.session.run(input()), await cpu.session.run(input())];
      const [x, y] = [a.logits?.data as Float32Array, b.logits?.data as Float32Array];
      for (let i = 0; i < x.length; i++) expect(x[i]).toBeCloseTo(y[i] as number, 4);
      expect(gpu.provider).toBe('webgpu');
      pool.clear();
    },
    120_000,
  );

  it('a model onnxruntime rejects is the model’s error on every device, not a GPU failure', async () => {
    const pool = new SessionPool();
    const broken = { bytes: new Uint8Array(readFileSync(demo.path)).slice(0, 5000) };
    await expect(pool.get('broken', broken, 'webgpu', 'broken.onnx')).rejects.toThrow(/^onnxruntime cannot load broken\.onnx: /);
    pool.clear();
  });
});

describe('the session pool’s leases', () => {
  // Two sessions of the demo do not fit: each is weighed at twice the file's bytes.
  const demoBytes = () => ({ bytes: new Uint8Array(readFileSync(demo.path)) });
  const roomForOne = 3 * readFileSync(demo.path).byteLength;

  it('a session held across runs still runs after the byte budget evicted it (made again, not a released one)', async () => {
    const pool = new SessionPool(8, roomForOne);
    const held = await pool.get('a', demo, 'cpu', 'demo');
    const before = (await held.session.run(input())).logits?.data as Float32Array;
    await pool.get('b', demoBytes, 'cpu', 'demo');
    expect(pool.size).toBe(1);
    // The bench held the plain session like this and got "Session already disposed".
    const after = (await held.session.run(input())).logits?.data as Float32Array;
    expect([...after]).toEqual([...before]);
    pool.clear();
  });

  it('a run in flight keeps its session: eviction releases it only when the run ends', async () => {
    const pool = new SessionPool(8, roomForOne);
    const held = await pool.get('a', demo, 'cpu', 'demo');
    const running = held.session.run(input());
    const other = pool.get('b', demoBytes, 'cpu', 'demo');
    expect(pool.draining).toBe(1);
    await expect(running).resolves.toHaveProperty('logits');
    expect(pool.draining).toBe(0);
    await (await other).session.run(input());
    pool.clear();
  });

  it('asking again for a cached key gives the same session; a failed creation is asked again next time', async () => {
    const pool = new SessionPool();
    const [a, b] = await Promise.all([pool.get('a', demo, 'cpu', 'demo'), pool.get('a', demo, 'cpu', 'demo')]);
    expect(a).toBe(b);
    const missing = { path: path.join(import.meta.dirname, 'no-such.onnx') };
    await expect(pool.get('m', missing, 'cpu', 'missing.onnx')).rejects.toThrow(/cannot load missing\.onnx/);
    expect(pool.size).toBe(1);
    pool.clear();
  });
});
