/**
 * The run database's reads and writes. Everything is short synchronous transactions (better-sqlite3): a run
 * row is committed as `running` before any work, its results and final status in one transaction after,
 * so a crash at any point leaves either a finished run or one marked incomplete at the next open. A part
 * added to a finished run (more maps of the same action) goes the same way: a `running` part row first, then
 * its maps merged into the run's result with the part marked complete, in one transaction.
 */
import { statSync } from 'node:fs';
import os from 'node:os';
import type {
  HistoryLimitSource,
  PruneRequest,
  PruneResult,
  RunId,
  RunKind,
  RunList,
  RunPart,
  RunStatus,
  RunSummary,
} from '../../../src-shared/runs';
import { EngineError } from '../errors';
import { formatBytes } from '../regular-file';
import { ENGINE_VERSION } from '../version';
import { openRunDatabase, type RunDatabase } from './database';

export interface ModelRecord {
  hash: string;
  name: string;
  path: string | null;
  sizeBytes: number;
  opset: number | null;
  /** A JSON summary (inputs, outputs, producer) for reports and the history. */
  summary: object;
}

export interface InputRecord {
  hash: string;
  name: string;
  source: object;
  preprocess: object;
  thumbnail: Uint8Array | null;
}

export interface NewRun {
  key: string;
  kind: RunKind;
  modelHash: string;
  params: object;
  inputHashes: string[];
}

export interface NewPart {
  key: string;
  /** What the part asked for (for the history: its layers and methods). */
  params: object;
  /** The part's model and inputs, which must be the run's. */
  modelHash: string;
  inputHashes: string[];
}

/** The blob that holds a run's result; a part's maps are merged into it. */
export const RESULT_BLOB = 'result';

export interface FinishedRun {
  blobs: Record<string, Uint8Array>;
  durationMs: number;
  provider: string;
  /** The parameters completed by what the run found out (e.g. which class "top" was); the key stays. */
  params?: object;
}

/**
 * The database beyond this many bytes (everything in it: results, thumbnails, inputs, models) makes the oldest
 * unpinned runs go, so a studio left open does not fill the disk. A setting: `--history-limit MB`.
 */
export const DEFAULT_MAX_DATABASE_BYTES = 2 * 1024 ** 3;

interface RunRow {
  id: number;
  key: string;
  kind: RunKind;
  status: RunStatus;
  name: string | null;
  pinned: number;
  params: string;
  created_at: number;
  duration_ms: number | null;
  provider: string | null;
  engine_version: string;
  result_bytes: number;
  model_hash: string;
  model_name: string;
  model_path: string | null;
  input_count: number;
  first_input: string | null;
  thumbnail: Uint8Array | null;
  /** JSON: [{params, status}] of the parts added to the run, oldest first. */
  parts: string;
}

const SUMMARY_SELECT = `
  SELECT r.id, r.key, r.kind,
         -- A finished run with a part still computing, or one whose process died, is not finished.
         CASE WHEN r.status = 'complete' AND EXISTS (SELECT 1 FROM run_parts p WHERE p.run_id = r.id AND p.status = 'running')
                THEN 'running'
              WHEN r.status = 'complete' AND EXISTS (SELECT 1 FROM run_parts p WHERE p.run_id = r.id AND p.status = 'incomplete')
                THEN 'incomplete'
              ELSE r.status END AS status,
         r.name, r.pinned, r.params, r.created_at, r.duration_ms, r.provider,
         r.engine_version, r.result_bytes, r.model_hash, m.name AS model_name, m.path AS model_path,
         (SELECT count(*) FROM run_inputs ri WHERE ri.run_id = r.id) AS input_count,
         i.name AS first_input, i.thumbnail AS thumbnail,
         (SELECT json_group_array(json_object('params', json(p.params), 'status', p.status))
            FROM (SELECT params, status FROM run_parts WHERE run_id = r.id ORDER BY created_at, rowid) p) AS parts
  FROM runs r
  JOIN models m ON m.hash = r.model_hash
  LEFT JOIN run_inputs f ON f.run_id = r.id AND f.position = 0
  LEFT JOIN inputs i ON i.hash = f.input_hash`;

