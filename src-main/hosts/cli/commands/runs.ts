/** `layerlens runs list|show|delete|prune`: the run history from a terminal (same database as the app). */
import { parseArgs } from 'node:util';
import {
  camRunMethods,
  HISTORY_LIMIT_MB,
  type HistoryLimitSource,
  type HistorySettings,
  type RunId,
  type RunSummary,
} from '../../../../src-shared/runs';
import { Engine } from '../../../engine/engine';
import { DATABASE_OPTIONS, databaseFrom, storageFrom } from '../database-option';
import { UsageError } from '../errors';
import { interpretJson, interpretText } from './interpret';
import { camJson } from './cam';
import { evaluateJson } from './evaluate';
import { statsJson } from './stats';

export function runJson(run: RunSummary): object {
  return {
    id: run.id,
    kind: run.kind,
    status: run.status,
    name: run.name,
    pinned: run.pinned,
    model: run.model,
    inputs: run.inputs.count,
    first_input: run.inputs.first,
    created: new Date(run.createdAt).toISOString(),
    duration_ms: run.durationMs,
    provider: run.provider,
    engine_version: run.engineVersion,
    size_bytes: run.sizeBytes,
    params: run.params,
  };
}

function parseIds(args: string[]): RunId[] {
  if (args.length === 0) throw new UsageError('give at least one run id');
  return args.map((a) => {
    const n = Number(a);
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`"${a}" is not a run id`);
    return n as RunId;
  });
}

const size = (bytes: number): string =>
  bytes < 1024 ? `${bytes} B` : bytes < 1024 ** 2 ? `${(bytes / 1024).toFixed(1)} kB` : `${(bytes / 1024 ** 2).toFixed(1)} MB`;

/** The first input's name, and how many more a run had ("01-star.png +7"). */
function inputsColumn(run: RunSummary): string {
  const more = run.inputs.count > 1 ? ` +${run.inputs.count - 1}` : '';
  return `${(run.inputs.first ?? '').slice(0, 20 - more.length)}${more}`;
}

function line(run: RunSummary): string {
  const when = new Date(run.createdAt).toISOString().replace('T', ' ').slice(0, 19);
  const duration = run.durationMs === null ? '' : `${(run.durationMs / 1000).toFixed(2)} s`;
  const what = run.kind === 'cam' ? camRunMethods(run.params).join(',') : `${run.inputs.count} images`;
  return [
    String(run.id).padStart(5),
    run.kind.padEnd(9),
    run.status.padEnd(10),
    when,
    run.model.name.slice(0, 24).padEnd(24),
    inputsColumn(run).padEnd(20),
    duration.padStart(9),
    size(run.sizeBytes).padStart(9),
    `${run.pinned ? '★ ' : ''}${run.name ?? what}`,
  ].join('  ');
}

const LIMIT_SOURCES: Record<HistoryLimitSource, string> = {
  preference: 'kept in the database: set with "runs limit" or the studio\'s Settings',
  flag: '--history-limit',
  environment: 'LAYERLENS_HISTORY_MB',
  default: 'the default',
};

function limitJson(settings: HistorySettings): {
  database: string | null;
  limit_bytes: number;
  limit_source: HistoryLimitSource;
  used_bytes: number;
} {
  return {
    database: settings.database,
    limit_bytes: settings.limitBytes,
    limit_source: settings.limitSource,
    used_bytes: settings.usedBytes,
  };
}

