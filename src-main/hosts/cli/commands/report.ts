import path from 'node:path';
import { parseArgs } from 'node:util';
import { Engine } from '../../../engine/engine';
import { expandImageArgs } from '../../../engine/stats/image-set';
import { chromiumPrinter, findChromium } from '../../../report/chromium';
import { parseDisplay } from '../../../report/display-options';
import { gatherRunsReport } from '../../../report/from-runs';
import { DEFAULT_MAX_IMAGES, gatherReport } from '../../../report/gather';
import { formatBytes } from '../../../report/format';
import { reportFormat, writeReport } from '../../../report/write-report';
import { DATABASE_OPTIONS, databaseFrom, storageFrom } from '../database-option';
import { cancelOnInterrupt, parseDevice, parsePositiveInt, UsageError } from '../errors';
import { parseClass, parseMethods } from './cam';
import type { CamMethod } from '../../../../src-shared/cam';
import type { RunId } from '../../../../src-shared/runs';

/** What a report explains by default: the studio's grid (CAM, or LayerCAM where the head forbids CAM, beside Grad-CAM). */
export const REPORT_METHODS: CamMethod[] = ['cam', 'gradcam', 'layercam'];

const isRunId = (s: string): boolean => /^\d+$/.test(s);

export async function reportCommand(argv: string[], out: (text: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      images: { type: 'string', multiple: true },
      methods: { type: 'string' },
      layers: { type: 'string' },
      class: { type: 'string' },
      counterfactual: { type: 'boolean', default: false },
      stats: { type: 'boolean', default: false },
      trust: { type: 'boolean', default: false },
      'max-images': { type: 'string' },
      title: { type: 'string' },
      colormap: { type: 'string' },
      scaling: { type: 'string' },
      upsampling: { type: 'string' },
      opacity: { type: 'string' },
      device: { type: 'string' },
      out: { type: 'string' },
      ...DATABASE_OPTIONS,
    },
  });
  const outFile = values.out;
  if (!outFile) throw new UsageError('report needs --out FILE (.html or .pdf)');
  const format = reportFormat(outFile);
  if (!format) throw new UsageError(`--out must end in .html or .pdf (got "${outFile}")`);

  if (values.model === undefined) {
    if (positionals.length > 0 && positionals.every(isRunId) && values.images === undefined) {
      await reportOfRuns(
        positionals.map((id) => Number(id) as RunId),
        outFile,
        values,
        out,
      );
      return;
    }
    throw new UsageError('report takes --model MODEL and --images IMAGE... (or RUN_IDs)');
  }
  // `--images a.png b.png`: parseArgs takes the first value, the others arrive as positionals.
  const imageArgs = [...(values.images ?? []), ...positionals];
  if (imageArgs.length === 0) throw new UsageError('report needs --images IMAGE... (files, folders or .npy)');
  const methods = parseMethods(values.methods ?? REPORT_METHODS.join(','));
  const classIndex = parseClass(values.class);
  const layers = (values.layers ?? 'stages')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const maxImages = parsePositiveInt('--max-images', values['max-images'], DEFAULT_MAX_IMAGES);
  const device = parseDevice(values.device);
  const display = parseDisplay(values);
  if (typeof display === 'string') throw new UsageError(display);
  // Before minutes of analysis: a PDF that cannot be printed should fail now.
  const executable = format === 'pdf' ? findChromium() : undefined;

  const engine = await Engine.create({ device, ...storageFrom(values) });
  const interrupt = cancelOnInterrupt();
  const showProgress = process.stderr.isTTY;
  try {
    const images = await expandImageArgs(imageArgs);
    const data = await gatherReport(
      engine,
      {
        modelPath: values.model,
        images,
        methods,
        layers,
        classIndex,
        counterfactual: values.counterfactual,
        stats: values.stats ? { bins: 40, range: [0, 10] } : null,
        trust: values.trust,
        maxImages,
        display,
        device,
        ...(values.title ? { title: values.title } : {}),
      },
      {
        signal: interrupt.signal,
        progress: (message) => {
          if (showProgress) process.stderr.write(`\r${message.slice(0, 100).padEnd(100)}`);
        },
      },
    );
    if (showProgress) process.stderr.write(`\r${format === 'pdf' ? 'printing to PDF…' : 'writing…'}`.padEnd(101) + '\r');
    const size = await writeReport(data, outFile, () => chromiumPrinter(executable ? { executable } : {}));
    if (showProgress) process.stderr.write(`${''.padEnd(101)}\r`);
    const stages = data.images[0]?.cam.layers.length ?? 0;
    const shown =
      data.images.length === data.totalImages ? `${data.totalImages}` : `${data.images.length} of ${data.totalImages}`;
    out(
      `wrote ${path.resolve(outFile)} (${formatBytes(size)}): ${shown} images, ${stages} layers × ${methods.length} methods${data.stats ? `, statistics of ${data.stats.layers.length} layers` : ''}`,
    );
  } finally {
    interrupt.dispose();
    engine.dispose();
  }
}

/** `layerlens report RUN_ID...`: stored runs, as they were computed. */
async function reportOfRuns(
  ids: RunId[],
  outFile: string,
  values: {
    title?: string | undefined;
    'max-images'?: string | undefined;
    db?: string | undefined;
    'no-history'?: boolean;
  } & Parameters<typeof parseDisplay>[0],
  out: (text: string) => void,
): Promise<void> {
  const database = databaseFrom(values);
  if (!database) throw new UsageError('reports of stored runs need the run database: --no-history turns it off');
  const display = parseDisplay(values);
  if (typeof display === 'string') throw new UsageError(display);
  const executable = reportFormat(outFile) === 'pdf' ? findChromium() : undefined;
  const engine = await Engine.create({ device: 'cpu', ...storageFrom(values), database });
  try {
    const data = await gatherRunsReport(engine, ids, {
      display,
      maxImages: parsePositiveInt('--max-images', values['max-images'], DEFAULT_MAX_IMAGES),
      ...(values.title ? { title: values.title } : {}),
    });
    const size = await writeReport(data, outFile, () => chromiumPrinter(executable ? { executable } : {}));
    out(
      `wrote ${path.resolve(outFile)} (${formatBytes(size)}) from run${ids.length > 1 ? 's' : ''} ${ids.join(', ')}: ${data.images.length} images${data.stats ? `, statistics of ${data.stats.layers.length} layers` : ''}`,
    );
  } finally {
    engine.dispose();
  }
}
