/** How a run is described in the history list. */
import { CAM_METHOD_LABELS } from '../../../src-shared/cam';
import { camRunMethods, type RunStatus, type RunSummary } from '../../../src-shared/runs';

export const STATUS_LABELS: Record<RunStatus, string> = {
  running: 'running',
  complete: 'done',
  cancelled: 'cancelled',
  incomplete: 'interrupted',
};

export function runTitle(run: RunSummary): string {
  if (run.name) return run.name;
  if (run.kind === 'stats') return `Statistics over ${inputsText(run)}`;
  if (run.kind === 'interpret') return `Data set ${run.params.dataset.split(/[\\/]/).pop() ?? ''} (${run.inputs.count} images)`;
  if (run.kind === 'trust')
    return `Trust of the maps of ${run.inputs.count === 1 ? (run.inputs.first ?? 'an image') : `${run.inputs.count} images`}`;
  const { explained, classIndex } = run.params;
  const cls = explained
    ? `${explained.label}${classIndex === 'top' ? ' (top class)' : ''}`
    : classIndex === 'top'
      ? 'top class'
      : `class ${classIndex}`;
  // Every method of the action: the fast ones of every row and each slow pane's, added to the run later.
  const methods = camRunMethods(run.params)
    .map((m) => CAM_METHOD_LABELS[m])
    .join(', ');
  const options = [
    run.params.counterfactual ? ', counterfactual' : '',
    run.params.eigenSmooth ? ', eigen-smooth' : '',
    run.params.augSmooth ? ', aug-smooth' : '',
  ].join('');
  return `${methods} of ${run.inputs.first ?? 'an image'} · ${cls}${options}`;
}

/** "8 images (01-star.png, …)", or the one image's name. */
export function inputsText(run: RunSummary): string {
  const { count, first } = run.inputs;
  if (count === 1) return first ?? 'one image';
  return `${count} images${first ? ` (${first}, …)` : ''}`;
}

export function runDetail(run: RunSummary): string {
  if (run.kind === 'stats') {
    const range = run.params.range ? `[${run.params.range.join(', ')}]` : 'auto range';
    return `${run.params.layers?.join(', ') ?? 'all layers'} · ${run.params.bins} bins · ${range}`;
  }
  if (run.kind === 'interpret') {
    const maps =
      run.params.topLosses > 0
        ? `top ${run.params.topLosses} losses · ${run.params.methods.map((m) => CAM_METHOD_LABELS[m]).join(', ')} at ${run.params.layer ?? 'the last stage'}`
        : 'no maps';
    return `${run.params.dataset} · ${maps}`;
  }
  if (run.kind === 'trust') {
    const parts = [
      run.params.faithfulness ? `${run.params.settings.steps} steps` : null,
      run.params.sanity ? 'sanity check' : null,
    ];
    return `${run.params.layers.join(', ')} · ${run.params.methods.map((m) => CAM_METHOD_LABELS[m]).join(', ')} · ${parts.filter(Boolean).join(' · ')}`;
  }
  const layers = run.params.layers.join(', ');
  const methods = run.params.methods.map((m) => CAM_METHOD_LABELS[m]).join(', ');
  // Each part by what it added: a pane switched to FEM asks again for every fast method, FEM the new one.
  const listed = new Set(run.params.methods.map((m) => `${run.params.layers.join()}|${m}`));
  const added = (run.params.added ?? []).flatMap((p) => {
    const fresh = p.methods.filter((m) => !listed.has(`${p.layers.join()}|${m}`));
    fresh.forEach((m) => listed.add(`${p.layers.join()}|${m}`));
    if (fresh.length === 0) return [];
    const where = p.layers.includes('stages') ? 'every stage' : p.layers.join(', ');
    const status = p.status === 'complete' ? '' : ` (${STATUS_LABELS[p.status]})`;
    return [`${fresh.map((m) => CAM_METHOD_LABELS[m]).join(', ')} at ${where}${status}`];
  });
  return [`${layers} · ${methods}`, ...added].join(' · ');
}

export function formatWhen(ms: number, now = Date.now()): string {
  const date = new Date(ms);
  const sameDay = new Date(now).toDateString() === date.toDateString();
  return sameDay ? date.toLocaleTimeString() : date.toLocaleString();
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  return ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
