/**
 * The report's data-set section (an interpretation run): accuracy, the per-class table, the confusion matrix,
 * the most confused pairs and the top-loss grid — each top loss with its map for the predicted and for the
 * actual class, drawn with the studio's display rules. Pictures are encoded here; the markup is pure.
 */
import sharp from 'sharp';
import { CAM_METHOD_LABELS } from '../../src-shared/cam';
import { imageAt, type Interpretation } from '../../src-shared/dataset';
import { dataUri } from './assets';
import { html, type Markup } from './escape';
import { formatInt, formatMs, formatPercent } from './format';
import { paneSize, panePixels } from './pixels';
import type { HeatmapDisplay, ReportModel } from './report-data';
import { colorDimLayers } from './stats-selection';

/** Longer side of a top-loss picture, in pixels. */
const TOP_LOSS_PX = 128;
/** Beyond this many classes the matrix is not drawn (the most confused pairs list its largest cells). */
const MAX_MATRIX_CLASSES = 30;

export interface TopLossAssets {
  image: string | null;
  predicted: string | null;
  actual: string | null;
}

async function jpeg(pixels: Uint8ClampedArray | Uint8Array, width: number, height: number, channels: 3 | 4): Promise<string> {
  const out = await sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), { raw: { width, height, channels } })
    .removeAlpha()
    .jpeg({ quality: 80, mozjpeg: true })
    .toBuffer();
  return dataUri('image/jpeg', out);
}

/** The image and its two maps (the run's first method) for every top loss. */
export async function topLossAssets(dataset: Interpretation, display: HeatmapDisplay): Promise<TopLossAssets[]> {
  const method = dataset.methods[0];
  const out: TopLossAssets[] = [];
  for (const t of dataset.topLosses) {
    const view = t.modelView;
    if (view.bytes.byteLength === 0 || !method) {
      out.push({ image: null, predicted: null, actual: null });
      continue;
    }
    const size = paneSize(view.width, view.height, TOP_LOSS_PX);
    const rgb = new Uint8Array(
      await sharp(view.bytes).removeAlpha().resize({ width: size.width, height: size.height, fit: 'fill' }).raw().toBuffer(),
    );
    const pane = async (result: typeof t.predicted | null): Promise<string | null> => {
      const map = result?.layers[0]?.maps[method];
      return map ? jpeg(panePixels(map, rgb, size.width, size.height, display), size.width, size.height, 4) : null;
    };
    out.push({
      image: await jpeg(rgb, size.width, size.height, 3),
      predicted: await pane(t.predicted),
      actual: await pane(t.actual),
    });
  }
  return out;
}

/** Each class's mean map (the run's first method) alone: its images differ, so none is drawn under it. */
export async function classMapAssets(dataset: Interpretation, display: HeatmapDisplay): Promise<(string | null)[]> {
  const method = dataset.methods[0];
  const out: (string | null)[] = [];
  for (const c of dataset.classMaps ?? []) {
    const map = method ? c.maps[method] : undefined;
    if (!map) {
      out.push(null);
      continue;
    }
    const size = paneSize(map.width, map.height, TOP_LOSS_PX);
    out.push(await jpeg(panePixels(map, null, size.width, size.height, display), size.width, size.height, 4));
  }
  return out;
}

function classMapsBlock(d: Interpretation, pictures: (string | null)[]): Markup {
  const method = d.methods[0];
  if (!d.classMaps || !method) return html``;
  const label = (k: number): string => d.labels[k] ?? `class ${k}`;
  return html`<h3>Mean maps per class</h3>
    <p class="small muted">
      ${CAM_METHOD_LABELS[method]} at <code>${d.layer ?? ''}</code>: the mean, over the images labelled with a class, of each
      image's map for that class.
    </p>
    <div class="class-maps" data-testid="class-maps">
      ${d.classMaps.map((c, i) => {
        const uri = pictures[i] ?? null;
        const other = c.otherGeometry > 0 ? `, ${formatInt(c.otherGeometry)} of another size left out` : '';
        return html`<figure class="class-map" data-testid="class-map">
          ${uri ? html`<img src="${uri}" alt="mean map of ${label(c.class)}" />` : html`<div class="na">no map</div>`}
          <figcaption><b>${label(c.class)}</b> ${formatInt(c.images)} images${other}</figcaption>
        </figure>`;
      })}
    </div>`;
}

