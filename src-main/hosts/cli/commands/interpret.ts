import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { CamMethod, RawMap } from '../../../../src-shared/cam';
import { imageAt, MAX_TOP_LOSSES, type Interpretation, type InterpretResponse } from '../../../../src-shared/dataset';
import { Engine } from '../../../engine/engine';
import { DATABASE_OPTIONS, databaseFrom } from '../database-option';
import { cancelOnInterrupt, parseDevice, UsageError } from '../errors';
import { camJson, parseMethods } from './cam';
import { layerStatsJson } from './stats';

export const INTERPRET_HELP = `layerlens interpret MODEL DATASET [options]

fastai's ClassificationInterpretation for any ONNX classifier: every image of a labelled DATASET is
predicted (streamed in batches, memory flat), then accuracy, per-class precision and recall, the confusion
matrix, the most confused pairs and the top losses (highest cross-entropy), each top loss with its
Grad-CAM (or the chosen methods) for the predicted and for the actual class.

DATASET is a folder with one sub-folder of images per class (ImageFolder: DATASET/cat/1.jpg), or a CSV
or TSV file of path,label rows (paths relative to the file; an optional header row "path,label"). A
label is a class name as the model names it (its metadata or labels; case, spaces, _ and - ignored) or a
class index. A label that matches no class stops the run before any work, naming the first few.
Unreadable images and CSV rows naming missing files are skipped, listed and counted.

Options:
  --top-losses K        how many top losses get maps (default 9, at most ${MAX_TOP_LOSSES}; 0: none)
  --stage S             the layer of the maps: a module path or tensor name (default: the last stage)
  --methods M,...       map methods (default gradcam; see "layerlens help cam")
  --class-maps          per-class mean maps: in the prediction pass, each image's map (the methods
                        above, at the stage above) for its actual class, summed per class (no map is
                        kept) and divided by the class's image count; images whose map has another
                        size than their class's first are counted, not averaged (off by default)
  --class-stats         per-class activation statistics: what "layerlens stats" computes (the default
                        layers, 40 bins on [0, 10]) over each actual class's images alone, accumulated in
                        one more streamed pass over the set (off by default)
  --device D            auto | cpu | cuda (default auto)
  --json OUT            write the JSON below to OUT ("-" for stdout)
  --db FILE, --no-history
                        the run database (see "layerlens --help"); the run is stored in the history

Ctrl-C stops the run and keeps the partial result (images predicted so far, "cancelled": true).

JSON output (stable):
  {"dataset": "/abs/path", "layout": "folders" | "csv", "total": N, "predicted": n,
   "skipped": [{"path": "…", "reason": "…"}], "cancelled": false,
   "accuracy": a, "mean_loss": l,
   "classes": [{"class": k, "label": "…", "support": s, "predicted": p, "correct": c,
                "precision": c/p | null, "recall": c/s | null}, …],
   "confusion": {"classes": [k, …], "labels": ["…", …], "counts": [[…], …]},   rows actual, columns predicted
   "most_confused": [{"actual": k, "actual_label": "…", "predicted": j, "predicted_label": "…", "count": c}, …],
   "top_losses": [{"path": "…", "actual": k, "actual_label": "…", "predicted": j, "predicted_label": "…",
                   "loss": l, "prob_predicted": p, "prob_actual": q,
                   "maps": {"predicted": CAM, "actual": CAM | null}}, …],
   "predictions": [{"path": "…", "actual": k, "predicted": j, "loss": l, "prob_predicted": p, "prob_actual": q}, …],
   "layer": "layer4", "methods": ["gradcam"], "provider": "cpu", "batch": 16,
   "predict_ms": t, "maps_ms": t, "cached": false, "run": 12,
   "class_maps": [{"class": k, "label": "…", "images": n, "other_geometry": m,
                   "maps": {"gradcam": [[…], …], …}, "unavailable": {"method": "why"}}, …] | null,
   "class_stats": [{"class": k, "label": "…", "images": n,
                    "layers": {"LAYER": {"tensor": "…", "mean": m, "std": s, "near_zero": z, "range": [0, 10],
                                         "hist": […], "outside": o, "dead_channels": […]}, …}}, …] | null,
   "class_maps_ms": t, "class_stats_ms": t}
  "loss" is −ln p(actual), p the softmax of the logits (the model's own output when it ends in Softmax);
  the confusion matrix covers the classes that occur as actual or predicted. CAM is the shape of
  "layerlens cam --json" for that class ("actual" is null when the prediction was right).
  "class_maps" (with --class-maps; else null) and "class_stats" (with --class-stats; else null) are per
  actual class, in class order: a class map is the mean of the raw maps (rows of the map's grid) that
  "layerlens cam --class k" gives each image of class k; a class's statistics are the layers of
  "layerlens stats --json" over the class's images (histograms on the run's range).

Exit status: 0 on success (also when images were skipped), 1 when the model or data set cannot be used
(the reason is on stderr), 2 on bad usage.
`;

