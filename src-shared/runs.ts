/**
 * Runs as the history shows them. Every CAM or statistics answer is a run stored by the engine, keyed by
 * what determines it (model bytes, input bytes and preprocessing, parameters, engine version), so the same
 * question is never computed twice and any earlier answer reopens as it was.
 */
import type { CamMethod } from './cam';
import type { ImageSource, RunId, StoredImageSource } from './primitives';
import type { TrustRunParams } from './trust';
import type { InterpretRunParams } from './dataset';

export type { KeptNote, RunId, StoredImageSource } from './primitives';

export type RunKind = 'cam' | 'stats' | 'trust' | 'interpret';
/**
 * running: being computed now; complete: finished; cancelled: stopped by the user (a partial statistics
 * result is kept); incomplete: its process died while computing it (crash, kill) — resume or delete it.
 */
export type RunStatus = 'running' | 'complete' | 'cancelled' | 'incomplete';
export const RUN_STATUSES: readonly RunStatus[] = ['running', 'complete', 'cancelled', 'incomplete'];

export interface CamRunParams {
  image: StoredImageSource;
  layers: string[];
  methods: CamMethod[];
  classIndex: number | 'top';
  counterfactual: boolean;
  /** Present (true) only when the option was on, so runs without it keep their keys. */
  eigenSmooth?: true;
  augSmooth?: true;
  /** The class the maps explain, once computed (its label names the run). */
  explained?: { classIndex: number; label: string };
  /**
   * Maps added to the run after its first answer, each asked for by a later request of the same action (a
   * studio pane set to ScoreCAM at one layer): filled in by the history, never part of a request.
   */
  added?: RunPart[];
}

/** Maps a later request added to a run, and whether they are in it yet. */
export interface RunPart {
  layers: string[];
  methods: CamMethod[];
  /** running: being computed; incomplete: its process died first (resume the run to compute it). */
  status: 'running' | 'complete' | 'incomplete';
}

/** Every method a CAM run holds maps of: the ones it was asked for first, then the ones added to it. */
export function camRunMethods(params: CamRunParams): CamMethod[] {
  return [...new Set([...params.methods, ...(params.added ?? []).flatMap((p) => p.methods)])];
}

export interface StatsRunParams {
  images: StoredImageSource[];
  layers: string[] | null;
  /** The stages the default layers include, where the request named them (absent: the detected ones). */
  stages?: string[];
  includeParamless: boolean;
  bins: number;
  range: [number, number] | null;
}

interface RunCommon {
  id: RunId;
  /** What determines the run's answer, hashed (model and input bytes, preprocessing, parameters, engine version). */
  key: string;
  status: RunStatus;
  /** The user's name for it, or null. */
  name: string | null;
  pinned: boolean;
  model: { hash: string; name: string; path: string | null };
  inputs: { count: number; first: string | null };
  /** A small JPEG of the first input image (null for tensors and when it could not be made). */
  thumbnail: Uint8Array | null;
  /** Milliseconds since the epoch. */
  createdAt: number;
  durationMs: number | null;
  provider: string | null;
  engineVersion: string;
  /** Bytes of stored results. */
  sizeBytes: number;
}

export type RunSummary = RunCommon &
  (
    | { kind: 'cam'; params: CamRunParams }
    | { kind: 'stats'; params: StatsRunParams }
    | { kind: 'trust'; params: TrustRunParams }
    | { kind: 'interpret'; params: InterpretRunParams }
  );

export interface RunList {
  runs: RunSummary[];
  /** Runs in the database (the list may be limited). */
  total: number;
  /** Size of the database on disk, WAL included. */
  diskBytes: number;
  /** Where the database is (null: history is off for this engine). */
  database: string | null;
  /** Every model that has runs, for the filter. */
  models: { hash: string; name: string; runs: number }[];
}

/**
 * Where the history's size limit comes from: the studio's Settings (kept in the run database), `--history-limit`,
 * LAYERLENS_HISTORY_MB, or the default (2 GiB).
 */
export type HistoryLimitSource = 'preference' | 'flag' | 'environment' | 'default';

/** The limits the studio accepts for the history, in MB (the command line's minimum; 1 TiB is a typing slip's). */
export const HISTORY_LIMIT_MB = { min: 1, max: 1024 * 1024 } as const;

/** The run history's size limit and what it holds now (Settings in the studio). */
export interface HistorySettings {
  /** Where the run database is; null: history is off for this engine (nothing is kept, no limit to set). */
  database: string | null;
  /**
   * Everything in the database counts (results, thumbnails, inputs, models): beyond it the oldest unpinned runs
   * go when a run is stored, and a run larger than the whole limit is not kept (its answer is still given).
   */
  limitBytes: number;
  limitSource: HistoryLimitSource;
  /** Bytes the database's content takes now. */
  usedBytes: number;
}

export interface PruneRequest {
  /** Delete runs older than this many days (pinned ones stay). */
  olderThanDays: number | null;
  /** Delete incomplete and cancelled runs. */
  unfinished: boolean;
  /** Delete every unpinned run. */
  all: boolean;
}

export interface PruneResult {
  deleted: number;
  freedBytes: number;
}

export function toStoredSource(source: ImageSource): StoredImageSource {
  // Uploaded bytes are not kept, whether they came with the request or were uploaded before it.
  return source.kind === 'bytes' || source.kind === 'upload' ? { kind: 'bytes', name: source.name } : source;
}

export function storedSourceName(source: StoredImageSource): string {
  if (source.kind === 'sample') return source.id;
  if (source.kind === 'bytes') return source.name;
  return source.path.split(/[\\/]/).pop() ?? source.path;
}
