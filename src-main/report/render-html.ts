/**
 * ReportData + its encoded pictures → one self-contained HTML document. Pure: no I/O, no engine, so the
 * same function serves the CLI, the desktop host and the tests. The page has no script and a
 * Content-Security-Policy that forbids every load except its own data: images, so even a hostile label
 * cannot make it reach the network.
 */
import type { LayerStatsView } from '../../src-shared/api';
import { CAM_METHOD_LABELS, type CamMethod } from '../../src-shared/cam';
import { paneKey, type ImageAssets, type ReportAssets } from './assets';
import { html, raw, type Markup } from './escape';
import { formatValue } from '../../src-shared/number-format';
import { formatBytes, formatDate, formatInt, formatMs, formatPercent, formatShape } from './format';
import type { ReportData, ReportImage } from './report-data';
import { colorDimLayers } from './stats-selection';
import { REPORT_CSS } from './styles';
import { DATASET_CSS, datasetSection } from './dataset-section';
import { colorbar, colorDimFigure, lineChart } from './svg';
import { trustSectionBody } from './trust-section';

const CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";
/** A layer whose activations are mostly near zero (the studio flags the same threshold). */
const SATURATED = 0.9;
/** Rows of the layer table beyond which the rest is summarised (the plots still show every layer). */
const MAX_TABLE_LAYERS = 200;

export const SECTIONS = ['summary', 'model', 'predictions', 'cam', 'trust', 'stats', 'dataset', 'run'] as const;
export type SectionId = (typeof SECTIONS)[number];
const SECTION_TITLES: Record<SectionId, string> = {
  summary: 'Summary',
  model: 'Model',
  predictions: 'Images and predictions',
  cam: 'Class activation maps',
  trust: 'Can the maps be trusted?',
  stats: 'Activation statistics',
  dataset: 'Data set',
  run: 'Run details',
};

const sectionHeading = (id: SectionId): Markup => html`<h2>${SECTION_TITLES[id]}</h2>`;

