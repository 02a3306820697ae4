import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CAM_METHOD_LABELS, DEFAULT_METHODS, GRADIENT_METHODS, type CamMethod } from '../../../../src-shared/cam';
import {
  DEFAULT_BASELINE,
  DEFAULT_TRUST_STEPS,
  type Box,
  type MapMetrics,
  type MetricSummary,
  type Similarity,
  type TrustBaseline,
  type TrustResponse,
} from '../../../../src-shared/trust';
import { Engine } from '../../../engine/engine';
import { expandImageArgs } from '../../../engine/stats/image-set';
import { DATABASE_OPTIONS, storageFrom } from '../database-option';
import { cancelOnInterrupt, parseDevice, parsePositiveInt, UsageError } from '../errors';
import { parseClass, parseMethods } from './cam';

export const EVALUATE_DEFAULT_METHODS: CamMethod[] = GRADIENT_METHODS.filter((m) => DEFAULT_METHODS.includes(m));

export function parseBaseline(value: string | undefined): TrustBaseline {
  if (value === undefined) return DEFAULT_BASELINE;
  if (value === 'zero') return { kind: 'zero' };
  const match = /^blur(?::(.+))?$/.exec(value);
  const defaultSigma = DEFAULT_BASELINE.kind === 'blur' ? DEFAULT_BASELINE.sigma : 5;
  const sigma = match ? (match[1] === undefined ? defaultSigma : Number(match[1])) : NaN;
  if (!match || !Number.isFinite(sigma) || sigma <= 0 || sigma > 1000)
    throw new UsageError(`--baseline must be blur, blur:SIGMA (pixels, > 0) or zero (got "${value}")`);
  return { kind: 'blur', sigma };
}

function isBox(value: unknown): value is Box {
  return Array.isArray(value) && value.length === 4 && value.every((v) => typeof v === 'number' && Number.isFinite(v));
}

/** Boxes by file name, from a held-out set's index.json or a plain {name: box} object. */
export async function readBoxes(file: string): Promise<Map<string, Box>> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UsageError(
      `--boxes ${file} cannot be used: ${error instanceof SyntaxError ? 'not valid JSON' : error instanceof Error ? error.message : String(error)}`,
    );
  }
  const out = new Map<string, Box>();
  const list = (data as { images?: unknown }).images;
  if (Array.isArray(list)) {
    for (const item of list as { file?: unknown; box?: unknown }[])
      if (typeof item.file === 'string' && isBox(item.box)) out.set(path.basename(item.file), item.box);
  } else if (data && typeof data === 'object') {
    for (const [name, box] of Object.entries(data)) if (isBox(box)) out.set(path.basename(name), box);
  }
  if (out.size === 0)
    throw new UsageError(`--boxes ${file} holds no boxes: expected {"images": [{"file", "box"}, …]} or {NAME: [x0, y0, x1, y1]}`);
  return out;
}

const metricsJson = (m: MapMetrics): object => ({
  deletion_auc: m.deletion.auc,
  insertion_auc: m.insertion.auc,
  deletion: Array.from(m.deletion.probs),
  insertion: Array.from(m.insertion.probs),
  drop: m.drop,
  increase: m.increase,
  pointing: m.pointing,
});

const summaryJson = (s: MetricSummary): object => ({
  deletion_auc: s.deletionAuc,
  insertion_auc: s.insertionAuc,
  average_drop: s.averageDrop,
  increase_in_confidence: s.increase,
  pointing: s.pointing,
});

const similarityJson = (s: Similarity): object => ({ spearman: s.spearman, ssim: s.ssim });

/** Every (layer, method) by mean deletion AUC, lowest first. */
export function deletionRanking(response: TrustResponse): { layer: string; method: CamMethod; deletion_auc: number }[] {
  return response.result.summary
    .flatMap((l) =>
      Object.entries(l.methods).map(([method, s]) => ({
        layer: l.label,
        method: method as CamMethod,
        deletion_auc: s.deletionAuc,
      })),
    )
    .sort((a, b) => a.deletion_auc - b.deletion_auc);
}

export function evaluateJson(modelName: string, response: TrustResponse, classIndex: number | 'top'): object {
  const r = response.result;
  return {
    model: modelName,
    methods: r.methods,
    class: classIndex,
    steps: r.settings.steps,
    baseline: r.settings.baseline,
    seed: r.settings.seed,
    images: r.images.map((image) => ({
      file: image.name,
      class: image.classIndex,
      label: image.label,
      prob: image.prob,
      box: image.box,
      pointing_chance: image.pointingChance,
      layers: Object.fromEntries(
        image.layers.map((l) => [
          l.label,
          {
            methods: Object.fromEntries(Object.entries(l.methods).map(([m, x]) => [m, metricsJson(x)])),
            random: l.random ? metricsJson(l.random) : null,
            unavailable: l.unavailable,
          },
        ]),
      ),
    })),
    summary: Object.fromEntries(
      r.summary.map((l) => [
        l.label,
        {
          methods: Object.fromEntries(Object.entries(l.methods).map(([m, s]) => [m, summaryJson(s)])),
          random: l.random ? summaryJson(l.random) : null,
        },
      ]),
    ),
    ranking: deletionRanking(response),
    sanity: r.sanity
      ? {
          modules: r.sanity.modules,
          images: r.sanity.images,
          layers: Object.fromEntries(
            r.sanity.layers.map((l) => [
              l.label,
              {
                methods: Object.fromEntries(
                  Object.entries(l.methods).map(([m, s]) => [
                    m,
                    s
                      ? { cascading: similarityJson(s.cascading), independent: similarityJson(s.independent), verdict: s.verdict }
                      : null,
                  ]),
                ),
                unavailable: l.unavailable,
              },
            ]),
          ),
          verdicts: r.sanity.verdicts,
        }
      : null,
    provider: r.provider,
    cached: response.cached,
    run: response.run,
    timings: {
      total_ms: r.timings.totalMs,
      cam_ms: r.timings.camMs,
      faithfulness_ms: r.timings.faithfulnessMs,
      forward_passes: r.timings.forwardPasses,
      sanity_ms: r.timings.sanityMs,
    },
  };
}

