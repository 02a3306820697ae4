/**
 * The report's stylesheet. Light and print-first: A4 pages, each main section on a new page, one image's
 * grid never split across pages, colours kept when printing (heatmaps and bars are the content).
 */
export const REPORT_CSS = `
:root {
  --ink: #1d2330; --muted: #5d6677; --faint: #8b93a1; --line: #dde1e7; --panel: #f5f7fa;
  --accent: #3b5bdb; --accent-soft: #e7ecfd; --warn: #b35c00;
  color-scheme: light;
}
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body {
  margin: 0; color: var(--ink); background: #fff;
  font: 13px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Noto Sans', 'Liberation Sans', sans-serif;
}
main { max-width: 980px; margin: 0 auto; padding: 28px 32px 40px; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 19px; margin: 0 0 12px; padding-bottom: 6px; border-bottom: 2px solid var(--ink); }
h3 { font-size: 14px; margin: 18px 0 8px; }
p { margin: 6px 0 10px; }
code, .mono { font-family: ui-monospace, 'SF Mono', Menlo, Consolas, 'DejaVu Sans Mono', monospace; font-size: 0.92em; }
.muted { color: var(--muted); }
.small { font-size: 11px; }
.note { background: #fff6e6; border-left: 3px solid var(--warn); padding: 6px 10px; margin: 8px 0 12px; }
section { margin-top: 36px; }
.cover { border-bottom: 1px solid var(--line); padding-bottom: 14px; }
.brand { color: var(--accent); font-weight: 700; letter-spacing: 0.08em; text-transform: uppercase; font-size: 11px; }
.subtitle { font-size: 15px; color: var(--muted); margin: 0 0 12px; }
.facts { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 8px; margin: 14px 0 6px; }
.fact { background: var(--panel); border-radius: 6px; padding: 8px 10px; }
.fact b { display: block; font-size: 14px; overflow-wrap: anywhere; }
.fact span { color: var(--muted); font-size: 11px; }
.toc { margin: 10px 0 0; padding: 0; list-style: none; display: flex; flex-wrap: wrap; gap: 4px 18px; }
.toc a { color: var(--accent); text-decoration: none; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 11px; text-transform: uppercase; letter-spacing: 0.03em; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.kv th { width: 190px; text-transform: none; font-size: 12px; letter-spacing: 0; }
.hash { overflow-wrap: anywhere; }
tr { break-inside: avoid; }
tr.flag td { color: var(--warn); }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; }
.card { display: block; color: inherit; text-decoration: none; border: 1px solid var(--line); border-radius: 6px; padding: 6px; break-inside: avoid; }
.card img { width: 100%; aspect-ratio: 1; object-fit: contain; background: var(--panel); border-radius: 4px; display: block; }
.card .name { font-size: 11px; color: var(--muted); overflow-wrap: anywhere; margin-top: 4px; }
.card .pred { font-weight: 600; }
.placeholder { display: flex; align-items: center; justify-content: center; color: var(--faint); background: var(--panel);
  aspect-ratio: 1; border-radius: 4px; font-size: 11px; text-align: center; padding: 4px; }
.image-report { break-inside: avoid; break-before: page; margin-top: 28px; }
.image-head { display: grid; grid-template-columns: 150px minmax(0, 1fr); gap: 16px; margin-bottom: 12px; }
.image-head img, .image-head .placeholder { width: 150px; border-radius: 4px; display: block; }
.image-head h3 { margin: 0 0 2px; font-size: 16px; overflow-wrap: anywhere; }
.explained { margin: 2px 0 8px; }
.explained b { color: var(--accent); }
.bars { display: grid; grid-template-columns: minmax(60px, max-content) minmax(0, 1fr) 52px; gap: 3px 8px; align-items: center;
  max-width: 460px; font-size: 12px; }
.bar { height: 10px; background: var(--panel); border-radius: 3px; overflow: hidden; }
.bar i { display: block; height: 100%; background: #9aa5b8; }
.bars .hit { font-weight: 700; }
.bars .hit + .bar i { background: var(--accent); }
.grid { display: grid; gap: 4px; align-items: center; }
.grid .col { font-size: 11px; line-height: 1.15; font-weight: 600; text-align: center; color: var(--muted);
  align-self: end; padding-bottom: 2px; }
.grid .row { font-size: 11px; overflow-wrap: anywhere; padding-right: 4px; }
.grid .row code { font-size: 11px; font-weight: 600; color: var(--ink); }
.grid img { width: 100%; display: block; border-radius: 2px; }
.grid img.noise { opacity: 0.35; outline: 1px dashed var(--muted); }
.grid .na { aspect-ratio: var(--pane-aspect, 1); display: flex; align-items: center; justify-content: center; text-align: center;
  background: repeating-linear-gradient(135deg, #f3f4f6 0 6px, #e9ebef 6px 12px); color: var(--muted); font-size: 10px;
  border-radius: 2px; padding: 2px; }
.footnotes { font-size: 11px; color: var(--muted); margin: 6px 0 0; padding-left: 16px; }
.legend { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 24px; margin: 8px 0 4px; }
.colorbar { width: 300px; height: 34px; }
svg text { font: 10px system-ui, -apple-system, 'Segoe UI', Roboto, Arial, 'Liberation Sans', sans-serif; fill: var(--muted); }
svg .chart-title { font-size: 12px; font-weight: 600; fill: var(--ink); }
svg .gridline { stroke: #eceef2; stroke-width: 1; }
svg .axis { stroke: #b9bfca; stroke-width: 1; }
svg .marker { stroke: #c3cad6; stroke-dasharray: 3 3; }
svg .marker-label { fill: var(--accent); }
svg .line { fill: none; stroke: var(--accent); stroke-width: 1.6; stroke-linejoin: round; }
svg .dot { fill: var(--accent); }
.chart { width: 100%; height: auto; display: block; margin: 4px 0 10px; break-inside: avoid; }
.colordims { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 10px 18px; }
.colordims figure { margin: 0; break-inside: avoid; }
.colordims figcaption { font-size: 12px; margin-bottom: 2px; }
.colordim { width: 100%; height: auto; display: block; }
.stats-plots { break-inside: avoid; }
.trust-metrics td { font-variant-numeric: tabular-nums; }
.trust-metrics tr.random td { color: var(--muted); font-style: italic; }
.verdicts { margin: 6px 0 10px; padding-left: 18px; }
footer { margin-top: 32px; padding-top: 8px; border-top: 1px solid var(--line); color: var(--faint); font-size: 11px; }
@page { size: A4; margin: 13mm 12mm 14mm; }
@media print {
  main { max-width: none; padding: 0; }
  section { margin-top: 0; break-before: page; }
  /* The cover is short: the model summary shares its page. */
  #model { break-before: auto; margin-top: 24px; }
  .image-report { margin-top: 0; }
  .image-report.first { break-before: auto; }
  h2, h3 { break-after: avoid; }
  .toc a { color: var(--ink); }
  .chart { margin: 2px 0 6px; }
}
`;