/** The history's size limit as given to this process: by `--history-limit` or LAYERLENS_HISTORY_MB. */
export interface GivenLimit {
  bytes: number;
  source: Extract<HistoryLimitSource, 'flag' | 'environment'>;
}

const LIMIT_SETTING = 'history_limit_bytes';

export class RunStore {
  private readonly host = os.hostname();
  private limit: { bytes: number; source: HistoryLimitSource };

  /**
   * `given`: a limit this process was started with; it wins over the one the studio kept in the database
   * (which wins over the default) until the studio sets one again.
   */
  private constructor(
    readonly file: string,
    private readonly db: RunDatabase,
    private readonly given: GivenLimit | null,
  ) {
    const kept = this.keptLimit();
    this.limit = given ?? (kept !== null ? { bytes: kept, source: 'preference' } : this.fallbackLimit());
  }

  private fallbackLimit(): { bytes: number; source: HistoryLimitSource } {
    return this.given ?? { bytes: DEFAULT_MAX_DATABASE_BYTES, source: 'default' };
  }

  static open(file: string, options: { maxBytes?: number; given?: GivenLimit } = {}): RunStore {
    const given = options.given ?? (options.maxBytes !== undefined ? { bytes: options.maxBytes, source: 'flag' as const } : null);
    const store = new RunStore(file, openRunDatabase(file), given);
    store.recoverAbandoned();
    return store;
  }

  get maxBytes(): number {
    return this.limit.bytes;
  }

  get limitSource(): HistoryLimitSource {
    return this.limit.source;
  }

