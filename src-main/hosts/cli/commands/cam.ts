import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import {
  CAM_METHODS,
  DEFAULT_METHODS,
  isCamMethod,
  type CamMethod,
  type CamResult,
  type RawMap,
} from '../../../../src-shared/cam';
import { heatmapPixels } from '../../../../src-shared/heatmap';
import { Engine } from '../../../engine/engine';
import { DATABASE_OPTIONS, storageFrom, reportNotKept } from '../database-option';
import { paneSize } from '../../../report/pixels';
import { cancelOnInterrupt, parseDevice, parsePositiveInt, UsageError } from '../errors';

/** The smallest default PNG side: a 96-px model's maps are unreadable at 96 px. */
const MIN_DEFAULT_PNG = 224;

export function parseMethods(value: string | undefined): CamMethod[] {
  if (value === undefined) return [...DEFAULT_METHODS];
  if (value === 'all') return [...CAM_METHODS];
  const names = value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const unknown = names.filter((n) => !isCamMethod(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new UsageError(
      `unknown method ${unknown.map((n) => `"${n}"`).join(', ') || '(none)'}; methods are ${CAM_METHODS.join(', ')} or all`,
    );
  }
  return [...new Set(names as CamMethod[])];
}

export function parseClass(value: string | undefined): number | 'top' {
  if (value === undefined || value === 'top') return 'top';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--class must be a class index or "top" (got "${value}")`);
  return n;
}

/** 2-D rows, as the JSON contract has it. */
function rows(map: RawMap): number[][] {
  return Array.from({ length: map.height }, (_, y) => Array.from(map.data.subarray(y * map.width, (y + 1) * map.width)));
}

export function camJson(result: CamResult): object {
  return {
    class: result.classIndex,
    label: result.label,
    counterfactual: result.counterfactual,
    eigenSmooth: result.eigenSmooth ?? false,
    augSmooth: result.augSmooth ?? false,
    logits: Array.from(result.logits),
    provider: result.provider,
    layers: Object.fromEntries(
      result.layers.map((l) => [
        l.label,
        {
          tensor: l.tensor,
          shape: l.shape,
          maps: Object.fromEntries(
            Object.entries(l.maps).map(([m, map]) => {
              const note = l.notes?.[m as CamMethod];
              return [m, note ? { raw: rows(map), note } : { raw: rows(map) }];
            }),
          ),
          unavailable: l.unavailable,
        },
      ]),
    ),
  };
}

const safe = (s: string): string => s.replace(/[^\w.+-]+/g, '_').replace(/^_+|_+$/g, '') || 'layer';

async function writePngs(
  dir: string,
  result: CamResult,
  rgb: Uint8Array | null,
  width: number,
  height: number,
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const layer of result.layers) {
    for (const [method, map] of Object.entries(layer.maps)) {
      const display = { upsampling: 'bilinear', scaling: 'relu', colormap: 'magma', opacity: 0.5 } as const;
      const { pixels } = heatmapPixels(map, rgb, width, height, display);
      const file = path.join(dir, `${safe(layer.label)}_${safe(method)}.png`);
      await sharp(Buffer.from(pixels.buffer), { raw: { width, height, channels: 4 } })
        .png()
        .toFile(file);
      written.push(file);
    }
  }
  return written;
}

export async function camCommand(argv: string[], out: (text: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      layers: { type: 'string' },
      methods: { type: 'string' },
      class: { type: 'string' },
      counterfactual: { type: 'boolean', default: false },
      'eigen-smooth': { type: 'boolean', default: false },
      'aug-smooth': { type: 'boolean', default: false },
      device: { type: 'string' },
      json: { type: 'string' },
      png: { type: 'string' },
      'png-size': { type: 'string' },
      ...DATABASE_OPTIONS,
    },
  });
  const [modelPath, inputPath, ...extra] = positionals;
  if (!modelPath || !inputPath || extra.length > 0) throw new UsageError('cam takes MODEL and INPUT');
  const layers = (values.layers ?? 'stages')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const methods = parseMethods(values.methods);
  const classIndex = parseClass(values.class);
  const pngSide = values['png-size'] === undefined ? null : parsePositiveInt('--png-size', values['png-size'], 0);
  if (pngSide !== null && pngSide > 8192) throw new UsageError(`--png-size must be at most 8192 (got ${pngSide})`);
  const engine = await Engine.create({ device: parseDevice(values.device), ...storageFrom(values) });
  const interrupt = cancelOnInterrupt();
  const jobId = 'cli-cam';
  interrupt.signal.addEventListener('abort', () => void engine.cancelJob({ jobId }));
  try {
    const model = await engine.openModelPath({ path: modelPath });
    const showProgress = process.stderr.isTTY;
    const answer = await engine.computeCam(
      {
        modelId: model.id,
        image: { kind: 'path', path: inputPath },
        layers,
        methods,
        classIndex,
        counterfactual: values.counterfactual,
        ...(values['eigen-smooth'] ? { eigenSmooth: true } : {}),
        ...(values['aug-smooth'] ? { augSmooth: true } : {}),
        jobId,
      },
      {
        progress: (p) => {
          if (showProgress) process.stderr.write(`\r${p.method} ${p.layer}: ${p.done}/${p.total} channels   `);
        },
      },
    );
    reportNotKept(engine, answer.run);
    const { result } = answer;
    if (showProgress && !answer.cached && methods.some((m) => m === 'scorecam' || m === 'ablationcam'))
      process.stderr.write('\n');
    if (values.json !== undefined) {
      const text = JSON.stringify({ ...camJson(result), cached: answer.cached, run: answer.run });
      if (values.json === '-') out(text);
      else await writeFile(values.json, text);
    }
    if (values.png !== undefined) {
      const view = answer.modelView;
      const [inputH, inputW] = [result.inputShape[2] ?? 224, result.inputShape[3] ?? 224];
      const [viewW, viewH] = view ? [view.width, view.height] : [inputW, inputH];
      const { width, height } = paneSize(viewW, viewH, pngSide ?? Math.max(MIN_DEFAULT_PNG, viewW, viewH));
      const rgb = view
        ? new Uint8Array(
            await sharp(Buffer.from(view.rgb.buffer, view.rgb.byteOffset, view.rgb.byteLength), {
              raw: { width: view.width, height: view.height, channels: 3 },
            })
              .resize(width, height, { fit: 'fill' })
              .raw()
              .toBuffer(),
          )
        : null;
      const files = await writePngs(values.png, result, rgb, width, height);
      if (values.json !== '-') out(`wrote ${files.length} PNG files to ${values.png}`);
    }
    if (values.json === undefined || values.json !== '-') {
      const source = answer.cached ? `from run ${answer.run ?? '(memory)'}, cached` : `${result.timings.totalMs.toFixed(0)} ms`;
      const options = [
        result.counterfactual ? ', counterfactual' : '',
        result.eigenSmooth ? ', eigen-smooth' : '',
        result.augSmooth ? ', aug-smooth' : '',
      ].join('');
      out(`${result.label} (class ${result.classIndex}${options}), ${result.provider}, ${source}`);
      for (const layer of result.layers) {
        const done = Object.keys(layer.maps);
        out(`  ${layer.label} [${layer.shape.join(', ')}]: ${done.join(', ') || 'no maps'}`);
        for (const [m, why] of Object.entries(layer.unavailable)) out(`    ${m} unavailable: ${why}`);
      }
    }
  } finally {
    interrupt.dispose();
    engine.dispose();
  }
}