export async function runsCommand(argv: string[], out: (text: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      model: { type: 'string' },
      'older-than': { type: 'string' },
      unfinished: { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
      ...DATABASE_OPTIONS,
    },
  });
  const [action, ...args] = positionals;
  const database = databaseFrom(values);
  if (!database) throw new UsageError('runs needs a database: --no-history turns it off');
  if (!action || !['list', 'show', 'delete', 'prune', 'limit'].includes(action)) {
    throw new UsageError('runs takes list, show ID, delete ID..., prune, or limit [MB|default]');
  }
  const engine = await Engine.create({ device: 'cpu', ...storageFrom(values), database });
  try {
    const print = (json: object, text: () => void): void => (values.json ? out(JSON.stringify(json)) : text());
    if (action === 'list') {
      const list = await engine.listRuns({ modelHash: null });
      const wanted = values.model;
      const runs = wanted
        ? list.runs.filter((r) => r.model.hash.startsWith(wanted) || r.model.name === wanted || r.model.path === wanted)
        : list.runs;
      const limit = limitJson(await engine.getHistorySettings());
      const json = {
        database: list.database,
        disk_bytes: list.diskBytes,
        limit_bytes: limit.limit_bytes,
        limit_source: limit.limit_source,
      };
      print({ ...json, total: list.total, runs: runs.map(runJson) }, () => {
        out(`${list.total} runs in ${list.database} (${size(list.diskBytes)} on disk)`);
        if (runs.length > 0) {
          out(
            [
              '   id',
              'kind     ',
              'status    ',
              'created            ',
              'model'.padEnd(24),
              'input'.padEnd(20),
              ' duration',
              '     size',
              'what',
            ].join('  '),
          );
        }
        runs.forEach((r) => out(line(r)));
      });
    } else if (action === 'show') {
      const [id, ...rest] = parseIds(args);
      if (rest.length > 0) throw new UsageError('show takes one run id');
      const opened = await engine.openRun({ id: id as RunId });
      const result = opened.cam
        ? { ...camJson(opened.cam.result) }
        : opened.stats
          ? statsJson(opened.stats)
          : opened.interpret
            ? interpretJson(opened.interpret)
            : opened.trust
              ? evaluateJson(
                  opened.summary.model.name,
                  opened.trust,
                  opened.summary.kind === 'trust' ? opened.summary.params.classIndex : 'top',
                )
              : null;
      print({ ...runJson(opened.summary), result }, () => {
        out(line(opened.summary));
        out(
          `  model ${opened.summary.model.path ?? opened.summary.model.name} (sha256 ${opened.summary.model.hash.slice(0, 16)}…)`,
        );
        out(`  parameters ${JSON.stringify(opened.summary.params)}`);
        if (opened.cam) {
          const r = opened.cam.result;
          out(
            `  explains ${r.label} (class ${r.classIndex}); ${r.layers.length} layers: ${r.layers.map((l) => l.label).join(', ')}`,
          );
        } else if (opened.interpret) {
          for (const text of interpretText(opened.interpret)) out(`  ${text}`);
        } else if (opened.trust) {
          const r = opened.trust.result;
          out(
            `  ${r.images.length} images evaluated${
              r.sanity
                ? `, sanity check: ${Object.entries(r.sanity.verdicts)
                    .map(([m, v]) => `${m} ${v}`)
                    .join(', ')}`
                : ''
            }`,
          );
        } else if (opened.stats) {
          out(`  ${opened.stats.images}/${opened.stats.total} images, ${opened.stats.layers.length} layers`);
        } else {
          out(`  no result stored (${opened.summary.status})`);
        }
      });
    } else if (action === 'limit') {
      if (args.length > 1) throw new UsageError('limit takes one MB value, or default');
      const [given] = args;
      let settings = await engine.getHistorySettings();
      if (given !== undefined) {
        const mb = given === 'default' ? null : Number(given);
        if (mb !== null && !(Number.isFinite(mb) && mb >= HISTORY_LIMIT_MB.min && mb <= HISTORY_LIMIT_MB.max))
          throw new UsageError(
            `limit must be a number of MB from ${HISTORY_LIMIT_MB.min} to ${HISTORY_LIMIT_MB.max}, or default (got "${given}")`,
          );
        settings = await engine.setHistoryLimit({ limitMb: mb });
      }
      print(limitJson(settings), () =>
        out(
          `${settings.database}: limit ${size(settings.limitBytes)} (${LIMIT_SOURCES[settings.limitSource]}), ${size(settings.usedBytes)} used`,
        ),
      );
    } else if (action === 'delete') {
      const result = await engine.deleteRuns({ ids: parseIds(args) });
      print({ deleted: result.deleted, freed_bytes: result.freedBytes }, () =>
        out(`deleted ${result.deleted} runs, ${size(result.freedBytes)} of results`),
      );
    } else {
      if (args.length > 0) throw new UsageError('prune takes options, not ids (use delete for ids)');
      const days = values['older-than'];
      const olderThanDays = days === undefined ? null : Number(days.replace(/d$/, ''));
      if (olderThanDays !== null && !(Number.isFinite(olderThanDays) && olderThanDays >= 0)) {
        throw new UsageError(`--older-than must be a number of days, like 30 or 30d (got "${days}")`);
      }
      if (olderThanDays === null && !values.unfinished && !values.all) {
        throw new UsageError('prune needs --older-than DAYS, --unfinished or --all');
      }
      const result = await engine.pruneRuns({ olderThanDays, unfinished: values.unfinished, all: values.all });
      print({ deleted: result.deleted, freed_bytes: result.freedBytes }, () =>
        out(`deleted ${result.deleted} runs (pinned ones are kept), ${size(result.freedBytes)} of results`),
      );
    }
  } finally {
    engine.dispose();
  }
}
