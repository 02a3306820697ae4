import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { RunId } from '../../../../src-shared/runs';
import { openRunDatabase } from '../../../../src-main/engine/runs/database';
import { MIGRATIONS, SCHEMA_VERSION } from '../../../../src-main/engine/runs/migrations';
import { RunStore } from '../../../../src-main/engine/runs/run-store';

const tempDb = (): string => path.join(mkdtempSync(path.join(os.tmpdir(), 'layerlens-store-')), 'runs.db');

function seed(store: RunStore, key: string, model = 'a'.repeat(64)): RunId {
  store.recordModel({ hash: model, name: 'm.onnx', path: '/models/m.onnx', sizeBytes: 10, opset: 17, summary: {} });
  store.recordInput({
    hash: `${key}-in`,
    name: 'cat.png',
    source: { kind: 'path', path: '/x/cat.png' },
    preprocess: {},
    thumbnail: null,
  });
  return store.begin({ key, kind: 'cam', modelHash: model, params: { layers: ['stages'] }, inputHashes: [`${key}-in`] });
}

describe('run database schema', () => {
  it('creates the current schema in WAL mode', () => {
    const db = openRunDatabase(tempDb());
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('migrates a database from an older schema version, keeping its runs', () => {
    const file = tempDb();
    // A database as the first released schema left it, with one finished run.
    const old = openRunDatabase(file, MIGRATIONS.slice(0, 1));
    expect(old.pragma('user_version', { simple: true })).toBe(1);
    old.exec(`INSERT INTO models VALUES ('${'b'.repeat(64)}', 'old.onnx', NULL, 5, 13, '{}', 1, 1)`);
    old
      .prepare(
        `INSERT INTO runs (key, kind, model_hash, params, status, created_at, engine_version, result_bytes, owner_host, owner_pid)
         VALUES ('k', 'cam', ?, '{"layers":["stages"]}', 'complete', 1000, '0.0.1', 3, 'h', 1)`,
      )
      .run('b'.repeat(64));
    old.prepare(`INSERT INTO run_blobs VALUES (1, 'result', ?)`).run(Buffer.from([1, 2, 3]));
    old.close();

    const store = RunStore.open(file);
    const [run] = store.list().runs;
    expect(run).toMatchObject({ id: 1, status: 'complete', name: null, pinned: false, model: { name: 'old.onnx' } });
    expect([...(store.blobs(1 as RunId).get('result') ?? [])]).toEqual([1, 2, 3]);
    // The columns the newer schema added work on the migrated rows.
    expect(store.update(1 as RunId, { name: 'baseline', pinned: true })).toMatchObject({ name: 'baseline', pinned: true });
    store.close();
    const db = new Database(file);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('stores trust runs after migrating a schema-2 database, keeping inputs, blobs, cascades and run ids', () => {
    const file = tempDb();
    const old = openRunDatabase(file, MIGRATIONS.slice(0, 2));
    old.exec(`INSERT INTO models VALUES ('${'b'.repeat(64)}', 'old.onnx', NULL, 5, 13, '{}', 1, 1)`);
    old.exec(`INSERT INTO inputs VALUES ('in', 'cat.png', '{}', '{}', NULL, 1)`);
    const insert = old.prepare(
      `INSERT INTO runs (key, kind, model_hash, params, status, created_at, engine_version, result_bytes, owner_host, owner_pid)
       VALUES (?, 'cam', ?, '{}', 'complete', 1000, '0.0.1', 2, 'h', 1)`,
    );
    insert.run('kept', 'b'.repeat(64));
    insert.run('gone', 'b'.repeat(64));
    old.exec(`INSERT INTO run_inputs VALUES (1, 0, 'in')`);
    old.prepare(`INSERT INTO run_blobs VALUES (1, 'result', ?)`).run(Buffer.from([7, 8]));
    old.exec('DELETE FROM runs WHERE id = 2');
    old.close();

    const store = RunStore.open(file);
    expect(store.list().runs.map((r) => [r.id, r.inputs.first])).toEqual([[1, 'cat.png']]);
    expect([...(store.blobs(1 as RunId).get('result') ?? [])]).toEqual([7, 8]);
    // A deleted run's id is not handed out again, and the kind is no longer limited to cam and stats.
    const trust = store.begin({
      key: 't',
      kind: 'trust',
      modelHash: 'b'.repeat(64),
      params: { sanity: true },
      inputHashes: ['in'],
    });
    expect(trust).toBe(3);
    expect(store.summary(trust)).toMatchObject({ kind: 'trust', params: { sanity: true } });
    // Deleting a run still deletes its blobs and inputs (the rebuilt tables kept ON DELETE CASCADE).
    store.delete([1 as RunId]);
    store.close();
    const db = new Database(file);
    expect(db.prepare('SELECT COUNT(*) AS n FROM run_blobs').get()).toEqual({ n: 0 });
    expect(db.prepare('SELECT COUNT(*) AS n FROM run_inputs WHERE run_id = 1').get()).toEqual({ n: 0 });
    expect(db.pragma('foreign_key_check')).toEqual([]);
    db.close();
  });

  it('refuses a database written by a newer LayerLens, saying what to do', () => {
    const file = tempDb();
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    expect(() => RunStore.open(file)).toThrow(/newer LayerLens.*update LayerLens, or pass --db/);
  });

  it('reports a file that is not a database instead of crashing', () => {
    const file = tempDb();
    writeFileSync(file, 'this is not sqlite, just text that is long enough to have a header '.repeat(20));
    expect(() => RunStore.open(file)).toThrow(/Cannot use .* as the run database.*move the file away/);
  });
});

describe('run store', () => {
  it('answers a finished run by key, and only a finished one', () => {
    const store = RunStore.open(tempDb());
    const id = seed(store, 'k1');
    expect(store.findComplete('k1')).toBeNull();
    store.finish(id, 'complete', { blobs: { result: new Uint8Array([9, 8]) }, durationMs: 12, provider: 'cpu' });
    expect(store.findComplete('k1')).toBe(id);
    const cancelled = seed(store, 'k2');
    store.finish(cancelled, 'cancelled', { blobs: { result: new Uint8Array([1]) }, durationMs: 1, provider: 'cpu' });
    expect(store.findComplete('k2')).toBeNull();
    const summary = store.summary(id);
    expect(summary).toMatchObject({
      kind: 'cam',
      status: 'complete',
      sizeBytes: 2,
      durationMs: 12,
      inputs: { count: 1, first: 'cat.png' },
    });
    store.close();
  });

  it('marks runs of a dead process incomplete at open, and leaves live ones alone', () => {
    const file = tempDb();
    const store = RunStore.open(file);
    const mine = seed(store, 'live');
    const orphan = seed(store, 'dead');
    store.close();
    const db = new Database(file);
    // A pid that cannot exist on Linux (above pid_max).
    db.prepare(`UPDATE runs SET owner_pid = 99999999 WHERE id = ?`).run(orphan);
    db.close();
    const reopened = RunStore.open(file);
    expect(reopened.summary(orphan).status).toBe('incomplete');
    expect(reopened.summary(mine).status).toBe('running');
    reopened.close();
  });

  it('renames, pins, deletes and prunes; pinned runs survive pruning; unused inputs go too', () => {
    const store = RunStore.open(tempDb());
    const ids = ['a', 'b', 'c'].map((k) => {
      const id = seed(store, k);
      store.finish(id, 'complete', { blobs: { result: new Uint8Array(100) }, durationMs: 1, provider: 'cpu' });
      return id;
    });
    const unfinished = seed(store, 'u');
    store.finish(unfinished, 'cancelled', { blobs: {}, durationMs: 1, provider: 'cpu' });
    store.update(ids[0] as RunId, { pinned: true, name: '  keep me ' });
    expect(store.summary(ids[0] as RunId).name).toBe('keep me');
    expect(store.prune({ olderThanDays: null, unfinished: true, all: false })).toEqual({ deleted: 1, freedBytes: 0 });
    expect(store.delete([ids[1] as RunId])).toEqual({ deleted: 1, freedBytes: 100 });
    expect(store.prune({ olderThanDays: 0, unfinished: false, all: false }).deleted).toBe(1);
    expect(store.list().runs.map((r) => r.id)).toEqual([ids[0]]);
    expect(store.hasInput('b-in')).toBe(false);
    expect(store.hasInput('a-in')).toBe(true);
    expect(store.prune({ olderThanDays: null, unfinished: false, all: true }).deleted).toBe(0);
    store.close();
  });

  it('prunes by an age of any size: 1e308 days is older than every run, not an SQL error', () => {
    const store = RunStore.open(tempDb());
    const id = seed(store, 'old');
    store.finish(id, 'complete', { blobs: { result: new Uint8Array(10) }, durationMs: 1, provider: 'cpu' });
    expect(store.prune({ olderThanDays: 1e308, unfinished: false, all: false })).toEqual({ deleted: 0, freedBytes: 0 });
    expect(store.prune({ olderThanDays: Number.MAX_VALUE, unfinished: false, all: false }).deleted).toBe(0);
    expect(store.list().runs.map((r) => r.id)).toEqual([id]);
    store.close();
  });

  const KB = 1024;
  /** What an empty database with its schema takes: the limits below are that plus room for runs. */
  const emptyBytes = (): number => {
    const store = RunStore.open(tempDb());
    const bytes = store.usedBytes();
    store.close();
    return bytes;
  };

  it('stays under its size limit by dropping the oldest unpinned runs', () => {
    const store = RunStore.open(tempDb(), { maxBytes: emptyBytes() + 700 * KB });
    const ids = ['1', '2', '3', '4'].map((k, i) => {
      const id = seed(store, k);
      if (i === 0) store.update(id, { pinned: true });
      store.finish(id, 'complete', { blobs: { result: new Uint8Array(200 * KB) }, durationMs: 1, provider: 'cpu' });
      return id;
    });
    const left = store
      .list()
      .runs.map((r) => r.id)
      .sort();
    expect(left).toEqual([ids[0], ids[2], ids[3]]);
    expect(store.usedBytes()).toBeLessThanOrEqual(store.maxBytes);
    store.close();
  });

  it('counts everything in the database toward the limit, thumbnails included', () => {
    const store = RunStore.open(tempDb(), { maxBytes: emptyBytes() + 700 * KB });
    const ids = ['1', '2', '3', '4', '5'].map((k) => {
      const id = seed(store, k);
      // A tiny result, but a large picture of its input: the old limit counted results only.
      store.recordInput({
        hash: `${k}-in`,
        name: 'big.png',
        source: {},
        preprocess: {},
        thumbnail: new Uint8Array(200 * KB).fill(7),
      });
      store.finish(id, 'complete', { blobs: { result: new Uint8Array(10) }, durationMs: 1, provider: 'cpu' });
      return id;
    });
    expect(store.usedBytes()).toBeLessThanOrEqual(store.maxBytes);
    const left = store.list().runs.map((r) => r.id);
    expect(left.length).toBeLessThan(ids.length);
    expect(left).toContain(ids[4]);
    store.close();
  });

  it('refuses to keep a run larger than the whole limit, saying so, and keeps the others', () => {
    const store = RunStore.open(tempDb(), { maxBytes: emptyBytes() + 300 * KB });
    const small = seed(store, 'small');
    store.finish(small, 'complete', { blobs: { result: new Uint8Array(10 * KB) }, durationMs: 1, provider: 'cpu' });
    const huge = seed(store, 'huge');
    expect(() =>
      store.finish(huge, 'complete', { blobs: { result: new Uint8Array(store.maxBytes + 1) }, durationMs: 1, provider: 'cpu' }),
    ).toThrow(/This run's result is .* more than the run history's whole limit of .*, so it was not kept; raise the limit/);
    expect(store.list().runs.map((r) => r.id)).toEqual([small]);
    store.close();
  });

  it('keeps the limit set in the studio for later sessions; a flag or the environment wins for its process', () => {
    const file = tempDb();
    const store = RunStore.open(file);
    expect([store.maxBytes, store.limitSource]).toEqual([2 * 1024 ** 3, 'default']);
    store.setLimit(64 * 1024 * KB);
    expect([store.maxBytes, store.limitSource]).toEqual([64 * 1024 * KB, 'preference']);
    store.close();
    const reopened = RunStore.open(file);
    expect([reopened.maxBytes, reopened.limitSource]).toEqual([64 * 1024 * KB, 'preference']);
    reopened.close();
    const flagged = RunStore.open(file, { given: { bytes: 8 * 1024 * KB, source: 'flag' } });
    expect([flagged.maxBytes, flagged.limitSource]).toEqual([8 * 1024 * KB, 'flag']);
    // Set again in the studio, it applies at once; forgotten, the flag's is back.
    flagged.setLimit(16 * 1024 * KB);
    expect([flagged.maxBytes, flagged.limitSource]).toEqual([16 * 1024 * KB, 'preference']);
    flagged.setLimit(null);
    expect([flagged.maxBytes, flagged.limitSource]).toEqual([8 * 1024 * KB, 'flag']);
    flagged.close();
    const plain = RunStore.open(file);
    expect(plain.limitSource).toBe('default');
    plain.close();
  });

  it('a lowered limit applies to the next run stored, without reopening', () => {
    const store = RunStore.open(tempDb());
    const first = seed(store, 'first');
    store.finish(first, 'complete', { blobs: { result: new Uint8Array(600 * KB) }, durationMs: 1, provider: 'cpu' });
    store.setLimit(emptyBytes() + 300 * KB);
    const second = seed(store, 'second');
    expect(() =>
      store.finish(second, 'complete', { blobs: { result: new Uint8Array(400 * KB) }, durationMs: 1, provider: 'cpu' }),
    ).toThrow(/not kept/);
    const third = seed(store, 'third');
    store.finish(third, 'complete', { blobs: { result: new Uint8Array(100 * KB) }, durationMs: 1, provider: 'cpu' });
    expect(store.list().runs.map((r) => r.id)).toEqual([third]);
    store.close();
  });
});
