/**
 * Regenerates docs/sample-report.html: the report of the bundled demo model over its eight sample images,
 * with activation statistics, as `layerlens report` writes it. Run: npm run report:sample
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runCli } from '../src-main/hosts/cli/main';

const demo = 'resources/demo';
const { samples } = JSON.parse(await readFile(path.join(demo, 'samples.json'), 'utf8')) as { samples: { file: string }[] };
process.exitCode = await runCli([
  'report',
  '--model',
  path.join(demo, 'layerlens-demo.onnx'),
  '--images',
  ...samples.map((s) => path.join(demo, s.file)),
  '--methods',
  'cam,gradcam,gradcam++,layercam,eigencam',
  '--stats',
  '--title',
  'LayerLens demo: shapes on cluttered backgrounds',
  '--device',
  'cpu',
  '--no-history',
  '--out',
  'docs/sample-report.html',
]);
