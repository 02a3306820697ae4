/**
 * The report's "Can the maps be trusted?" section: the faithfulness metrics averaged over the evaluated
 * images (per stage and method, beside a random map) and the sanity check's rank-correlation curves with
 * each method's verdict. Inline SVG, like the other plots: no script, prints sharply.
 */
import type { OpenedRun } from '../../src-shared/api';
import { CAM_METHOD_LABELS, isCamMethod } from '../../src-shared/cam';
import {
  SANITY_FAIL_FROM,
  SANITY_PASS_BELOW,
  type MetricSummary,
  type SanityLayer,
  type SanityResult,
  type TrustResult,
} from '../../src-shared/trust';
import { html, raw, type Markup } from './escape';

export interface ReportTrust {
  /** The faithfulness metrics (null: not measured). */
  faithfulness: Pick<TrustResult, 'settings' | 'summary' | 'methods'> & { images: number; run: number | null };
  sanity: (SanityResult & { run: number | null }) | null;
}

const COLOURS = ['#d9622b', '#2a8c86', '#8a55b8', '#b89a1f', '#3a78c2', '#c0508e', '#5f9a2f', '#a33a22', '#6d7684', '#9a6a3e'];
const label = (m: string): string => (isCamMethod(m) ? CAM_METHOD_LABELS[m] : m);
const colour = (m: string): string => {
  const i = Object.keys(CAM_METHOD_LABELS).indexOf(m);
  return COLOURS[(i < 0 ? COLOURS.length - 1 : i) % COLOURS.length] as string;
};
const num = (x: number | null, digits = 3): string => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(digits));

/** The newest faithfulness and sanity results among a report's stored runs. */
export function trustOfRuns(opened: OpenedRun[]): ReportTrust | null {
  const runs = opened.filter((o) => o.trust).map((o) => o.trust as NonNullable<OpenedRun['trust']>);
  const faithful = runs.filter((r) => r.result.images.length > 0).at(-1);
  const sane = runs.filter((r) => r.result.sanity).at(-1);
  if (!faithful && !sane) return null;
  return fromResults(faithful?.result ?? null, faithful?.run ?? null, sane?.result ?? null, sane?.run ?? null);
}

export function fromResults(
  faithful: TrustResult | null,
  faithfulRun: number | null,
  sane: TrustResult | null,
  saneRun: number | null,
): ReportTrust {
  return {
    faithfulness: faithful
      ? {
          settings: faithful.settings,
          summary: faithful.summary,
          methods: faithful.methods,
          images: faithful.images.length,
          run: faithfulRun,
        }
      : { settings: { steps: 0, baseline: { kind: 'zero' }, seed: 0 }, summary: [], methods: [], images: 0, run: null },
    sanity: sane?.sanity ? { ...sane.sanity, run: saneRun } : null,
  };
}

function metricCells(s: MetricSummary): Markup {
  return html`<td>${num(s.deletionAuc)}</td>
    <td>${num(s.insertionAuc)}</td>
    <td>${num(s.averageDrop, 1)}%</td>
    <td>${num(s.increase, 0)}%</td>
    <td>${s.pointing === null ? '–' : `${num(s.pointing, 0)}%`}</td>`;
}

