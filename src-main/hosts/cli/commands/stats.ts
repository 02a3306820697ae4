import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Engine } from '../../../engine/engine';
import { expandImageArgs } from '../../../engine/stats/image-set';
import type { HistogramRange } from '../../../engine/stats/layer-stats';
import type { StatsResult } from '../../../engine/stats/stats-runner';
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

export function statsJson(result: StatsResult): object {
  return {
    images: result.images,
    skipped: result.skipped.map((s) => ({ index: s.index, reason: s.reason })),
    cancelled: result.cancelled,
    provider: result.provider,
    layers: Object.fromEntries(
      result.layers.map((l) => [
        l.label,
        {
          tensor: l.tensor,
          mean: l.stats.mean,
          std: l.stats.std,
          near_zero: l.stats.nearZero,
          range: l.stats.range,
          hist: l.stats.hist,
          outside: l.stats.outside,
          per_image: l.stats.perImage,
          dead_channels: l.stats.deadChannels,
        },
      ]),
    ),
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
    },
  });
  const [modelPath, ...imageArgs] = positionals;
  if (!modelPath || imageArgs.length === 0) throw new UsageError('stats takes MODEL and at least one image, folder or .npy');
  const request = {
    layers: values.layers
      ? values.layers
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : null,
    includeParamless: values['include-paramless'],
    bins: parsePositiveInt('--bins', values.bins, 40),
    range: parseRange(values.range),
  };
  const engine = await Engine.create({ device: parseDevice(values.device) });
  const interrupt = cancelOnInterrupt();
  try {
    const model = await engine.models.openPath(modelPath);
    const files = await expandImageArgs(imageArgs);
    const started = Date.now();
    const result = await engine.statsFiles(
      model,
      files,
      request,
      process.stderr.isTTY
        ? (done, total) => {
            const rate = done / ((Date.now() - started) / 1000 || 1);
            process.stderr.write(
              `\r${done}/${total} images, ${rate.toFixed(1)}/s, ETA ${Math.ceil((total - done) / (rate || 1))} s   `,
            );
          }
        : undefined,
      interrupt.signal,
    );
    if (process.stderr.isTTY) process.stderr.write('\n');
    if (values.json !== undefined) {
      const text = JSON.stringify(statsJson(result));
      if (values.json === '-') out(text);
      else await writeFile(values.json, text);
    }
    if (values.json !== '-') {
      out(
        `${result.images}/${result.total} images${result.cancelled ? ' (cancelled: partial result)' : ''}, ${result.layers.length} layers, ${result.provider}, ${(result.ms / 1000).toFixed(1)} s`,
      );
      out(`${'layer'.padEnd(40)} ${'mean'.padStart(10)} ${'std'.padStart(10)} ${'near 0'.padStart(8)}  dead channels`);
      for (const l of result.layers) {
        const s = l.stats;
        out(
          `${l.label.slice(0, 40).padEnd(40)} ${s.mean.toFixed(4).padStart(10)} ${s.std.toFixed(4).padStart(10)} ${(s.nearZero * 100).toFixed(1).padStart(7)}%  ${s.deadChannels.length}`,
        );
      }
    }
  } finally {
    interrupt.dispose();
    engine.dispose();
  }
}