/** Per class: mean, std and share near zero at the stages (or evenly spaced layers), from the class statistics. */
function classStatsBlock(d: Interpretation, stages: ReportModel['stages']): Markup {
  const first = d.classStats?.[0];
  if (!d.classStats || !first) return html``;
  const label = (k: number): string => d.labels[k] ?? `class ${k}`;
  const picked = colorDimLayers(first.layers, stages, 5);
  return html`<h3>Activation statistics per class</h3>
    <p class="small muted">
      mean / std / share near zero over the images labelled with each class (the statistics engine over that class alone; every
      layer in the JSON and the studio).
    </p>
    <table class="class-stats" data-testid="class-stats">
      <thead>
        <tr>
          <th>class</th>
          <th class="num">images</th>
          ${picked.map((i) => html`<th class="num"><code>${first.layers[i]?.label ?? ''}</code></th>`)}
        </tr>
      </thead>
      <tbody>
        ${d.classStats.map(
          (c) =>
            html`<tr>
              <td>${label(c.class)}</td>
              <td class="num">${formatInt(c.images)}</td>
              ${picked.map((i) => {
                const l = c.layers[i];
                return html`<td class="num">
                  ${l ? `${l.mean.toPrecision(3)} / ${l.std.toPrecision(3)} / ${formatPercent(l.nearZero)}` : '—'}
                </td>`;
              })}
            </tr>`,
        )}
      </tbody>
    </table>`;
}