function kvTable(rows: [string, string | Markup][]): Markup {
  return html`<table class="kv">
    <tbody>
      ${rows.map(
        ([k, v]) =>
          html`<tr>
            <th>${k}</th>
            <td>${v}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/** Whether a section has anything to show (a report of a data-set run alone has no CAM grids). */
function shown(data: ReportData, s: SectionId): boolean {
  if (s === 'stats') return data.stats !== null;
  if (s === 'dataset') return Boolean(data.dataset);
  if (s === 'trust') return Boolean(data.trust);
  if (s === 'predictions' || s === 'cam') return data.images.length > 0 || (!data.dataset && !data.trust);
  return true;
}

function cover(data: ReportData): Markup {
  const methods = data.run.methods.map((m) => CAM_METHOD_LABELS[m]).join(', ');
  const count = data.images.length;
  const sections = SECTIONS.filter((s) => s !== 'summary' && shown(data, s));
  return html`<header class="cover" data-section="summary" id="summary">
    <div class="brand">LayerLens report</div>
    <h1>${data.title}</h1>
    <p class="subtitle">
      ${
        data.images.length > 0 || !data.dataset
          ? html`Why the model predicted what it did: ${methods} for every stage of the
            network${data.stats ? ', and the activation statistics of its layers' : ''}${data.dataset ? ', and where it fails on a data set' : ''}.`
          : html`Where the model fails on a labelled data set, and what it looked at when it did.`
      }
    </p>
    <div class="facts">
      <div class="fact"><b>${data.model.name}</b><span>model</span></div>
      ${
        data.dataset && data.images.length === 0
          ? html`<div class="fact">
              <b>${formatPercent(data.dataset.accuracy)}</b
              ><span>accuracy on ${formatInt(data.dataset.images.paths.length)} images</span>
            </div>`
          : html`<div class="fact">
              <b>${count === data.totalImages ? formatInt(count) : `${formatInt(count)} of ${formatInt(data.totalImages)}`}</b
              ><span>images shown</span>
            </div>`
      }
      <div class="fact"><b>${data.provider.toUpperCase()}</b><span>execution provider</span></div>
      <div class="fact"><b>${formatDate(data.generatedAt)}</b><span>LayerLens ${data.engineVersion}</span></div>
    </div>
    <ul class="toc">
      ${sections.map((s) => html`<li><a href="#${s}">${SECTION_TITLES[s]}</a></li>`)}
    </ul>
  </header>`;
}

function modelSection(data: ReportData): Markup {
  const m = data.model;
  const p = m.preprocess;
  const preprocess = `${p.inputSize[0]}×${p.inputSize[1]} ${p.resize}, ${p.channelOrder}, ${p.layout}, /${p.scale}, mean [${p.mean.join(', ')}], std [${p.std.join(', ')}] (${p.source === 'metadata' ? 'from the model' : p.source === 'default' ? 'ImageNet defaults' : 'set by the user'})`;
  const tensors = [...m.inputs.map((t) => ['input', t] as const), ...m.outputs.map((t) => ['output', t] as const)];
  return html`<section data-section="model" id="model">
    ${sectionHeading('model')}
    ${kvTable([
      ['Name', m.name],
      ['SHA-256', m.sha256 ? html`<span class="mono hash">${m.sha256}</span>` : 'unknown'],
      ['File size', formatBytes(m.sizeBytes)],
      ['Parameters', m.parameterCount === null ? 'unknown' : formatInt(m.parameterCount)],
      ['Nodes', formatInt(m.nodeCount)],
      ['Opsets', m.opsets.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ') || 'none declared'],
      ['IR version', String(m.irVersion)],
      ['Producer', m.producer || 'unknown'],
      ['Classes', m.classCount === null ? 'no labels' : formatInt(m.classCount)],
      ['Preprocessing', preprocess],
    ])}
    <h3>Inputs and outputs</h3>
    <table>
      <thead>
        <tr>
          <th></th>
          <th>name</th>
          <th>type</th>
          <th>shape</th>
        </tr>
      </thead>
      <tbody>
        ${tensors.map(
          ([kind, t]) =>
            html`<tr>
              <td class="muted">${kind}</td>
              <td><code>${t.name}</code></td>
              <td>${t.dtype}</td>
              <td class="mono">${formatShape(t.shape)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <h3>Stages (${m.stagesSource === 'user' ? 'chosen by the user' : 'detected'})</h3>
    ${
      m.stages.length === 0
        ? html`<p class="muted">No stages were detected: the maps below are of the layers asked for.</p>`
        : html`<table data-testid="stages">
            <thead>
              <tr>
                <th>stage</th>
                <th>output tensor</th>
                <th>shape</th>
              </tr>
            </thead>
            <tbody>
              ${m.stages.map(
                (s) =>
                  html`<tr>
                    <td><code>${s.module || '(root)'}</code></td>
                    <td class="mono small">${s.tensor}</td>
                    <td class="mono">${formatShape(s.shape)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
    ${m.warnings.length > 0 ? html`<div class="note">${m.warnings.map((w) => html`<div>${w}</div>`)}</div>` : ''}
  </section>`;
}

function capNote(data: ReportData): Markup | '' {
  if (data.images.length >= data.totalImages) return '';
  const shown = formatInt(data.images.length);
  const capped = data.images.length + data.skipped.length < data.totalImages;
  return html`<p class="note" data-testid="cap-note">
    ${shown} of ${formatInt(data.totalImages)} images
    shown${capped ? `: the report keeps the first ${shown} to stay small` : ''}${
      capped && data.stats ? '; the statistics cover every image' : ''
    }.
  </p>`;
}

/** Inputs that could not be used, with the reason (the first few: a folder of junk must not fill the report). */
function skippedNote(data: ReportData): Markup | '' {
  const skipped = data.skipped;
  if (skipped.length === 0) return '';
  return html`<div class="note" data-testid="skipped-note">
    ${formatInt(skipped.length)} input${skipped.length === 1 ? '' : 's'} could not be used:
    ${skipped.slice(0, 5).map((x) => html`<div><code>${x.name}</code>: ${x.reason}</div>`)}
    ${skipped.length > 5 ? html`<div>… and ${formatInt(skipped.length - 5)} more</div>` : ''}
  </div>`;
}

const imageId = (i: number): string => `image-${i + 1}`;

function picture(uri: string | null, alt: string): Markup {
  return uri ? html`<img src="${uri}" alt="${alt}" />` : html`<div class="placeholder">tensor input (.npy)</div>`;
}

function predictionsSection(data: ReportData, assets: ReportAssets): Markup {
  return html`<section data-section="predictions" id="predictions">
    ${sectionHeading('predictions')} ${capNote(data)} ${skippedNote(data)}
    <div class="gallery">
      ${data.images.map((image, i) => {
        const best = image.top[0];
        return html`<a class="card" href="#${imageId(i)}" data-testid="prediction-card"
          >${picture(assets.images[i]?.original ?? null, image.name)}
          <div class="pred">${best ? `${best.label} · ${formatPercent(best.prob)}` : 'no prediction'}</div>
          <div class="name">${image.name}</div></a
        >`;
      })}
    </div>
  </section>`;
}

function topBars(image: ReportImage): Markup {
  return html`<div class="bars" data-testid="top5">
    ${image.top.map(
      (c) =>
        html`<span class="${c.class === image.cam.classIndex ? 'hit' : ''}">${c.label}</span
          ><span class="bar"><i style="width:${(Math.max(0, Math.min(1, c.prob)) * 100).toFixed(1)}%"></i></span
          ><span class="num mono">${formatPercent(c.prob)}</span>`,
    )}
  </div>`;
}

/** Row height budget so one image's grid (with its header) fits on one A4 page whatever the number of stages. */
function paneMaxWidth(rows: number, columns: number, aspect: number): number {
  const byHeight = Math.floor((560 / Math.max(rows, 1) - 6) * aspect);
  const byWidth = Math.floor((680 - 96) / Math.max(columns, 1) - 4);
  return Math.max(40, Math.min(170, byHeight, byWidth));
}

/** A method name that may wrap between its words ("Eigen|Grad|CAM") when many columns share the page. */
function breakable(label: string): Markup {
  return html`${label.split(/(?<=[a-z+])(?=[A-Z])/).map((part, i) => (i === 0 ? part : html`<wbr />${part}`))}`;
}

function camGrid(image: ReportImage, assets: ImageAssets, methods: CamMethod[]): Markup {
  const aspect = assets.pane.width / assets.pane.height;
  const paneWidth = paneMaxWidth(image.cam.layers.length, methods.length, aspect);
  const reasons = new Map<string, { method: CamMethod; layers: string[] }>();
  const cells = image.cam.layers.map((layer, li) => {
    const row = methods.map((method) => {
      const uri = assets.panes.get(paneKey(li, method));
      const note = layer.notes?.[method];
      if (uri && note) {
        // A map that cancelled to rounding: shown, marked, and explained under the grid like a missing one.
        const key = `${method}\u0000${note}`;
        const entry = reasons.get(key) ?? { method, layers: [] };
        entry.layers.push(layer.label);
        reasons.set(key, entry);
        return html`<img
          src="${uri}"
          alt="${CAM_METHOD_LABELS[method]} at ${layer.label} (noise)"
          title="${note}"
          class="noise"
          data-testid="pane"
        />`;
      }
      if (uri) return html`<img src="${uri}" alt="${CAM_METHOD_LABELS[method]} at ${layer.label}" data-testid="pane" />`;
      const why = layer.unavailable[method] ?? 'not computed';
      const key = `${method}\u0000${why}`;
      const entry = reasons.get(key) ?? { method, layers: [] };
      entry.layers.push(layer.label);
      reasons.set(key, entry);
      return html`<div class="na" title="${why}">not available</div>`;
    });
    return html`<div class="row">
        <code>${layer.label}</code><br /><span class="muted mono">${formatShape(layer.shape)}</span>
      </div>
      ${row}`;
  });
  const footnotes = [...reasons.entries()].map(
    ([key, r]) => html`<li><b>${CAM_METHOD_LABELS[r.method]}</b> at ${r.layers.join(', ')}: ${key.split('\u0000')[1] ?? ''}</li>`,
  );
  return html`<div
      class="grid${methods.length > 6 ? ' dense' : ''}"
      data-testid="cam-grid"
      style="grid-template-columns: 96px repeat(${methods.length}, minmax(0, ${paneWidth}px)); --pane-aspect: ${aspect.toFixed(4)}"
    >
      <div></div>
      ${methods.map((m) => html`<div class="col">${breakable(CAM_METHOD_LABELS[m])}</div>`)} ${cells}
    </div>
    ${
      footnotes.length > 0
        ? html`<ul class="footnotes">
            ${footnotes}
          </ul>`
        : ''
    }`;
}

function imageArticle(data: ReportData, assets: ReportAssets, image: ReportImage, i: number): Markup {
  const a = assets.images[i] as ImageAssets;
  const cam = image.cam;
  return html`<article
    class="image-report${i === 0 ? ' first' : ''}"
    id="${imageId(i)}"
    data-section="image"
    data-image="${image.name}"
  >
    <div class="image-head">
      ${picture(a.original, image.name)}
      <div>
        <h3>${i + 1}. ${image.name}</h3>
        <p class="explained">
          Explaining <b>${cam.label}</b> (class
          ${cam.classIndex}${cam.counterfactual ? ', counterfactual: what speaks against it' : ''})${data.run.classChoice === 'top' ? ', the top prediction' : ''}.
        </p>
        ${topBars(image)}
      </div>
    </div>
    ${camGrid(image, a, data.run.methods)}
  </article>`;
}

function camSection(data: ReportData, assets: ReportAssets): Markup {
  const d = data.display;
  const scaling =
    d.scaling === 'relu'
      ? 'ReLU, then min-max scaled per map (0 = the map’s minimum, 1 = its maximum)'
      : 'signed, divided by the largest magnitude (zero in the middle of the colormap)';
  return html`<section data-section="cam" id="cam">
    ${sectionHeading('cam')}
    <p>
      One row per stage, one column per method. Each map is upsampled (${d.upsampling}) to the model’s view of the image,
      ${scaling}, and drawn in ${d.colormap} over the image at ${Math.round(d.opacity * 100)}% opacity.
    </p>
    <div class="legend">
      ${colorbar(d.colormap, d.scaling === 'signed', 'cbar')}<span class="small muted"
        >Maps are scaled one by one: compare where, not how much, across panes.</span
      >
    </div>
    ${capNote(data)} ${data.images.map((image, i) => imageArticle(data, assets, image, i))}
  </section>`;
}

function layerTable(layers: LayerStatsView[]): Markup {
  const shown = layers.slice(0, MAX_TABLE_LAYERS);
  return html`<table data-testid="layer-table">
      <thead>
        <tr>
          <th>#</th>
          <th>layer</th>
          <th class="num">mean</th>
          <th class="num">std</th>
          <th class="num">near zero</th>
          <th class="num">dead channels</th>
        </tr>
      </thead>
      <tbody>
        ${shown.map(
          (l, i) =>
            html`<tr class="${l.nearZero > SATURATED || l.deadChannels.length > 0 ? 'flag' : ''}">
              <td class="muted">${i + 1}</td>
              <td><code>${l.label}</code></td>
              <td class="num">${formatValue(l.mean)}</td>
              <td class="num">${formatValue(l.std)}</td>
              <td class="num">${formatPercent(l.nearZero)}</td>
              <td class="num">${l.deadChannels.length}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${layers.length > shown.length ? html`<p class="muted small">${formatInt(layers.length - shown.length)} more layers are in the plots above but not listed.</p>` : ''}`;
}

function statsSection(data: ReportData, assets: ReportAssets): Markup {
  const stats = data.stats;
  if (!stats) return html``;
  const layers = stats.layers;
  const labels = layers.map((l) => l.label);
  const stageTensors = new Set(data.model.stages.map((s) => s.tensor));
  const markers = layers.flatMap((l, i) => (stageTensors.has(l.tensor) ? [i] : []));
  const chart = (title: string, values: number[], unit?: string): Markup =>
    lineChart({ title, values, labels, markers, ...(unit ? { unit } : {}) });
  const range = layers[0]?.range;
  const dims = colorDimLayers(layers, data.model.stages).filter((i) => assets.colorDims.has(i));
  const flagged = layers.filter((l) => l.nearZero > SATURATED || l.deadChannels.length > 0).length;
  return html`<section data-section="stats" id="stats">
    ${sectionHeading('stats')}
    <p>
      fastai’s ActivationStats over ${formatInt(stats.images)}
      image${stats.images === 1 ? '' : 's'}${stats.total !== stats.images ? ` (of ${formatInt(stats.total)})` : ''},
      ${formatInt(layers.length)} layers, ${stats.bins} histogram
      bins${range && data.run.stats?.range ? ` on [${formatValue(range[0])}, ${formatValue(range[1])}]` : ' on a range chosen per layer'}.
      Dashed lines mark the stages.
      ${flagged > 0 ? `${flagged} layer${flagged === 1 ? ' is' : 's are'} flagged (more than ${formatPercent(SATURATED, 0)} near zero, or dead channels).` : 'No layer is mostly near zero and no channel is dead.'}
    </p>
    ${stats.cancelled ? html`<p class="note">The statistics run was cancelled: these are partial results.</p>` : ''}
    ${
      stats.skipped.length > 0
        ? html`<div class="note">
            ${stats.skipped.length} input${stats.skipped.length === 1 ? ' was' : 's were'} skipped:
            ${stats.skipped
              .slice(0, 5)
              .map((s) => `#${s.index + 1}: ${s.reason}`)
              .join('; ')}${stats.skipped.length > 5 ? '; …' : ''}
          </div>`
        : ''
    }
    <div class="stats-plots" data-testid="stats-plots">
      ${chart(
        'mean',
        layers.map((l) => l.mean),
      )}
      ${chart(
        'std',
        layers.map((l) => l.std),
      )}
      ${chart(
        '% near zero',
        layers.map((l) => l.nearZero * 100),
        '%',
      )}
    </div>
    <h3>The colorful dimension</h3>
    <p class="small muted">
      One column per image, one row per histogram bin (low values at the bottom); colour is log(1 + count). A healthy layer shows
      a smooth spread; a bright band at the bottom means most activations are near zero.
    </p>
    <div class="colordims">
      ${dims.map((i) => {
        const l = layers[i] as LayerStatsView;
        return html`<figure data-testid="colordim" data-layer="${l.label}">
          <figcaption><code>${l.label}</code> <span class="muted">· ${formatPercent(l.nearZero)} near zero</span></figcaption>
          ${colorDimFigure(assets.colorDims.get(i) as string, l.range, Math.floor(l.imageHists.length / stats.bins))}
        </figure>`;
      })}
    </div>
    <h3>Layers</h3>
    ${layerTable(layers)}
  </section>`;
}

function runSection(data: ReportData): Markup {
  const r = data.run;
  const camTotal = data.images.reduce((s, i) => s + i.cam.timings.totalMs, 0);
  const runs = data.images.map((i) => i.run).filter((id): id is number => id !== null);
  const cached = data.images.filter((i) => i.cached).length;
  return html`<section data-section="run" id="run">
    ${sectionHeading('run')}
    <h3>Parameters</h3>
    ${kvTable([
      ['Methods', r.methods.map((m) => `${CAM_METHOD_LABELS[m]} (${m})`).join(', ')],
      ['Layers', r.layers.join(', ')],
      ['Class', r.classChoice === 'top' ? 'top prediction of each image' : `class ${r.classChoice}`],
      ['Counterfactual', r.counterfactual ? 'yes' : 'no'],
      [
        'Display',
        `${data.display.colormap}, ${data.display.scaling === 'relu' ? 'ReLU + min-max' : 'signed'}, ${data.display.upsampling}, ${Math.round(data.display.opacity * 100)}% opacity`,
      ],
      [
        'Images',
        data.images.length === data.totalImages
          ? formatInt(data.totalImages)
          : `${formatInt(data.images.length)} of ${formatInt(data.totalImages)} shown`,
      ],
      [
        'Statistics',
        r.stats
          ? `${r.stats.bins} bins, ${r.stats.range ? `range [${r.stats.range.join(', ')}]` : 'auto range'}, layers: ${r.stats.layers?.join(', ') ?? 'every layer with parameters and the stages'}`
          : 'not computed',
      ],
    ])}
    <h3>Environment</h3>
    ${kvTable([
      ['LayerLens engine', data.engineVersion],
      ['Execution provider', `${data.provider} (device ${r.device})`],
      ['Generated', formatDate(data.generatedAt)],
      [
        'Run history',
        runs.length > 0 ? `runs ${runs.join(', ')}${cached > 0 ? ` (${cached} answered from the history)` : ''}` : 'off',
      ],
    ])}
    <h3>Timings</h3>
    <table data-testid="timings">
      <thead>
        <tr>
          <th>phase</th>
          <th class="num">time</th>
        </tr>
      </thead>
      <tbody>
        ${data.timings.map(
          (t) =>
            html`<tr>
              <td>${t.label}</td>
              <td class="num">${formatMs(t.ms)}</td>
            </tr>`,
        )}
        <tr>
          <td>CAM inside the engine (sum over images)</td>
          <td class="num">${formatMs(camTotal)}</td>
        </tr>
      </tbody>
    </table>
    <table>
      <thead>
        <tr>
          <th>image</th>
          <th class="num">predict</th>
          <th class="num">CAM total</th>
          <th class="num">hooked run</th>
          <th class="num">perturbation</th>
        </tr>
      </thead>
      <tbody>
        ${data.images.map(
          (i) =>
            html`<tr>
              <td>${i.name}${i.cached ? html` <span class="muted small">(history)</span>` : ''}</td>
              <td class="num">${formatMs(i.predictMs)}</td>
              <td class="num">${formatMs(i.cam.timings.totalMs)}</td>
              <td class="num">${formatMs(i.cam.timings.hookedRunMs)}</td>
              <td class="num">${i.cam.timings.perturbationMs > 0 ? formatMs(i.cam.timings.perturbationMs) : '—'}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}

function trustSection(data: ReportData): Markup | '' {
  if (!data.trust) return '';
  return html`<section data-section="trust" id="trust">${sectionHeading('trust')} ${trustSectionBody(data.trust)}</section>`;
}

export function renderReportHtml(data: ReportData, assets: ReportAssets): string {
  const page = html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta http-equiv="Content-Security-Policy" content="${CSP}" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="generator" content="LayerLens ${data.engineVersion}" />
        <title>LayerLens report · ${data.title}</title>
        <style>
          ${raw(REPORT_CSS + DATASET_CSS)}
        </style>
      </head>
      <body>
        <main>
          ${cover(data)} ${modelSection(data)} ${shown(data, 'predictions') ? predictionsSection(data, assets) : ''}
          ${shown(data, 'cam') ? camSection(data, assets) : ''} ${trustSection(data)} ${statsSection(data, assets)}
          ${datasetSection(data.dataset ?? null, assets.topLosses ?? [], sectionHeading('dataset'), {
            classMaps: assets.classMaps ?? [],
            stages: data.model.stages,
          })}
          ${runSection(data)}
          <footer>
            Generated by LayerLens ${data.engineVersion} on ${formatDate(data.generatedAt)}. This file is self-contained: it loads
            nothing from the network.
          </footer>
        </main>
      </body>
    </html> `;
  return page.html;
}
