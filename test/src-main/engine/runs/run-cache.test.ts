import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CamRequestMessage, ModelId, StatsRequestMessage } from '../../../../src-shared/api';
import type { RunId } from '../../../../src-shared/runs';
import { Engine } from '../../../../src-main/engine/engine';

const SAMPLES = 'resources/demo/samples.json';
let file: string;
const engines: Engine[] = [];

async function freshEngine(): Promise<{ engine: Engine; modelId: ModelId }> {
  const engine = await Engine.create({ device: 'cpu', demoSamples: SAMPLES, database: file });
  engines.push(engine);
  const state = await engine.getStartupState();
  return { engine, modelId: state.model?.id as ModelId };
}

const camRequest = (modelId: ModelId, over: Partial<CamRequestMessage> = {}): CamRequestMessage => ({
  modelId,
  image: { kind: 'sample', id: '01-star' },
  methods: ['gradcam', 'hirescam', 'eigencam'],
  classIndex: 'top',
  counterfactual: false,
  jobId: 'j',
  ...over,
});

beforeAll(() => {
  file = path.join(mkdtempSync(path.join(os.tmpdir(), 'layerlens-cache-')), 'runs.db');
});
afterAll(() => engines.forEach((e) => e.dispose()));

describe('runs answered from the database', () => {
  it('a repeated CAM request in a new engine comes from the database without running the model', async () => {
    const first = await freshEngine();
    const computed = await first.engine.computeCam(camRequest(first.modelId));
    expect(computed).toMatchObject({ cached: false });
    expect(computed.run).toBeGreaterThan(0);

    const second = await freshEngine();
    const again = await second.engine.computeCam(camRequest(second.modelId, { methods: ['hirescam', 'eigencam', 'gradcam'] }));
    expect(again).toMatchObject({ cached: true, run: computed.run });
    // No onnxruntime session was created at all: nothing ran.
    expect(second.engine.sessions.size).toBe(0);
    expect(again.result.classIndex).toBe(computed.result.classIndex);
    expect(again.modelView?.rgb).toEqual(computed.modelView?.rgb);
    expect(computed.modelView?.rgb.byteLength).toBe(3 * (computed.modelView?.width ?? 0) * (computed.modelView?.height ?? 0));
    for (const [i, layer] of computed.result.layers.entries()) {
      for (const [method, map] of Object.entries(layer.maps)) {
        expect(again.result.layers[i]?.maps[method as 'gradcam']?.data).toEqual(map.data);
      }
    }
  });

  it('another class, another method set or another preprocessing is a new run', async () => {
    const { engine, modelId } = await freshEngine();
    const base = await engine.computeCam(camRequest(modelId));
    expect(base.cached).toBe(true);
    const other = await engine.computeCam(camRequest(modelId, { classIndex: 0 }));
    expect(other).toMatchObject({ cached: false });
    expect(other.run).not.toBe(base.run);
    expect((await engine.computeCam(camRequest(modelId, { methods: ['gradcam'] }))).cached).toBe(false);
    const summary = (await engine.getStartupState()).model;
    await engine.setPreprocess({ modelId, preprocess: { ...summary!.preprocess, resize: 'letterbox' } });
    expect((await engine.computeCam(camRequest(modelId))).cached).toBe(false);
  });

  it('statistics runs are stored and reopened', async () => {
    const request = (modelId: ModelId): StatsRequestMessage => ({
      modelId,
      images: [
        { kind: 'sample', id: '01-star' },
        { kind: 'sample', id: '02-circle' },
      ],
      layers: null,
      includeParamless: false,
      bins: 40,
      range: [0, 10],
      jobId: 's',
    });
    const first = await freshEngine();
    const computed = await first.engine.computeStats(request(first.modelId));
    expect(computed.cached).toBe(false);
    const second = await freshEngine();
    const again = await second.engine.computeStats(request(second.modelId));
    expect(again).toMatchObject({ cached: true, run: computed.run, images: 2 });
    expect(second.engine.sessions.size).toBe(0);
    expect(again.layers.map((l) => [l.label, l.mean, l.std, l.perImage])).toEqual(
      computed.layers.map((l) => [l.label, l.mean, l.std, l.perImage]),
    );
    expect(again.layers[0]?.imageHists).toEqual(computed.layers[0]?.imageHists);

    const opened = await second.engine.openRun({ id: computed.run as RunId });
    expect(opened.summary).toMatchObject({ kind: 'stats', status: 'complete', inputs: { count: 2 } });
    expect(opened.stats?.layers.length).toBe(computed.layers.length);
  });

  it('lists runs with thumbnails, and an incomplete run can be resumed', async () => {
    const { engine, modelId } = await freshEngine();
    const list = await engine.listRuns({ modelHash: null });
    expect(list.database).toBe(file);
    expect(list.runs.length).toBeGreaterThanOrEqual(4);
    const cam = list.runs.find((r) => r.kind === 'cam');
    expect(cam?.thumbnail?.byteLength).toBeGreaterThan(100);
    expect(list.models).toHaveLength(1);

    // Simulate a run whose process died: same parameters as a fresh request, status incomplete.
    const fresh = await engine.computeCam(camRequest(modelId, { image: { kind: 'sample', id: '02-circle' } }));
    const db = new Database(file);
    db.prepare(`UPDATE runs SET status = 'incomplete' WHERE id = ?`).run(fresh.run);
    db.prepare(`DELETE FROM run_blobs WHERE run_id = ?`).run(fresh.run);
    db.close();
    const other = await freshEngine();
    const resumed = await other.engine.resumeRun({ id: fresh.run as RunId, jobId: 'r' });
    expect(resumed.summary.status).toBe('complete');
    expect(resumed.cam?.result.layers.length).toBe(fresh.result.layers.length);
    await expect(other.engine.openRun({ id: fresh.run as RunId })).rejects.toThrow(/no run/);
  });

  it('the same question asked twice at once is computed once', async () => {
    const { engine, modelId } = await freshEngine();
    const request = camRequest(modelId, { image: { kind: 'sample', id: '04-triangle' }, methods: ['layercam'] });
    const [a, b] = await Promise.all([engine.computeCam(request), engine.computeCam({ ...request, jobId: 'other' })]);
    expect(a.run).toBe(b.run);
    expect([a.cached, b.cached].sort()).toEqual([false, true]);
  });

  it('a database that fails to write costs the run its storage, not its answer', async () => {
    const { engine, modelId } = await freshEngine();
    const store = engine.runs.store!;
    store.finish = () => {
      throw new Error('database or disk is full');
    };
    const answer = await engine.computeCam(camRequest(modelId, { image: { kind: 'sample', id: '05-cross' } }));
    expect(answer).toMatchObject({ cached: false, run: null });
    expect(answer.result.layers.length).toBe(4);
    expect(engine.runs.lastStorageError).toMatch(/disk is full/);
    // The answer itself says so (the studio shows it under the maps).
    expect(answer.notKept).toMatch(/disk is full/);
  });

  it('a run larger than the limit set through the API is answered, not kept, and says why; a kept one says nothing', async () => {
    const { engine, modelId } = await freshEngine();
    const kept = await engine.computeCam(camRequest(modelId, { image: { kind: 'sample', id: '06-hexagon' } }));
    expect(kept.run).not.toBeNull();
    expect(kept).not.toHaveProperty('notKept');
    // 1 MB is the smallest limit; the stored blobs are padded past it (a demo CAM run is ~150 KB).
    expect(await engine.setHistoryLimit({ limitMb: 1 })).toMatchObject({ limitBytes: 1024 * 1024, limitSource: 'preference' });
    const store = engine.runs.store!;
    const finish = store.finish.bind(store);
    store.finish = (id, status, done) =>
      finish(id, status, { ...done, blobs: { ...done.blobs, pad: new Uint8Array(2 * 1024 * 1024) } });
    const refused = await engine.computeCam(camRequest(modelId, { image: { kind: 'sample', id: '07-star' } }));
    expect(refused.run).toBeNull();
    expect(refused.result.layers.length).toBe(4);
    expect(refused.notKept).toMatch(
      /^This run's result is 2\.\d MiB, more than the run history's whole limit of 1\.0 MiB, so it was not kept/,
    );
  });
});
