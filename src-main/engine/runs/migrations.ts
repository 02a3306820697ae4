/**
 * The run database's schema, as the ordered steps that build it. A database records how many steps it has
 * had in `PRAGMA user_version`; opening it applies the missing ones in one transaction. Steps are never
 * edited once released — a change is a new step — so any older database can be brought forward.
 */
export interface Migration {
  /** What the step adds, for the error message when it fails. */
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    description: 'models, inputs, runs and their result blobs',
    sql: `
      CREATE TABLE models (
        hash TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        path TEXT,
        size_bytes INTEGER NOT NULL,
        opset INTEGER,
        summary TEXT NOT NULL,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL
      );
      CREATE TABLE inputs (
        hash TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        source TEXT NOT NULL,
        preprocess TEXT NOT NULL,
        thumbnail BLOB,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('cam', 'stats')),
        model_hash TEXT NOT NULL REFERENCES models(hash),
        params TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'cancelled', 'incomplete')),
        created_at INTEGER NOT NULL,
        finished_at INTEGER,
        duration_ms REAL,
        provider TEXT,
        engine_version TEXT NOT NULL,
        result_bytes INTEGER NOT NULL DEFAULT 0,
        owner_host TEXT NOT NULL,
        owner_pid INTEGER NOT NULL
      );
      CREATE INDEX runs_by_key ON runs(key, status);
      CREATE TABLE run_inputs (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        input_hash TEXT NOT NULL REFERENCES inputs(hash),
        PRIMARY KEY (run_id, position)
      );
      CREATE TABLE run_blobs (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (run_id, name)
      );
    `,
  },
  {
    description: 'names and pins for the history panel',
    sql: `
      ALTER TABLE runs ADD COLUMN name TEXT;
      ALTER TABLE runs ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX runs_by_model ON runs(model_hash, created_at);
      CREATE INDEX run_inputs_by_input ON run_inputs(input_hash);
    `,
  },
  {
    // SQLite cannot drop a CHECK: the tables are rebuilt (children first, so no ON DELETE CASCADE fires).
    // The kind is no longer checked by the database: a new kind of run then needs no migration.
    description: 'any kind of run (trust evaluations)',
    sql: `
      CREATE TABLE runs_next (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL,
        kind TEXT NOT NULL,
        model_hash TEXT NOT NULL REFERENCES models(hash),
        params TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'cancelled', 'incomplete')),
        created_at INTEGER NOT NULL,
        finished_at INTEGER,
        duration_ms REAL,
        provider TEXT,
        engine_version TEXT NOT NULL,
        result_bytes INTEGER NOT NULL DEFAULT 0,
        owner_host TEXT NOT NULL,
        owner_pid INTEGER NOT NULL,
        name TEXT,
        pinned INTEGER NOT NULL DEFAULT 0
      );
      INSERT INTO runs_next (id, key, kind, model_hash, params, status, created_at, finished_at, duration_ms, provider,
                             engine_version, result_bytes, owner_host, owner_pid, name, pinned)
        SELECT id, key, kind, model_hash, params, status, created_at, finished_at, duration_ms, provider,
               engine_version, result_bytes, owner_host, owner_pid, name, pinned FROM runs;
      CREATE TABLE run_inputs_next (
        run_id INTEGER NOT NULL REFERENCES runs_next(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        input_hash TEXT NOT NULL REFERENCES inputs(hash),
        PRIMARY KEY (run_id, position)
      );
      INSERT INTO run_inputs_next SELECT run_id, position, input_hash FROM run_inputs;
      CREATE TABLE run_blobs_next (
        run_id INTEGER NOT NULL REFERENCES runs_next(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (run_id, name)
      );
      INSERT INTO run_blobs_next SELECT run_id, name, data FROM run_blobs;
      -- Ids of deleted runs are not handed out again.
      DELETE FROM sqlite_sequence WHERE name = 'runs_next';
      INSERT INTO sqlite_sequence (name, seq) SELECT 'runs_next', seq FROM sqlite_sequence WHERE name = 'runs';
      DROP TABLE run_inputs;
      DROP TABLE run_blobs;
      DROP TABLE runs;
      ALTER TABLE runs_next RENAME TO runs;
      ALTER TABLE run_inputs_next RENAME TO run_inputs;
      ALTER TABLE run_blobs_next RENAME TO run_blobs;
      CREATE INDEX runs_by_key ON runs(key, status);
      CREATE INDEX runs_by_model ON runs(model_hash, created_at);
      CREATE INDEX run_inputs_by_input ON run_inputs(input_hash);
    `,
  },
  {
    // One studio action is one run: a slow pane's maps, asked for after the action's first answer, are
    // merged into that run's result. Each such part keeps its own key (so the same question is answered
    // from it) and its own status (a part whose process died leaves the run interrupted, resumable).
    description: 'parts added to a run after its first answer',
    sql: `
      CREATE TABLE run_parts (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        params TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'incomplete')),
        created_at INTEGER NOT NULL,
        duration_ms REAL,
        owner_host TEXT NOT NULL,
        owner_pid INTEGER NOT NULL,
        PRIMARY KEY (run_id, key)
      );
      CREATE INDEX run_parts_by_key ON run_parts(key, status);
    `,
  },
  {
    description: 'settings kept with the history (its size limit, set in the studio)',
    sql: `
      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;