  /**
   * The user's limit, kept in the database for later sessions and applied from the next stored run on (runs
   * are only ever removed when one is stored); null forgets it (back to the flag's or environment's, else the
   * default).
   */
  setLimit(bytes: number | null): void {
    if (bytes === null) {
      this.db.prepare(`DELETE FROM settings WHERE key = ?`).run(LIMIT_SETTING);
      this.limit = this.fallbackLimit();
    } else {
      this.db
        .prepare(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`)
        .run(LIMIT_SETTING, String(bytes));
      this.limit = { bytes, source: 'preference' };
    }
  }

  private keptLimit(): number | null {
    const row = this.db.prepare(`SELECT value FROM settings WHERE key = ?`).get(LIMIT_SETTING) as { value: string } | undefined;
    const bytes = Number(row?.value);
    return row && Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs left `running` by a process that no longer exists become `incomplete`. */
  recoverAbandoned(): number {
    const rows = this.db
      .prepare(`SELECT id, owner_host AS host, owner_pid AS pid, created_at FROM runs WHERE status = 'running'`)
      .all() as { id: number; host: string; pid: number; created_at: number }[];
    const dayAgo = Date.now() - 24 * 3600 * 1000;
    const dead = rows.filter((r) => (r.host === this.host ? !processAlive(r.pid) : r.created_at < dayAgo));
    const mark = this.db.prepare(`UPDATE runs SET status = 'incomplete' WHERE id = ? AND status = 'running'`);
    this.db.transaction(() => dead.forEach((r) => mark.run(r.id)))();
    const parts = this.db
      .prepare(`SELECT run_id, key, owner_host AS host, owner_pid AS pid, created_at FROM run_parts WHERE status = 'running'`)
      .all() as { run_id: number; key: string; host: string; pid: number; created_at: number }[];
    const deadParts = parts.filter((r) => (r.host === this.host ? !processAlive(r.pid) : r.created_at < dayAgo));
    const markPart = this.db.prepare(
      `UPDATE run_parts SET status = 'incomplete' WHERE run_id = ? AND key = ? AND status = 'running'`,
    );
    this.db.transaction(() => deadParts.forEach((p) => markPart.run(p.run_id, p.key)))();
    return dead.length + deadParts.length;
  }

  recordModel(m: ModelRecord): void {
    const now = Date.now();
    this.db
      .prepare(
        `INSERT INTO models (hash, name, path, size_bytes, opset, summary, first_seen, last_seen)
         VALUES (@hash, @name, @path, @sizeBytes, @opset, @summary, @now, @now)
         ON CONFLICT(hash) DO UPDATE SET name = excluded.name, path = coalesce(excluded.path, models.path),
           summary = excluded.summary, last_seen = excluded.last_seen`,
      )
      .run({ ...m, summary: JSON.stringify(m.summary), now });
  }

  recordInput(i: InputRecord): void {
    this.db
      .prepare(
        `INSERT INTO inputs (hash, name, source, preprocess, thumbnail, created_at)
         VALUES (@hash, @name, @source, @preprocess, @thumbnail, @now)
         ON CONFLICT(hash) DO UPDATE SET name = excluded.name, source = excluded.source,
           thumbnail = coalesce(inputs.thumbnail, excluded.thumbnail)`,
      )
      .run({
        ...i,
        source: JSON.stringify(i.source),
        preprocess: JSON.stringify(i.preprocess),
        thumbnail: i.thumbnail ? Buffer.from(i.thumbnail) : null,
        now: Date.now(),
      });
  }

  hasInput(hash: string): boolean {
    return this.db.prepare(`SELECT 1 FROM inputs WHERE hash = ?`).get(hash) !== undefined;
  }

  /** The newest run that holds a finished answer with this key, its own or a part added to it, if any. */
  findComplete(key: string): RunId | null {
    const row = this.db
      .prepare(
        `SELECT max(id) AS id FROM (
           SELECT id FROM runs WHERE key = @key AND status = 'complete'
           UNION ALL SELECT run_id AS id FROM run_parts WHERE key = @key AND status = 'complete')`,
      )
      .get({ key }) as { id: number | null };
    return row.id === null ? null : (row.id as RunId);
  }

  /** Whether run `id` holds the finished answer to `key` (as its own question or as a part added to it). */
  holds(id: RunId, key: string): boolean {
    return (
      this.db
        .prepare(
          `SELECT 1 FROM runs WHERE id = @id AND key = @key AND status = 'complete'
           UNION ALL SELECT 1 FROM run_parts WHERE run_id = @id AND key = @key AND status = 'complete'`,
        )
        .get({ id, key }) !== undefined
    );
  }

  /**
   * Whether a part can be added to run `id`: it exists, holds a result to merge into, and is of the same
   * model and inputs. A run that is gone (deleted meanwhile) or never finished answers false; one of another
   * model or image is a caller's mistake and says so.
   */
  canAddTo(id: RunId, part: Pick<NewPart, 'modelHash' | 'inputHashes'>): boolean {
    const run = this.db.prepare(`SELECT model_hash FROM runs WHERE id = ?`).get(id) as { model_hash: string } | undefined;
    if (!run || !this.db.prepare(`SELECT 1 FROM run_blobs WHERE run_id = ? AND name = ?`).get(id, RESULT_BLOB)) return false;
    const inputs = (
      this.db.prepare(`SELECT input_hash FROM run_inputs WHERE run_id = ? ORDER BY position`).all(id) as { input_hash: string }[]
    ).map((r) => r.input_hash);
    if (run.model_hash !== part.modelHash || inputs.join() !== part.inputHashes.join())
      throw new EngineError('invalid-request', `Run ${id} is of another model or image: maps cannot be added to it.`);
    return true;
  }

  /** Records a part as being computed for run `id` (again, when an interrupted one is resumed). */
  beginPart(id: RunId, part: NewPart): void {
    this.db
      .prepare(
        `INSERT INTO run_parts (run_id, key, params, status, created_at, owner_host, owner_pid)
         VALUES (?, ?, ?, 'running', ?, ?, ?)
         ON CONFLICT(run_id, key) DO UPDATE SET status = 'running', owner_host = excluded.owner_host,
           owner_pid = excluded.owner_pid`,
      )
      .run(id, part.key, JSON.stringify(part.params), Date.now(), this.host, process.pid);
  }

  /**
   * Merges a part's answer into its run's result and marks the part complete, in one transaction. False when
   * the run or the part is gone (deleted while the part was computed): nothing is written then.
   */
  finishPart(id: RunId, key: string, merge: (result: Uint8Array) => Uint8Array, durationMs: number): boolean {
    const done = this.db.transaction(() => {
      const part = this.db.prepare(`SELECT 1 FROM run_parts WHERE run_id = ? AND key = ?`).get(id, key);
      const result = this.blobs(id).get(RESULT_BLOB);
      if (!part || !result) return false;
      const merged = merge(result);
      if (merged.byteLength > this.maxBytes) throw this.tooLarge(merged.byteLength);
      this.db
        .prepare(`UPDATE run_blobs SET data = ? WHERE run_id = ? AND name = ?`)
        .run(Buffer.from(merged.buffer, merged.byteOffset, merged.byteLength), id, RESULT_BLOB);
      this.db
        .prepare(`UPDATE run_parts SET status = 'complete', duration_ms = ? WHERE run_id = ? AND key = ?`)
        .run(durationMs, id, key);
      this.db
        .prepare(`UPDATE runs SET result_bytes = result_bytes + ?, duration_ms = coalesce(duration_ms, 0) + ? WHERE id = ?`)
        .run(merged.byteLength - result.byteLength, durationMs, id);
      return true;
    })();
    if (done) this.enforceLimit(id);
    return done;
  }

  private tooLarge(bytes: number): EngineError {
    return new EngineError(
      'storage',
      `This run's result is ${formatBytes(bytes)}, more than the run history's whole limit of ${formatBytes(this.maxBytes)}, so it was not kept; raise the limit (the studio's Settings, --history-limit MB, or LAYERLENS_HISTORY_MB) to keep runs this large.`,
    );
  }

  /** A part that failed or was cancelled leaves nothing behind; the run stays as it was. */
  discardPart(id: RunId, key: string): void {
    this.db.prepare(`DELETE FROM run_parts WHERE run_id = ? AND key = ?`).run(id, key);
  }

  begin(run: NewRun): RunId {
    const insertRun = this.db.prepare(
      `INSERT INTO runs (key, kind, model_hash, params, status, created_at, engine_version, owner_host, owner_pid)
       VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?)`,
    );
    const insertInput = this.db.prepare(`INSERT INTO run_inputs (run_id, position, input_hash) VALUES (?, ?, ?)`);
    return this.db.transaction(() => {
      const { lastInsertRowid } = insertRun.run(
        run.key,
        run.kind,
        run.modelHash,
        JSON.stringify(run.params),
        Date.now(),
        ENGINE_VERSION,
        this.host,
        process.pid,
      );
      const id = Number(lastInsertRowid) as RunId;
      run.inputHashes.forEach((hash, position) => insertInput.run(id, position, hash));
      return id;
    })();
  }

  /** Stores the results and the final status together: a run is either finished or not, never half written. */
  finish(id: RunId, status: 'complete' | 'cancelled', done: FinishedRun): void {
    const put = this.db.prepare(`INSERT OR REPLACE INTO run_blobs (run_id, name, data) VALUES (?, ?, ?)`);
    const bytes = Object.values(done.blobs).reduce((a, b) => a + b.byteLength, 0);
    if (bytes > this.maxBytes) {
      // Stored, it would evict every other run and then itself: refuse it (the answer was still given).
      this.discard(id);
      throw this.tooLarge(bytes);
    }
    this.db.transaction(() => {
      for (const [name, data] of Object.entries(done.blobs))
        put.run(id, name, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      this.db
        .prepare(`UPDATE runs SET status = ?, finished_at = ?, duration_ms = ?, provider = ?, result_bytes = ? WHERE id = ?`)
        .run(status, Date.now(), done.durationMs, done.provider, bytes, id);
      if (done.params) this.db.prepare(`UPDATE runs SET params = ? WHERE id = ?`).run(JSON.stringify(done.params), id);
    })();
    if (status === 'complete') this.enforceLimit(id);
  }

  /** A run that failed leaves nothing behind (its error went to whoever asked). */
  discard(id: RunId): void {
    this.db.prepare(`DELETE FROM runs WHERE id = ?`).run(id);
  }

  blobs(id: RunId): Map<string, Uint8Array> {
    const rows = this.db.prepare(`SELECT name, data FROM run_blobs WHERE run_id = ?`).all(id) as { name: string; data: Buffer }[];
    return new Map(rows.map((r) => [r.name, new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength)]));
  }

  summary(id: RunId): RunSummary {
    const row = this.db.prepare(`${SUMMARY_SELECT} WHERE r.id = ?`).get(id) as RunRow | undefined;
    if (!row) throw new EngineError('not-found', `There is no run ${id} in ${this.file}.`);
    return toSummary(row);
  }

  list(filter: { modelHash?: string | null; limit?: number } = {}): RunList {
    const where = filter.modelHash ? `WHERE r.model_hash = @model` : '';
    const rows = this.db
      .prepare(`${SUMMARY_SELECT} ${where} ORDER BY r.pinned DESC, r.created_at DESC, r.id DESC LIMIT @limit`)
      .all({ model: filter.modelHash ?? null, limit: filter.limit ?? 1000 }) as RunRow[];
    const total = (this.db.prepare(`SELECT count(*) AS n FROM runs`).get() as { n: number }).n;
    const models = this.db
      .prepare(
        `SELECT m.hash, m.name, count(r.id) AS runs FROM models m JOIN runs r ON r.model_hash = m.hash
         GROUP BY m.hash ORDER BY max(r.created_at) DESC`,
      )
      .all() as { hash: string; name: string; runs: number }[];
    return { runs: rows.map(toSummary), total, diskBytes: this.diskBytes(), database: this.file, models };
  }

  update(id: RunId, change: { name?: string | null; pinned?: boolean }): RunSummary {
    this.summary(id);
    if (change.name !== undefined) this.db.prepare(`UPDATE runs SET name = ? WHERE id = ?`).run(change.name?.trim() || null, id);
    if (change.pinned !== undefined) this.db.prepare(`UPDATE runs SET pinned = ? WHERE id = ?`).run(change.pinned ? 1 : 0, id);
    return this.summary(id);
  }

  /** Deletes runs (not ones still being computed by a live process) and the inputs/models no run uses. */
  delete(ids: RunId[]): PruneResult {
    const sizeOf = this.db.prepare(`SELECT result_bytes AS bytes, status FROM runs WHERE id = ?`);
    const remove = this.db.prepare(`DELETE FROM runs WHERE id = ?`);
    let freedBytes = 0;
    let deleted = 0;
    this.db.transaction(() => {
      for (const id of ids) {
        const row = sizeOf.get(id) as { bytes: number; status: RunStatus } | undefined;
        if (!row || row.status === 'running') continue;
        remove.run(id);
        freedBytes += row.bytes;
        deleted++;
      }
      this.db.exec(`DELETE FROM inputs WHERE hash NOT IN (SELECT input_hash FROM run_inputs)`);
      this.db.exec(`DELETE FROM models WHERE hash NOT IN (SELECT model_hash FROM runs)`);
    })();
    if (deleted > 0) this.db.pragma('incremental_vacuum');
    return { deleted, freedBytes };
  }

  prune(req: PruneRequest): PruneResult {
    const clauses: string[] = [];
    const params: number[] = [];
    if (req.all) clauses.push('1');
    if (req.unfinished) clauses.push(`status IN ('incomplete', 'cancelled')`);
    if (req.olderThanDays !== null) {
      // 1e308 days is before any run (the product overflows to -Infinity, which SQLite cannot bind).
      clauses.push('created_at < ?');
      params.push(Math.max(Date.now() - req.olderThanDays * 86_400_000, Number.MIN_SAFE_INTEGER));
    }
    if (clauses.length === 0) return { deleted: 0, freedBytes: 0 };
    const ids = this.db
      .prepare(`SELECT id FROM runs WHERE pinned = 0 AND status != 'running' AND (${clauses.join(' OR ')})`)
      .all(...params) as { id: number }[];
    return this.delete(ids.map((r) => r.id as RunId));
  }

  diskBytes(): number {
    if (this.file === ':memory:') return 0;
    return ['', '-wal'].reduce((sum, suffix) => {
      try {
        return sum + statSync(this.file + suffix).size;
      } catch {
        return sum;
      }
    }, 0);
  }

  /** Bytes the database's content takes (its pages in use, wherever they are: main file or WAL). */
  usedBytes(): number {
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return (pages - free) * (this.db.pragma('page_size', { simple: true }) as number);
  }

  /** Oldest unpinned finished runs go first once the database outgrows its limit; `keep` (just finished) stays. */
  private enforceLimit(keep: RunId): void {
    const candidates = this.db.prepare(
      `SELECT id, result_bytes AS bytes FROM runs WHERE pinned = 0 AND status != 'running' AND id != ? ORDER BY created_at, id`,
    );
    for (let excess = this.usedBytes() - this.maxBytes; excess > 0; excess = this.usedBytes() - this.maxBytes) {
      // Results are most of a run's bytes: drop about enough by them, then measure again.
      const doomed: RunId[] = [];
      for (const c of candidates.all(keep) as { id: number; bytes: number }[]) {
        doomed.push(c.id as RunId);
        excess -= Math.max(c.bytes, 1);
        if (excess <= 0) break;
      }
      if (doomed.length === 0 || this.delete(doomed).deleted === 0) return;
    }
  }
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function toSummary(row: RunRow): RunSummary {
  const common = {
    id: row.id as RunId,
    key: row.key,
    status: row.status,
    name: row.name,
    pinned: row.pinned === 1,
    model: { hash: row.model_hash, name: row.model_name, path: row.model_path },
    inputs: { count: row.input_count, first: row.first_input },
    thumbnail: row.thumbnail ? new Uint8Array(row.thumbnail) : null,
    createdAt: row.created_at,
    durationMs: row.duration_ms,
    provider: row.provider,
    engineVersion: row.engine_version,
    sizeBytes: row.result_bytes,
  };
  const parts = JSON.parse(row.parts) as { params: Omit<RunPart, 'status'>; status: RunPart['status'] }[];
  const params: unknown = {
    ...(JSON.parse(row.params) as object),
    ...(parts.length > 0 ? { added: parts.map((p): RunPart => ({ ...p.params, status: p.status })) } : {}),
  };
  if (row.kind === 'trust')
    return { ...common, kind: 'trust', params: params as Extract<RunSummary, { kind: 'trust' }>['params'] };
  if (row.kind === 'interpret')
    return { ...common, kind: 'interpret', params: params as Extract<RunSummary, { kind: 'interpret' }>['params'] };
  return row.kind === 'cam'
    ? { ...common, kind: 'cam', params: params as Extract<RunSummary, { kind: 'cam' }>['params'] }
    : { ...common, kind: 'stats', params: params as Extract<RunSummary, { kind: 'stats' }>['params'] };
}