export function interpretJson(result: InterpretResponse): object {
  const label = (k: number): string => result.labels[k] ?? `class ${k}`;
  const n = result.confusion.classes.length;
  const prediction = (i: number): Record<string, unknown> => {
    const p = imageAt(result.images, i);
    return {
      path: p.path,
      actual: p.actual,
      predicted: p.predicted,
      loss: p.loss,
      prob_predicted: p.probPredicted,
      prob_actual: p.probActual,
    };
  };
  return {
    dataset: result.dataset,
    layout: result.layout,
    total: result.total,
    predicted: result.images.paths.length,
    skipped: result.skipped,
    cancelled: result.cancelled,
    accuracy: result.accuracy,
    mean_loss: result.meanLoss,
    classes: result.perClass.map((c) => ({
      class: c.class,
      label: c.label,
      support: c.support,
      predicted: c.predictedCount,
      correct: c.correct,
      precision: c.precision,
      recall: c.recall,
    })),
    confusion: {
      classes: result.confusion.classes,
      labels: result.confusion.classes.map(label),
      counts: Array.from({ length: n }, (_, a) => result.confusion.counts.slice(a * n, (a + 1) * n)),
    },
    most_confused: result.mostConfused.map((p) => ({
      actual: p.actual,
      actual_label: label(p.actual),
      predicted: p.predicted,
      predicted_label: label(p.predicted),
      count: p.count,
    })),
    top_losses: result.topLosses.map((t) => {
      const p = prediction(t.index);
      return {
        ...p,
        actual_label: label(p.actual as number),
        predicted_label: label(p.predicted as number),
        maps: { predicted: camJson(t.predicted), actual: t.actual ? camJson(t.actual) : null },
      };
    }),
    predictions: Array.from({ length: result.images.paths.length }, (_, i) => prediction(i)),
    layer: result.layer,
    methods: result.methods,
    provider: result.provider,
    batch: result.batch,
    predict_ms: result.predictMs,
    maps_ms: result.mapsMs,
    cached: result.cached,
    run: result.run,
    class_maps:
      result.classMaps?.map((c) => ({
        class: c.class,
        label: label(c.class),
        images: c.images,
        other_geometry: c.otherGeometry,
        maps: Object.fromEntries(Object.entries(c.maps).map(([m, map]) => [m, mapRows(map)])),
        unavailable: c.unavailable,
      })) ?? null,
    class_stats:
      result.classStats?.map((c) => ({
        class: c.class,
        label: label(c.class),
        images: c.images,
        layers: Object.fromEntries(c.layers.map((l) => [l.label, layerStatsJson(l)])),
      })) ?? null,
    class_maps_ms: result.classMapsMs ?? 0,
    class_stats_ms: result.classStatsMs ?? 0,
  };
}

function mapRows(map: RawMap): number[][] {
  return Array.from({ length: map.height }, (_, y) => Array.from(map.data.subarray(y * map.width, (y + 1) * map.width)));
}

