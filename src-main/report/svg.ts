/**
 * Inline SVG for the report's plots and colorbar: vector, so they print sharply, and no script or library.
 * Every label passes through the escaping template.
 */
import { colorAt, type Colormap } from '../../src-shared/heatmap';
import { html, raw, type Markup } from './escape';
import { formatValue } from '../../src-shared/number-format';

const r1 = (v: number): string => (Math.round(v * 10) / 10).toString();

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 4): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return ticks;
}

function domain(values: number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (lo === hi) [lo, hi] = [lo - 0.5, hi + 0.5];
  const pad = (hi - lo) * 0.08;
  return [lo - pad, hi + pad];
}

export interface LineChartOptions {
  title: string;
  values: number[];
  /** One per value: what a point is (shown on hover). */
  labels: string[];
  /** Indices to mark with a dashed line and their label (the stages). */
  markers: number[];
  unit?: string;
  width?: number;
  height?: number;
}

/** A value per layer, in network order: fastai's layer-stats plots. */
export function lineChart(o: LineChartOptions): Markup {
  const width = o.width ?? 680;
  const height = o.height ?? 170;
  const pad = { left: 56, right: 14, top: 24, bottom: 30 };
  const n = o.values.length;
  const [lo, hi] = domain(o.values);
  const x = (i: number): number => pad.left + (n <= 1 ? 0.5 : i / (n - 1)) * (width - pad.left - pad.right);
  const y = (v: number): number => pad.top + (1 - (v - lo) / (hi - lo)) * (height - pad.top - pad.bottom);
  const unit = o.unit ?? '';
  const grid = niceTicks(lo, hi).map(
    (t) =>
      html`<line class="gridline" x1="${pad.left}" x2="${width - pad.right}" y1="${r1(y(t))}" y2="${r1(y(t))}" /><text
          class="tick"
          x="${pad.left - 6}"
          y="${r1(y(t) + 3.5)}"
          text-anchor="end"
          >${formatValue(t)}${unit}</text
        >`,
  );
  let lastLabel = -Infinity;
  const markers = o.markers.map((i) => {
    const xi = x(i);
    // Labels that would overlap the previous one are left out; the dashed line stays.
    const show = xi - lastLabel > 44;
    if (show) lastLabel = xi;
    return html`<line class="marker" x1="${r1(xi)}" x2="${r1(xi)}" y1="${pad.top}" y2="${height - pad.bottom}" />${
        show
          ? html`<text class="marker-label" x="${r1(xi)}" y="${height - pad.bottom + 13}" text-anchor="middle"
              >${o.labels[i] ?? ''}</text
            >`
          : ''
      }`;
  });
  const points = o.values.map((v, i) => `${r1(x(i))},${r1(y(Number.isFinite(v) ? v : lo))}`).join(' ');
  const dots =
    n <= 80
      ? o.values.map(
          (v, i) =>
            html`<circle class="dot" cx="${r1(x(i))}" cy="${r1(y(Number.isFinite(v) ? v : lo))}" r="2.4"
              ><title>${o.labels[i] ?? ''}: ${formatValue(v)}${unit}</title></circle
            >`,
        )
      : '';
  return html`<svg
    class="chart"
    viewBox="0 0 ${width} ${height}"
    role="img"
    aria-label="${o.title}"
    xmlns="http://www.w3.org/2000/svg"
  >
    <text class="chart-title" x="${pad.left}" y="14">${o.title}</text>
    ${grid}
    <line class="axis" x1="${pad.left}" x2="${width - pad.right}" y1="${height - pad.bottom}" y2="${height - pad.bottom}" />
    ${markers}
    <polyline class="line" points="${points}" />
    ${dots}
    <text class="tick" x="${pad.left}" y="${height - 4}">layer 1</text>
    <text class="tick" x="${width - pad.right}" y="${height - 4}" text-anchor="end">layer ${n}</text>
  </svg>`;
}

/** The colormap as a bar, labelled for how maps were scaled. */
export function colorbar(colormap: Colormap, signed: boolean, id: string): Markup {
  const steps = 24;
  const stops = Array.from({ length: steps + 1 }, (_, k) => {
    const [r, g, b] = colorAt(colormap, k / steps).map(Math.round) as [number, number, number];
    return raw(`<stop offset="${((k / steps) * 100).toFixed(1)}%" stop-color="rgb(${r},${g},${b})"/>`);
  });
  const [left, mid, right] = signed ? ['−max |x|', '0', '+max |x|'] : ['0 · map minimum', '0.5', '1 · map maximum'];
  return html`<svg class="colorbar" viewBox="0 0 300 34" role="img" aria-label="colorbar" xmlns="http://www.w3.org/2000/svg">
    <defs><linearGradient id="${id}" x1="0" x2="1" y1="0" y2="0">${stops}</linearGradient></defs>
    <rect x="0.5" y="0.5" width="299" height="14" rx="2" fill="url(#${id})" stroke="#c9ced6" />
    <text class="tick" x="1" y="29">${left}</text>
    <text class="tick" x="150" y="29" text-anchor="middle">${mid}</text>
    <text class="tick" x="299" y="29" text-anchor="end">${right}</text>
  </svg>`;
}

/** The colorful dimension picture with its axes: bins bottom (low values) to top, images left to right. */
export function colorDimFigure(uri: string, range: [number, number], images: number): Markup {
  const width = 340;
  const height = 170;
  const pad = { left: 44, right: 4, top: 4, bottom: 18 };
  return html`<svg
    class="colordim"
    viewBox="0 0 ${width} ${height}"
    role="img"
    aria-label="colorful dimension"
    xmlns="http://www.w3.org/2000/svg"
  >
    <image
      href="${uri}"
      x="${pad.left}"
      y="${pad.top}"
      width="${width - pad.left - pad.right}"
      height="${height - pad.top - pad.bottom}"
      preserveAspectRatio="none"
    />
    <text class="tick" x="${pad.left - 5}" y="${pad.top + 9}" text-anchor="end">${formatValue(range[1])}</text>
    <text class="tick" x="${pad.left - 5}" y="${height - pad.bottom}" text-anchor="end">${formatValue(range[0])}</text>
    <text class="tick" x="${(pad.left + width - pad.right) / 2}" y="${height - 4}" text-anchor="middle">image 1 … ${images}</text>
  </svg>`;
}
