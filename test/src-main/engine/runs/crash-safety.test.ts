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
      for (const id of finished) {
        const blobs = store.blobs(id as RunId);
        const expected = runPayload(id);
        expect(store.summary(id as RunId).status).toBe('complete');
        for (const [name, data] of Object.entries(expected)) expect(Buffer.compare(blobs.get(name) as Uint8Array, data)).toBe(0);
      }
      // Exactly the run that was being written is left, marked incomplete, with no result blobs.
      const unfinished = runs.filter((r) => !finished.includes(r.id));
      expect(unfinished).toHaveLength(1);
      expect(unfinished[0]?.status).toBe('incomplete');
      expect(store.blobs(unfinished[0]?.id as RunId).size).toBe(0);
      store.close();
    }
  }, 60_000);
});