function confusionTable(d: Interpretation): Markup {
  const n = d.confusion.classes.length;
  if (n > MAX_MATRIX_CLASSES) {
    return html`<p class="note">
      ${formatInt(n)} classes occur: the matrix is not drawn; the most confused pairs list its largest cells.
    </p>`;
  }
  const label = (k: number): string => d.labels[k] ?? `class ${k}`;
  const rows = d.confusion.classes.map((a, i) => {
    const total = d.confusion.counts.slice(i * n, (i + 1) * n).reduce((x, y) => x + y, 0);
    const cells = d.confusion.classes.map((_, j) => {
      const count = d.confusion.counts[i * n + j] ?? 0;
      const share = count / Math.max(1, total);
      const colour = i === j ? '240, 128, 60' : '217, 54, 79';
      const style = count > 0 ? `background: rgba(${colour}, ${(0.15 + 0.7 * share).toFixed(2)})` : '';
      return html`<td class="num" style="${style}">${count}</td>`;
    });
    return html`<tr>
      <th>${label(a)}</th>
      ${cells}
    </tr>`;
  });
  return html`<table class="confusion" data-testid="confusion-matrix">
    <thead>
      <tr>
        <th class="muted small">actual ↓ predicted →</th>
        ${d.confusion.classes.map((c) => html`<th class="num">${label(c)}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${rows}
    </tbody>
  </table>`;
}

export function datasetSection(
  d: Interpretation | null,
  assets: TopLossAssets[],
  title: Markup,
  perClass: { classMaps?: (string | null)[]; stages?: ReportModel['stages'] } = {},
): Markup {
  if (!d) return html``;
  const label = (k: number): string => d.labels[k] ?? `class ${k}`;
  const pct = (x: number | null): string => (x === null ? '—' : formatPercent(x));
  const method = d.methods[0];
  const picture = (uri: string | null, alt: string): Markup =>
    uri ? html`<img src="${uri}" alt="${alt}" />` : html`<div class="na">${alt}</div>`;
  return html`<section data-section="dataset" id="dataset">
    ${title}
    <p>
      fastai’s ClassificationInterpretation over
      <code>${d.dataset}</code> (${d.layout === 'csv' ? 'a CSV of path, label' : 'one folder per class'}):
      <b>${formatPercent(d.accuracy)}</b> accuracy on ${formatInt(d.images.paths.length)} of ${formatInt(d.total)} images, mean
      cross-entropy ${d.meanLoss.toFixed(4)}${d.cancelled ? ' — the run was cancelled: a partial result' : ''}. Predicted in
      ${formatMs(d.predictMs)} on ${d.provider.toUpperCase()} (batch ${d.batch}).
    </p>
    ${
      d.skipped.length > 0
        ? html`<div class="note">
            ${formatInt(d.skipped.length)} image${d.skipped.length === 1 ? '' : 's'} skipped:
            ${d.skipped.slice(0, 5).map((s) => html`<div><code>${s.path}</code>: ${s.reason}</div>`)}
            ${d.skipped.length > 5 ? html`<div>… and ${formatInt(d.skipped.length - 5)} more</div>` : ''}
          </div>`
        : ''
    }
    <h3>Confusion matrix</h3>
    ${confusionTable(d)}
    <h3>Per class</h3>
    <table data-testid="class-table">
      <thead>
        <tr>
          <th>class</th>
          <th class="num">images</th>
          <th class="num">predicted</th>
          <th class="num">precision</th>
          <th class="num">recall</th>
        </tr>
      </thead>
      <tbody>
        ${d.perClass.map(
          (c) =>
            html`<tr>
              <td>${c.label}</td>
              <td class="num">${formatInt(c.support)}</td>
              <td class="num">${formatInt(c.predictedCount)}</td>
              <td class="num">${pct(c.precision)}</td>
              <td class="num">${pct(c.recall)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <h3>Most confused</h3>
    ${
      d.mostConfused.length === 0
        ? html`<p class="muted">No image was confused.</p>`
        : html`<ol>
            ${d.mostConfused.slice(0, 12).map((p) => html`<li>${label(p.actual)} → ${label(p.predicted)}: ${formatInt(p.count)}</li>`)}
          </ol>`
    }
    ${
      d.topLosses.length > 0 && method
        ? html`<h3>Top losses</h3>
            <p class="small muted">
              prediction / actual / loss / probability of the prediction; ${CAM_METHOD_LABELS[method]} at
              <code>${d.layer ?? ''}</code> for the predicted and for the actual class.
            </p>
            <div class="top-losses" data-testid="top-losses">
              ${d.topLosses.map((t, i) => {
                const p = imageAt(d.images, t.index);
                const a = assets[i] ?? { image: null, predicted: null, actual: null };
                const name = p.path.split(/[\\/]/).pop() ?? p.path;
                return html`<figure class="top-loss" data-testid="top-loss">
                  <figcaption>
                    <b>${label(p.predicted)}</b> / ${label(p.actual)} / ${p.loss.toFixed(2)} / ${p.probPredicted.toFixed(2)}
                  </figcaption>
                  <div class="trio">
                    <div>${picture(a.image, name)}<span>image</span></div>
                    <div>
                      ${picture(a.predicted, `${label(p.predicted)}: no map`)}<span>predicted: ${label(p.predicted)}</span>
                    </div>
                    <div>
                      ${t.actual ? picture(a.actual, `${label(p.actual)}: no map`) : html`<div class="na">right: the same class</div>`}<span
                        >actual: ${label(p.actual)}</span
                      >
                    </div>
                  </div>
                  <div class="small muted name">${name}</div>
                </figure>`;
              })}
            </div>`
        : ''
    }
    ${classMapsBlock(d, perClass.classMaps ?? [])} ${classStatsBlock(d, perClass.stages ?? [])}
  </section>`;
}

export const DATASET_CSS = `
.confusion { border-collapse: collapse; font-size: 11px; margin-bottom: 8px; }
.confusion th, .confusion td { border: 1px solid var(--line); padding: 2px 6px; }
.top-losses { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 10px; }
.top-loss { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 6px; break-inside: avoid; }
.top-loss figcaption { font-size: 12px; margin-bottom: 4px; }
.top-loss .trio { display: grid; grid-template-columns: repeat(3, 1fr); gap: 4px; }
.top-loss .trio img, .top-loss .trio .na { width: 100%; aspect-ratio: 1; object-fit: contain; display: flex; align-items: center;
  justify-content: center; text-align: center; font-size: 10px; color: var(--muted); border: 1px dashed var(--line); }
.top-loss .trio img { border: none; }
.top-loss .trio span { font-size: 10px; color: var(--muted); display: block; }
.top-loss .name { overflow-wrap: anywhere; }
.class-maps { display: flex; flex-wrap: wrap; gap: 8px; }
.class-map { margin: 0; width: 112px; font-size: 11px; break-inside: avoid; }
.class-map img, .class-map .na { width: 112px; height: 112px; object-fit: contain; display: block; }
.class-stats { font-size: 11px; }
`;
