/**
 * One user action is one run (issue 18 item 7): a slow pane's maps, asked for after the action's fast answer,
 * are stored as a part of that run — merged into its result, answered from it, resumable when interrupted.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { CamRequestMessage, ModelId } from '../../../../src-shared/api';
import type { RunId } from '../../../../src-shared/runs';
import { Engine } from '../../../../src-main/engine/engine';
import { RunStore } from '../../../../src-main/engine/runs/run-store';

const SAMPLES = 'resources/demo/samples.json';
const engines: Engine[] = [];
const tempDb = (): string => path.join(mkdtempSync(path.join(os.tmpdir(), 'layerlens-parts-')), 'runs.db');

async function freshEngine(database: string): Promise<{ engine: Engine; modelId: ModelId }> {
  const engine = await Engine.create({ device: 'cpu', demoSamples: SAMPLES, database });
  engines.push(engine);
  const state = await engine.getStartupState();
  return { engine, modelId: state.model?.id as ModelId };
}

afterAll(() => engines.forEach((e) => e.dispose()));

const request = (modelId: ModelId, sample: string, over: Partial<CamRequestMessage> = {}): CamRequestMessage => ({
  modelId,
  image: { kind: 'sample', id: sample },
  methods: ['cam', 'gradcam'],
  classIndex: 'top',
  counterfactual: false,
  jobId: 'j',
  ...over,
});

const slowPane = (layer: string, method: 'scorecam' | 'ablationcam', run: RunId | null) => ({
  layers: [layer],
  methods: [method],
  ...(run === null ? {} : { addToRun: run }),
});

describe('one action, one run', () => {
  it('slow panes join the run of their fast answer: one run holding every map, each answered from it', async () => {
    const db = tempDb();
    const { engine, modelId } = await freshEngine(db);
    const fast = await engine.computeCam(request(modelId, '03-square'));
    const run = fast.run as RunId;
    expect(run).toBeGreaterThan(0);
    const score = await engine.computeCam(request(modelId, '03-square', slowPane('layer2', 'scorecam', run)));
    const ablation = await engine.computeCam(request(modelId, '03-square', slowPane('layer4', 'ablationcam', run)));
    expect(score).toMatchObject({ cached: false, run });
    expect(ablation).toMatchObject({ cached: false, run });

    const list = await engine.listRuns({ modelHash: null });
    expect(list.runs.map((r) => r.id)).toEqual([run]);
    const summary = list.runs[0];
    expect(summary?.status).toBe('complete');
    expect(summary?.kind === 'cam' && summary.params.added).toEqual([
      { layers: ['layer2'], methods: ['scorecam'], status: 'complete' },
      { layers: ['layer4'], methods: ['ablationcam'], status: 'complete' },
    ]);
    expect(summary?.durationMs).toBeGreaterThan(0);

    // Reopened, the run has the fast maps of every stage and the slow ones where the panes asked.
    const opened = await engine.openRun({ id: run });
    const layer = (label: string) => opened.cam?.result.layers.find((l) => l.label === label);
    expect(Object.keys(layer('layer2')?.maps ?? {}).sort()).toEqual(['gradcam', 'scorecam']);
    expect(Object.keys(layer('layer4')?.maps ?? {}).sort()).toEqual(['ablationcam', 'cam', 'gradcam']);
    expect(layer('layer2')?.maps.scorecam?.data).toEqual(score.result.layers[0]?.maps.scorecam?.data);
    expect(layer('layer4')?.maps.ablationcam?.data).toEqual(ablation.result.layers[0]?.maps.ablationcam?.data);
    expect(layer('layer2')?.maps.gradcam?.data).toEqual(fast.result.layers[1]?.maps.gradcam?.data);

    // A new engine (nothing in memory): each question is answered from the run with exactly what it asked.
    const other = await freshEngine(db);
    const fastAgain = await other.engine.computeCam(request(other.modelId, '03-square'));
    expect(fastAgain).toMatchObject({ cached: true, run });
    expect(fastAgain.result.layers.map((l) => Object.keys(l.maps).sort().join())).toEqual(
      fast.result.layers.map((l) => Object.keys(l.maps).sort().join()),
    );
    const scoreAgain = await other.engine.computeCam(request(other.modelId, '03-square', slowPane('layer2', 'scorecam', null)));
    expect(scoreAgain).toMatchObject({ cached: true, run });
    expect(scoreAgain.result.layers.map((l) => [l.label, Object.keys(l.maps)])).toEqual([['layer2', ['scorecam']]]);
    expect(other.engine.sessions.size).toBe(0);
  });

  it('a fast method asked for later joins the run at every stage', async () => {
    const { engine, modelId } = await freshEngine(tempDb());
    const fast = await engine.computeCam(request(modelId, '07-star'));
    const more = await engine.computeCam(
      request(modelId, '07-star', { methods: ['cam', 'fem', 'gradcam'], addToRun: fast.run! }),
    );
    expect(more).toMatchObject({ cached: false, run: fast.run });
    const opened = await engine.openRun({ id: fast.run as RunId });
    expect(opened.cam?.result.layers.map((l) => Object.keys(l.maps).includes('fem'))).toEqual([true, true, true, true]);
    expect(opened.summary.kind === 'cam' && opened.summary.params.added).toEqual([
      { layers: ['stages'], methods: ['cam', 'fem', 'gradcam'], status: 'complete' },
    ]);
    expect((await engine.listRuns({ modelHash: null })).runs).toHaveLength(1);
  });

  it('an answer already in another run joins the action without being computed again', async () => {
    const { engine, modelId } = await freshEngine(tempDb());
    // The CLI's `cam --layers layer3 --methods scorecam` first: a run of its own.
    const alone = await engine.computeCam(request(modelId, '04-triangle', slowPane('layer3', 'scorecam', null)));
    const fast = await engine.computeCam(request(modelId, '04-triangle'));
    const joined = await engine.computeCam(request(modelId, '04-triangle', slowPane('layer3', 'scorecam', fast.run)));
    expect(joined).toMatchObject({ cached: true, run: fast.run });
    const opened = await engine.openRun({ id: fast.run as RunId });
    expect(opened.cam?.result.layers.find((l) => l.label === 'layer3')?.maps.scorecam?.data).toEqual(
      alone.result.layers[0]?.maps.scorecam?.data,
    );
    expect((await engine.listRuns({ modelHash: null })).runs).toHaveLength(2);
  });

  it('maps of another class or image cannot be added to a run; a deleted run makes a run of its own', async () => {
    const { engine, modelId } = await freshEngine(tempDb());
    const fast = await engine.computeCam(request(modelId, '05-cross'));
    const run = fast.run as RunId;
    await expect(
      engine.computeCam(request(modelId, '05-cross', { ...slowPane('layer4', 'scorecam', run), classIndex: 1 })),
    ).rejects.toThrow(/another class/);
    await expect(engine.computeCam(request(modelId, '06-hexagon', slowPane('layer4', 'scorecam', run)))).rejects.toThrow(
      /another model or image/,
    );
    await engine.deleteRuns({ ids: [run] });
    const alone = await engine.computeCam(request(modelId, '05-cross', slowPane('layer4', 'scorecam', run)));
    expect(alone.run).not.toBe(run);
    expect(alone.run).toBeGreaterThan(0);
  });

  it('a part whose process died leaves the run interrupted with its fast maps; resuming computes only that part', async () => {
    const db = tempDb();
    const { engine, modelId } = await freshEngine(db);
    const fast = await engine.computeCam(request(modelId, '02-circle'));
    const run = fast.run as RunId;
    const key = (await engine.computeCam(request(modelId, '02-circle', slowPane('layer1', 'scorecam', null)))).key;
    await engine.deleteRuns({ ids: [(await engine.listRuns({ modelHash: null })).runs.find((r) => r.key === key)!.id] });
    // ScoreCAM for the layer1 pane was being computed when the app was killed (pid above Linux's pid_max).
    const store = RunStore.open(db);
    store.beginPart(run, { key, params: { layers: ['layer1'], methods: ['scorecam'] }, modelHash: '', inputHashes: [] });
    store.close();
    const sql = new Database(db);
    sql.prepare(`UPDATE run_parts SET owner_pid = 99999999 WHERE run_id = ?`).run(run);
    sql.close();

    const after = await freshEngine(db);
    const interrupted = await after.engine.openRun({ id: run });
    expect(interrupted.summary.status).toBe('incomplete');
    expect(interrupted.summary.kind === 'cam' && interrupted.summary.params.added?.[0]?.status).toBe('incomplete');
    // Nothing finished is lost: the fast maps reopen as they were.
    expect(interrupted.cam?.result.layers[0]?.maps.gradcam?.data).toEqual(fast.result.layers[0]?.maps.gradcam?.data);
    expect(interrupted.cam?.result.layers[0]?.maps.scorecam).toBeUndefined();

    const resumed = await after.engine.resumeRun({ id: run, jobId: 'r' });
    expect(resumed.summary).toMatchObject({ id: run, status: 'complete' });
    expect(resumed.cam?.result.layers[0]?.maps.scorecam?.data.length).toBeGreaterThan(0);
    expect((await after.engine.listRuns({ modelHash: null })).runs.map((r) => r.id)).toEqual([run]);
  });

  it('a part finished after its run was deleted writes nothing', () => {
    const store = RunStore.open(tempDb());
    store.recordModel({ hash: 'm', name: 'm.onnx', path: null, sizeBytes: 1, opset: 17, summary: {} });
    store.recordInput({ hash: 'i', name: 'a.png', source: {}, preprocess: {}, thumbnail: null });
    const id = store.begin({ key: 'k', kind: 'cam', modelHash: 'm', params: {}, inputHashes: ['i'] });
    store.finish(id, 'complete', { blobs: { result: new Uint8Array([1]) }, durationMs: 1, provider: 'cpu' });
    expect(store.canAddTo(id, { modelHash: 'm', inputHashes: ['i'] })).toBe(true);
    store.beginPart(id, { key: 'p', params: {}, modelHash: 'm', inputHashes: ['i'] });
    expect(store.summary(id).status).toBe('running');
    expect(store.findComplete('p')).toBeNull();
    expect(store.finishPart(id, 'p', (r) => Uint8Array.of(...r, 2), 5)).toBe(true);
    expect(store.findComplete('p')).toBe(id);
    expect(store.holds(id, 'p')).toBe(true);
    expect(store.summary(id)).toMatchObject({ status: 'complete', sizeBytes: 2, durationMs: 6 });
    store.beginPart(id, { key: 'q', params: {}, modelHash: 'm', inputHashes: ['i'] });
    store.delete([id]);
    expect(store.finishPart(id, 'q', (r) => r, 5)).toBe(false);
    expect(store.canAddTo(id, { modelHash: 'm', inputHashes: ['i'] })).toBe(false);
    store.close();
  });
});
