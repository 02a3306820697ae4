import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { StatsResponse } from '../../../../src-shared/api';
import type { LayerStatsView } from '../../../../src-shared/layer-stats';
import { Engine } from '../../../engine/engine';
import { expandImageArgs } from '../../../engine/stats/image-set';
import type { HistogramRange } from '../../../engine/stats/layer-stats';
import { DATABASE_OPTIONS, storageFrom, reportNotKept } from '../database-option';
import { cancelOnInterrupt, parseDevice, parsePositiveInt, UsageError } from '../errors';

export function parseRange(value: string | undefined): HistogramRange {
  if (value === undefined) return { kind: 'fixed', lo: 0, hi: 10 };
  if (value === 'auto') return { kind: 'auto' };
  const parts = value.split(',').map(Number);
  const [lo, hi] = parts;
  if (parts.length !== 2 || lo === undefined || hi === undefined || !Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) {
    throw new UsageError(`--range must be LO,HI with LO < HI, or auto (got "${value}")`);
  }
  return { kind: 'fixed', lo, hi };
}

export function statsJson(result: StatsResponse): object {
  return {
    images: result.images,
    skipped: result.skipped.map((s) => ({ index: s.index, reason: s.reason })),
    cancelled: result.cancelled,
    provider: result.provider,
    cached: result.cached,
    run: result.run,
    layers: Object.fromEntries(result.layers.map((l) => [l.label, { ...layerStatsJson(l), per_image: l.perImage }])),
  };
}

/** One layer's statistics in the JSON contract of `stats` (and of `interpret --class-stats`, per class). */
export function layerStatsJson(l: LayerStatsView): object {
  return {
    tensor: l.tensor,
    mean: l.mean,
    std: l.std,
    near_zero: l.nearZero,
    range: l.range,
    hist: Array.from(l.hist),
    outside: l.outside,
    dead_channels: l.deadChannels,
  };
}

export async function statsCommand(argv: string[], out: (text: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      layers: { type: 'string' },
      'include-paramless': { type: 'boolean', default: false },
      bins: { type: 'string' },
      range: { type: 'string' },
      device: { type: 'string' },
      json: { type: 'string' },
      ...DATABASE_OPTIONS,
    },
  });
  const [modelPath, ...imageArgs] = positionals;
  if (!modelPath || imageArgs.length === 0) throw new UsageError('stats takes MODEL and at least one image, folder or .npy');
  const range = parseRange(values.range);
  const layers = values.layers
    ? values.layers
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : null;
  const bins = parsePositiveInt('--bins', values.bins, 40);
  const engine = await Engine.create({ device: parseDevice(values.device), ...storageFrom(values) });
  const interrupt = cancelOnInterrupt();
  const jobId = 'cli-stats';
  interrupt.signal.addEventListener('abort', () => void engine.cancelJob({ jobId }));
  try {
    const model = await engine.openModelPath({ path: modelPath });
    const files = await expandImageArgs(imageArgs);
    const started = Date.now();
    const result = await engine.computeStats(
      {
        modelId: model.id,
        images: files.map((file) => ({ kind: 'path', path: file })),
        layers,
        includeParamless: values['include-paramless'],
        bins,
        range: range.kind === 'fixed' ? [range.lo, range.hi] : null,
        jobId,
      },
      {
        progress: ({ done, total, layer }) => {
          if (!process.stderr.isTTY) return;
          if (layer === 'reading') {
            process.stderr.write(`\rreading ${done}/${total} inputs   `);
            return;
          }
          const rate = done / ((Date.now() - started) / 1000 || 1);
          process.stderr.write(
            `\r${done}/${total} images, ${rate.toFixed(1)}/s, ETA ${Math.ceil((total - done) / (rate || 1))} s   `,
          );
          reportNotKept(engine, result.run);
        },
      },
    );
    if (process.stderr.isTTY && !result.cached) process.stderr.write('\n');
    if (values.json !== undefined) {
      const text = JSON.stringify(statsJson(result));
      if (values.json === '-') out(text);
      else await writeFile(values.json, text);
    }
    if (values.json !== '-') {
      const source = result.cached ? `from run ${result.run ?? '(memory)'}, cached` : `${(result.ms / 1000).toFixed(1)} s`;
      out(
        `${result.images}/${result.total} images${result.cancelled ? ' (cancelled: partial result)' : ''}, ${result.layers.length} layers, ${result.provider}, ${source}`,
      );
      out(`${'layer'.padEnd(40)} ${'mean'.padStart(10)} ${'std'.padStart(10)} ${'near 0'.padStart(8)}  dead channels`);
      for (const l of result.layers) {
        out(
          `${l.label.slice(0, 40).padEnd(40)} ${l.mean.toFixed(4).padStart(10)} ${l.std.toFixed(4).padStart(10)} ${(l.nearZero * 100).toFixed(1).padStart(7)}%  ${l.deadChannels.length}`,
        );
      }
    }
  } finally {
    interrupt.dispose();
    engine.dispose();
  }
}