const label = (m: string): string => CAM_METHOD_LABELS[m as CamMethod] ?? m;
const num = (x: number | null, digits = 3): string => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(digits));

function printTable(response: TrustResponse, out: (text: string) => void): void {
  const r = response.result;
  if (r.summary.length > 0) {
    out(
      `${'layer'.padEnd(24)} ${'method'.padEnd(22)} ${'deletion'.padStart(9)} ${'insertion'.padStart(9)} ${'avg drop'.padStart(9)} ${'increase'.padStart(9)} ${'pointing'.padStart(9)}`,
    );
    for (const l of r.summary) {
      const rows: [string, MetricSummary][] = Object.entries(l.methods).map(([m, s]) => [label(m), s]);
      if (l.random) rows.push(['(random map)', l.random]);
      for (const [name, s] of rows)
        out(
          `${l.label.slice(0, 24).padEnd(24)} ${name.padEnd(22)} ${num(s.deletionAuc).padStart(9)} ${num(s.insertionAuc).padStart(9)} ${`${num(s.averageDrop, 1)}%`.padStart(9)} ${`${num(s.increase, 0)}%`.padStart(9)} ${(s.pointing === null ? '–' : `${num(s.pointing, 0)}%`).padStart(9)}`,
        );
    }
  }
  if (r.sanity) {
    out('');
    out(`sanity check over ${r.sanity.images} image(s); randomised in turn: ${r.sanity.modules.map((m) => m.label).join(' → ')}`);
    for (const l of r.sanity.layers)
      for (const [m, s] of Object.entries(l.methods))
        if (s)
          out(
            `${l.label.slice(0, 24).padEnd(24)} ${label(m).padEnd(22)} rank correlation ${s.cascading.spearman.map((x) => x.toFixed(2)).join(' ')}  ${s.verdict}`,
          );
    out(
      `verdicts: ${Object.entries(r.sanity.verdicts)
        .map(([m, v]) => `${label(m)} ${v}`)
        .join(', ')}`,
    );
  }
  const t = r.timings;
  out(
    `${r.images.length || r.sanity?.images || 0} image(s), ${r.provider}, ${response.cached ? `from run ${response.run ?? '(memory)'}, cached` : `${(t.totalMs / 1000).toFixed(1)} s (${t.forwardPasses} scored images${r.sanity ? `, sanity ${(t.sanityMs / 1000).toFixed(1)} s` : ''})`}`,
  );
}

export async function evaluateCommand(argv: string[], out: (text: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      methods: { type: 'string' },
      layers: { type: 'string' },
      class: { type: 'string' },
      steps: { type: 'string' },
      baseline: { type: 'string' },
      boxes: { type: 'string' },
      sanity: { type: 'boolean', default: false },
      'no-faithfulness': { type: 'boolean', default: false },
      seed: { type: 'string' },
      device: { type: 'string' },
      json: { type: 'string' },
      ...DATABASE_OPTIONS,
    },
  });
  const [modelPath, ...imageArgs] = positionals;
  if (!modelPath || imageArgs.length === 0) throw new UsageError('evaluate takes MODEL and at least one image, folder or .npy');
  const methods = values.methods === undefined ? EVALUATE_DEFAULT_METHODS : parseMethods(values.methods);
  const classIndex = parseClass(values.class);
  const steps = parsePositiveInt('--steps', values.steps, DEFAULT_TRUST_STEPS);
  if (steps < 2 || steps > 1000) throw new UsageError(`--steps must be between 2 and 1000 (got ${steps})`);
  const seed = values.seed === undefined ? 0 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new UsageError(`--seed must be an integer 0…2³²−1 (got "${values.seed}")`);
  const faithfulness = !values['no-faithfulness'];
  if (!faithfulness && !values.sanity) throw new UsageError('--no-faithfulness leaves nothing to do without --sanity');
  const baseline = parseBaseline(values.baseline);
  const boxes = values.boxes ? await readBoxes(values.boxes) : null;
  const layers = values.layers
    ? values.layers
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
  const engine = await Engine.create({ device: parseDevice(values.device), ...storageFrom(values) });
  const interrupt = cancelOnInterrupt();
  const jobId = 'cli-evaluate';
  interrupt.signal.addEventListener('abort', () => void engine.cancelJob({ jobId }));
  try {
    const model = await engine.openModelPath({ path: modelPath });
    const files = await expandImageArgs(imageArgs);
    const response = await engine.evaluateTrust(
      {
        modelId: model.id,
        images: files.map((file) => ({ kind: 'path', path: file })),
        boxes: boxes ? files.map((f) => boxes.get(path.basename(f)) ?? null) : null,
        layers,
        methods,
        classIndex,
        settings: { steps, baseline, seed },
        faithfulness,
        sanity: values.sanity,
        jobId,
      },
      {
        progress: ({ done, total, layer }) => {
          if (process.stderr.isTTY) process.stderr.write(`\r${layer} ${done}/${total}   `);
        },
      },
    );
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    if (values.json !== undefined) {
      const text = JSON.stringify(evaluateJson(model.name, response, classIndex));
      if (values.json === '-') out(text);
      else await writeFile(values.json, text);
    }
    if (values.json !== '-') printTable(response, out);
  } finally {
    interrupt.dispose();
    engine.dispose();
  }
}
