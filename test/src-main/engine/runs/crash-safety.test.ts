import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { RunId } from '../../../../src-shared/runs';
import { RunStore } from '../../../../src-main/engine/runs/run-store';
import { runPayload } from './crash-payload';

/** Starts the writer and SIGKILLs it a moment after it began run `killDuring`. */
function killMidRun(file: string, killDuring: number, delayMs: number): Promise<{ finished: number[]; begun: number[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'crash-writer.ts'), file], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const finished: number[] = [];
  const begun: number[] = [];
  let buffer = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const [what, id] = buffer.slice(0, newline).split(' ');
        buffer = buffer.slice(newline + 1);
        if (what === 'finished') finished.push(Number(id));
        if (what === 'begun') {
          begun.push(Number(id));
          if (Number(id) === killDuring) setTimeout(() => child.kill('SIGKILL'), delayMs);
        }
      }
    });
    child.once('error', reject);
    child.once('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited by itself (${signal})`));
      else resolve({ finished, begun });
    });
  });
}

describe('crash safety', () => {
  it('kill -9 while a run is written: the database is intact, earlier runs too, the interrupted one is incomplete', async () => {
    let interrupted = 0;
    for (const delayMs of [0, 15, 40]) {
      const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'layerlens-crash-')), 'runs.db');
      const { finished } = await killMidRun(file, 4, delayMs);
      expect(finished.length).toBeGreaterThanOrEqual(3);

      const db = new Database(file, { readonly: true });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();

      const store = RunStore.open(file);
      const runs = store.list().runs;
      expect(runs.some((r) => r.status === 'running')).toBe(false);
      // Every run is either complete with every blob intact, or incomplete with none: never half written.
      // (A run committed just before the kill may have missed announcing it: complete, not in `finished`.)
      for (const run of runs) {
        const blobs = store.blobs(run.id);
        if (run.status === 'complete') {
          for (const [name, data] of Object.entries(runPayload(run.id)))
            expect(Buffer.compare(blobs.get(name) as Uint8Array, data)).toBe(0);
        } else {
          expect(run.status).toBe('incomplete');
          expect(blobs.size).toBe(0);
        }
      }
      for (const id of finished) expect(store.summary(id as RunId).status).toBe('complete');
      // At most the one run being written when the kill came is left incomplete, and it is the newest.
      const incomplete = runs.filter((r) => r.status === 'incomplete');
      expect(incomplete.length).toBeLessThanOrEqual(1);
      if (incomplete[0]) expect(incomplete[0].id).toBe(Math.max(...runs.map((r) => r.id)));
      interrupted += incomplete.length;
      store.close();
    }
    // The payload is large enough that the kill lands inside a write at least once in three tries.
    expect(interrupted).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
