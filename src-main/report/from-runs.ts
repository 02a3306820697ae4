/**
 * A report of stored runs (the history's CAM runs on several images, and a statistics run), gathered without
 * computing anything: maps, predictions and statistics are what the run database kept.
 */
import type { EngineApi, ImageSource, OpenedRun } from '../../src-shared/api';
import type { CamMethod } from '../../src-shared/cam';
import { camRunMethods, type RunId, type StoredImageSource } from '../../src-shared/runs';
import { EngineError } from '../engine/errors';
import { ENGINE_VERSION } from '../engine/version';
import { DEFAULT_MAX_IMAGES, modelSectionOf } from './gather';
import { trustOfRuns } from './trust-section';
import { DEFAULT_DISPLAY, type HeatmapDisplay, type ReportData, type ReportImage } from './report-data';

export interface RunsReportOptions {
  display?: HeatmapDisplay;
  title?: string;
  maxImages?: number;
}

export async function gatherRunsReport(engine: EngineApi, ids: RunId[], options: RunsReportOptions = {}): Promise<ReportData> {
  if (ids.length === 0) throw new EngineError('bad-input', 'A report needs at least one run.');
  const opened: OpenedRun[] = [];
  for (const id of ids) opened.push(await engine.openRun({ id }));
  const models = new Set(opened.map((o) => o.summary.model.hash));
  if (models.size > 1) {
    throw new EngineError(
      'invalid-request',
      'These runs are of different models: a report explains one model; export them separately.',
    );
  }
  const first = opened[0] as OpenedRun;
  if (!first.model)
    throw new EngineError('not-found', `The runs' model cannot be opened: ${first.modelProblem ?? 'unknown reason'}`);
  const unfinished = opened.find((o) => !o.cam && !o.stats && !o.interpret && !o.trust);
  if (unfinished) {
    throw new EngineError(
      'invalid-request',
      `Run ${unfinished.summary.id} has no result (${unfinished.summary.status}): resume it first.`,
    );
  }
  const model = await modelSectionOf(engine, first.model);
  const camRuns = opened.filter((o) => o.cam && o.summary.kind === 'cam');
  const statsRun = opened.filter((o) => o.stats).at(-1) ?? null;
  const dataset = opened.filter((o) => o.interpret).at(-1)?.interpret ?? null;
  const cap = Math.max(1, options.maxImages ?? DEFAULT_MAX_IMAGES);
  const images: ReportImage[] = [];
  for (const run of camRuns.slice(0, cap)) images.push(await storedImage(engine, run));
  const methods = [
    ...new Set(camRuns.flatMap((r) => (r.summary.kind === 'cam' ? camRunMethods(r.summary.params) : []))),
  ] as CamMethod[];
  const camParams = camRuns[0]?.summary.kind === 'cam' ? camRuns[0].summary.params : null;
  const statsParams = statsRun?.summary.kind === 'stats' ? statsRun.summary.params : null;
  return {
    title: options.title ?? model.name,
    generatedAt: new Date(Math.max(...opened.map((o) => o.summary.createdAt))).toISOString(),
    engineVersion: ENGINE_VERSION,
    provider: images[0]?.cam.provider ?? statsRun?.stats?.provider ?? dataset?.provider ?? 'cpu',
    model,
    images,
    totalImages: camRuns.length > 0 ? camRuns.length : (statsRun?.stats?.total ?? 0),
    skipped: statsRun?.stats?.skipped.map((s) => ({ name: `input ${s.index + 1}`, reason: s.reason })) ?? [],
    run: {
      methods,
      layers: camParams?.layers ?? ['stages'],
      classChoice: camParams?.classIndex ?? 'top',
      counterfactual: camParams?.counterfactual ?? false,
      device: `stored run${ids.length > 1 ? 's' : ''} ${ids.map((id) => `#${id}`).join(', ')}`,
      stats: statsParams ? { bins: statsParams.bins, range: statsParams.range, layers: statsParams.layers } : null,
    },
    display: options.display ?? DEFAULT_DISPLAY,
    stats: statsRun?.stats ?? null,
    dataset,
    trust: trustOfRuns(opened),
    timings: opened.map((o) => ({
      label: `run #${o.summary.id}: ${o.summary.kind === 'cam' ? `CAM of ${o.summary.inputs.first ?? 'an image'}` : o.summary.kind === 'trust' ? `trust of the maps of ${o.summary.inputs.count} images` : o.summary.kind === 'interpret' ? `data set of ${o.summary.inputs.count} images` : `statistics over ${o.summary.inputs.count} images`}`,
      ms: o.summary.durationMs ?? 0,
    })),
  };
}

async function storedImage(engine: EngineApi, run: OpenedRun): Promise<ReportImage> {
  const cam = run.cam as NonNullable<OpenedRun['cam']>;
  const stored = run.summary.kind === 'cam' ? run.summary.params.image : null;
  const source = stored ? readable(stored) : null;
  // The original when it can still be read; an uploaded image's bytes were not kept.
  const original = source ? await engine.getImage({ source }).catch(() => null) : null;
  const view = cam.modelView;
  return {
    name: run.summary.inputs.first ?? `run ${run.summary.id}`,
    original: original ?? view,
    modelView: view,
    top: run.prediction?.top ?? [],
    cam: cam.result,
    run: run.summary.id,
    cached: true,
    predictMs: 0,
  };
}

function readable(source: StoredImageSource): ImageSource | null {
  return source.kind === 'bytes' ? null : source;
}
