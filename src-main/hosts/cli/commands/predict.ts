import path from 'node:path';
import { parseArgs } from 'node:util';
import { Engine } from '../../../engine/engine';
import { DATABASE_OPTIONS } from '../database-option';
import { parseDevice, parsePositiveInt, UsageError } from '../errors';

export async function predictCommand(argv: string[], out: (text: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    // A prediction is never stored, but --db / --no-history are accepted as by every other command, so one
    // set of options can be passed to all of them.
    options: {
      top: { type: 'string' },
      device: { type: 'string' },
      json: { type: 'boolean', default: false },
      ...DATABASE_OPTIONS,
    },
  });
  const [modelPath, inputPath, ...extra] = positionals;
  if (!modelPath || !inputPath || extra.length > 0) throw new UsageError('predict takes MODEL and INPUT');
  const k = parsePositiveInt('--top', values.top, 5);
  const engine = await Engine.create({ device: parseDevice(values.device) });
  try {
    const model = await engine.models.openPath(modelPath);
    const image = await engine.resolveImage({ kind: 'path', path: inputPath });
    const prediction = await engine.predictTensor(model, image, k);
    if (values.json) {
      out(
        JSON.stringify({
          top: prediction.top,
          provider: prediction.provider,
          input_shape: prediction.inputShape,
          inference_ms: Number(prediction.inferenceMs.toFixed(3)),
        }),
      );
      return;
    }
    out(
      `${path.basename(modelPath)} on ${path.basename(inputPath)} (${prediction.provider}, ${prediction.inferenceMs.toFixed(1)} ms)`,
    );
    for (const [rank, row] of prediction.top.entries()) {
      out(`${String(rank + 1).padStart(2)}. ${(row.prob * 100).toFixed(2).padStart(6)}%  ${row.label} (class ${row.class})`);
    }
  } finally {
    engine.dispose();
  }
}