function metricsTable(t: ReportTrust['faithfulness']): Markup {
  const baseline =
    t.settings.baseline.kind === 'blur' ? `a blurred copy (σ ${t.settings.baseline.sigma} px)` : 'zeros (the mean colour)';
  return html`<p>
      Averaged over ${t.images} image${t.images === 1 ? '' : 's'}${t.run ? ` (run #${t.run})` : ''}: the most salient pixels are
      replaced by ${baseline} in ${t.settings.steps} steps (deletion: a low area is good) or put back into it first (insertion: a
      high area is good); average drop and increase in confidence feed the image times the map. Each stage's random map is the
      yardstick.
    </p>
    <table class="trust-metrics" data-testid="trust-metrics">
      <thead>
        <tr>
          <th>Stage</th>
          <th>Method</th>
          <th>Deletion AUC ↓</th>
          <th>Insertion AUC ↑</th>
          <th>Average drop ↓</th>
          <th>Increase ↑</th>
          <th>Pointing ↑</th>
        </tr>
      </thead>
      <tbody>
        ${t.summary.map((l) => [
          ...Object.entries(l.methods).map(
            ([m, s]) =>
              html`<tr>
                <td><code>${l.label}</code></td>
                <td>${label(m)}</td>
                ${metricCells(s)}
              </tr>`,
          ),
          l.random
            ? html`<tr class="random">
                <td><code>${l.label}</code></td>
                <td>random map</td>
                ${metricCells(l.random)}
              </tr>`
            : '',
        ])}
      </tbody>
    </table>`;
}

function sanityChart(layer: SanityLayer, modules: string[]): Markup {
  const width = 340;
  const height = 180;
  const pad = { left: 46, right: 10, top: 18, bottom: 44 };
  const n = modules.length + 1;
  const x = (i: number): number => pad.left + (i / Math.max(1, n - 1)) * (width - pad.left - pad.right);
  const y = (s: number): number => pad.top + ((1 - s) / 2) * (height - pad.top - pad.bottom);
  const series = Object.entries(layer.methods).map(([m, s]) => ({ m, values: [1, ...(s?.cascading.spearman ?? [])] }));
  const lines = series.map(
    ({ m, values }) =>
      html`<path
        d="${values.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"
        fill="none"
        stroke="${colour(m)}"
        stroke-width="1.6"
      />`,
  );
  return html`<svg
    class="chart"
    viewBox="0 0 ${width} ${height}"
    role="img"
    aria-label="rank correlation at ${layer.label}"
    xmlns="http://www.w3.org/2000/svg"
  >
    <text class="chart-title" x="${pad.left}" y="12">${layer.label}</text>
    <rect
      x="${pad.left}"
      y="${y(1)}"
      width="${width - pad.left - pad.right}"
      height="${y(SANITY_FAIL_FROM) - y(1)}"
      fill="#fbe3da"
    />
    <line class="marker" x1="${pad.left}" x2="${width - pad.right}" y1="${y(SANITY_PASS_BELOW)}" y2="${y(SANITY_PASS_BELOW)}" />
    <line class="axis" x1="${pad.left}" x2="${width - pad.right}" y1="${y(0)}" y2="${y(0)}" />
    ${[1, 0.5, 0, -1].map((t) => html`<text class="tick" x="${pad.left - 4}" y="${y(t) + 3}" text-anchor="end">${t}</text>`)}
    ${['original', ...modules].map(
      (m, i) =>
        html`<text
          class="tick"
          x="${x(i)}"
          y="${height - pad.bottom + 12}"
          text-anchor="end"
          transform="rotate(-35 ${x(i)} ${height - pad.bottom + 12})"
          >${i > 1 ? `+${m}` : m}</text
        >`,
    )}
    ${raw(lines.map((l) => l.html).join(''))}
  </svg>`;
}

function sanityPart(s: NonNullable<ReportTrust['sanity']>): Markup {
  const verdictText = { pass: 'passes', unclear: 'unclear', fail: 'fails' } as const;
  return html`<h3>Sanity check (Adebayo et al., 2018)</h3>
    <p>
      The weights of ${s.modules.map((m) => m.label).join(' → ')} were re-initialised in turn from their own mean and standard
      deviation (cascading, from the head down) and each map recomputed, over ${s.images}
      image${s.images === 1 ? '' : 's'}${
        s.run
          ? `
      (run #${s.run})`
          : ''
      }.
      A method passes when its maps lose their ranking (rank correlation below ${SANITY_PASS_BELOW} at full randomisation) and
      fails from ${SANITY_FAIL_FROM}: its maps would then not depend on the weights they claim to explain.
    </p>
    <ul class="verdicts" data-testid="trust-verdicts">
      ${Object.entries(s.verdicts).map(
        ([m, v]) => html`<li><span style="color: ${colour(m)}">■</span> <b>${label(m)}</b>: ${v ? verdictText[v] : '–'}</li>`,
      )}
    </ul>
    <div class="colordims">
      ${s.layers.map(
        (l) =>
          html`<figure>
            ${sanityChart(
              l,
              s.modules.map((m) => m.label),
            )}
          </figure>`,
      )}
    </div>`;
}

export function trustSectionBody(trust: ReportTrust): Markup {
  return html`${trust.faithfulness.images > 0 ? metricsTable(trust.faithfulness) : ''}
  ${trust.sanity ? sanityPart(trust.sanity) : ''}`;
}