/** fastai's printout: the summary, per-class table, most confused and the top losses. */
export function interpretText(result: Interpretation & { cached: boolean; run: number | null }): string[] {
  const label = (k: number): string => result.labels[k] ?? `class ${k}`;
  const pct = (x: number | null): string => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);
  const lines: string[] = [];
  const source = result.cached
    ? `from run ${result.run ?? '(memory)'}, cached`
    : `${((result.predictMs + result.mapsMs) / 1000).toFixed(1)} s`;
  lines.push(
    `${result.images.paths.length}/${result.total} images${result.cancelled ? ' (cancelled: partial result)' : ''}, accuracy ${pct(result.accuracy)}, mean loss ${result.meanLoss.toFixed(4)}, ${result.provider}, ${source}`,
  );
  if (result.skipped.length > 0) {
    lines.push(`skipped ${result.skipped.length}:`);
    for (const s of result.skipped.slice(0, 10)) lines.push(`  ${s.path}: ${s.reason}`);
    if (result.skipped.length > 10) lines.push(`  … and ${result.skipped.length - 10} more (see --json)`);
  }
  lines.push('', `${'class'.padEnd(24)} ${'support'.padStart(8)} ${'precision'.padStart(10)} ${'recall'.padStart(8)}`);
  for (const c of result.perClass) {
    lines.push(
      `${c.label.slice(0, 24).padEnd(24)} ${String(c.support).padStart(8)} ${pct(c.precision).padStart(10)} ${pct(c.recall).padStart(8)}`,
    );
  }
  const n = result.confusion.classes.length;
  if (n <= 20) {
    const names = result.confusion.classes.map((k) => label(k).slice(0, 9));
    lines.push('', 'confusion matrix (rows: actual, columns: predicted)');
    lines.push(`${''.padEnd(10)}${names.map((s) => s.padStart(10)).join('')}`);
    for (let a = 0; a < n; a++) {
      lines.push(
        `${(names[a] as string).padEnd(10)}${result.confusion.counts
          .slice(a * n, (a + 1) * n)
          .map((c) => String(c).padStart(10))
          .join('')}`,
      );
    }
  }
  if (result.mostConfused.length > 0) {
    lines.push('', 'most confused (actual → predicted: images)');
    for (const p of result.mostConfused.slice(0, 10)) lines.push(`  ${label(p.actual)} → ${label(p.predicted)}: ${p.count}`);
  }
  if (result.topLosses.length > 0) {
    lines.push(
      '',
      `top losses (prediction/actual/loss/probability), maps: ${result.methods.join(', ')} at ${result.layer ?? '?'}`,
    );
    for (const t of result.topLosses) {
      const p = imageAt(result.images, t.index);
      lines.push(`  ${label(p.predicted)}/${label(p.actual)}/${p.loss.toFixed(2)}/${p.probPredicted.toFixed(2)}  ${p.path}`);
    }
  }
  if (result.classMaps) {
    lines.push(
      '',
      `per-class mean maps (${result.methods.join(', ')} at ${result.layer ?? '?'}, for the actual class): see --json`,
    );
    for (const c of result.classMaps) {
      const other = c.otherGeometry > 0 ? `, ${c.otherGeometry} of another size left out` : '';
      lines.push(`  ${label(c.class)}: ${c.images} images${other}`);
    }
  }
  if (result.classStats) {
    lines.push(
      '',
      'per-class activation statistics (actual class): mean / std / near zero of the last layer; all layers in --json',
    );
    for (const c of result.classStats) {
      const l = c.layers.at(-1);
      if (!l) continue;
      lines.push(
        `  ${label(c.class).slice(0, 24).padEnd(24)} ${String(c.images).padStart(6)} images  ${l.label}: ${l.mean.toFixed(4)} / ${l.std.toFixed(4)} / ${(100 * l.nearZero).toFixed(1)}%`,
      );
    }
  }
  return lines;
}

export async function interpretCommand(argv: string[], out: (text: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'top-losses': { type: 'string' },
      stage: { type: 'string' },
      methods: { type: 'string' },
      device: { type: 'string' },
      json: { type: 'string' },
      'class-maps': { type: 'boolean' },
      'class-stats': { type: 'boolean' },
      ...DATABASE_OPTIONS,
    },
  });
  const [modelPath, dataset, ...extra] = positionals;
  if (!modelPath || !dataset || extra.length > 0) throw new UsageError('interpret takes MODEL and DATASET (a folder or a CSV)');
  const topLosses = values['top-losses'] === undefined ? 9 : Number(values['top-losses']);
  if (!Number.isInteger(topLosses) || topLosses < 0 || topLosses > MAX_TOP_LOSSES) {
    throw new UsageError(`--top-losses must be an integer from 0 to ${MAX_TOP_LOSSES} (got "${values['top-losses']}")`);
  }
  const methods: CamMethod[] = values.methods === undefined ? ['gradcam'] : parseMethods(values.methods);
  const engine = await Engine.create({ device: parseDevice(values.device), database: databaseFrom(values) });
  const interrupt = cancelOnInterrupt();
  const jobId = 'cli-interpret';
  interrupt.signal.addEventListener('abort', () => void engine.cancelJob({ jobId }));
  try {
    const model = await engine.openModelPath({ path: modelPath });
    const started = Date.now();
    const result = await engine.interpretDataset(
      {
        modelId: model.id,
        dataset,
        topLosses,
        layer: values.stage ?? null,
        methods,
        ...(values['class-maps'] ? { classMaps: true } : {}),
        ...(values['class-stats'] ? { classStats: true } : {}),
        jobId,
      },
      {
        progress: ({ done, total, layer }) => {
          if (!process.stderr.isTTY) return;
          const rate = done / ((Date.now() - started) / 1000 || 1);
          const what =
            layer === 'maps'
              ? 'top losses mapped'
              : layer === 'reading'
                ? 'images read'
                : layer === 'class statistics'
                  ? 'images, class statistics'
                  : 'images';
          process.stderr.write(`\r${done}/${total} ${what}, ${rate.toFixed(1)}/s   `);
        },
      },
    );
    if (process.stderr.isTTY && !result.cached) process.stderr.write('\n');
    if (values.json !== undefined) {
      const text = JSON.stringify(interpretJson(result));
      if (values.json === '-') out(text);
      else await writeFile(values.json, text);
    }
    if (values.json !== '-') for (const line of interpretText(result)) out(line);
  } finally {
    interrupt.dispose();
    engine.dispose();
  }
}
