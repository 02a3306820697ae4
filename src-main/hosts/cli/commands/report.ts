import path from 'node:path';
import { parseArgs } from 'node:util';
import { Engine } from '../../../engine/engine';
import { EngineError } from '../../../engine/errors';
import { expandImageArgs } from '../../../engine/stats/image-set';
import { chromiumPrinter, findChromium } from '../../../report/chromium';
import { parseDisplay } from '../../../report/display-options';
import { DEFAULT_MAX_IMAGES, gatherReport } from '../../../report/gather';
import { formatBytes } from '../../../report/format';
import { reportFormat, writeReport } from '../../../report/write-report';
import { DATABASE_OPTIONS, databaseFrom } from '../database-option';
import { cancelOnInterrupt, parseDevice, parsePositiveInt, UsageError } from '../errors';
import { parseClass, parseMethods } from './cam';
import type { CamMethod } from '../../../../src-shared/cam';

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
    const [first, ...extra] = positionals;
    if (first !== undefined && isRunId(first) && extra.length === 0 && values.images === undefined) {
      // RUN_ID form (`layerlens report RUN_ID --out FILE`): to be wired to the run history — open the run
      // (Engine.openRun), turn its stored CAM or statistics result into ReportData, and write it like below.
      throw new EngineError(
        'unsupported',
        `Reports from a stored run (run ${first}) are not available yet: use layerlens report --model MODEL --images IMAGE... --out ${outFile}.`,
      );
    }
    throw new UsageError('report takes --model MODEL and --images IMAGE... (or a RUN_ID)');
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

  const engine = await Engine.create({ device, database: databaseFrom(values) });
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
