/**
 * The panes of a run reopened from the history: the run is shown as it was made, so a row whose run holds
 * slow maps (ScoreCAM, AblationCAM: added by the panes that asked for them) shows them, and no pane asks for
 * a slow method the run does not hold (which would add maps to a run the user only meant to look at).
 */
import { PERTURBATION_METHODS, type CamMethod, type LayerMaps } from '../../../src-shared/cam';

export type PanePair = [CamMethod, CamMethod];

/** Whether the run holds an answer of `method` at this layer: a map, or why there is none. */
const holds = (layer: LayerMaps, method: CamMethod): boolean => method in layer.maps || method in layer.unavailable;

/**
 * Each layer's panes for a stored answer: its slow methods fill the panes from the right (the side a user
 * switches, CAM | Grad-CAM being the default pair); a pane whose method the run lacks gets its default back.
 */
export function panesOfRun(
  layers: LayerMaps[],
  current: Record<string, PanePair>,
  defaults: (layer: LayerMaps) => PanePair,
): Record<string, PanePair> {
  const panes: Record<string, PanePair> = {};
  for (const layer of layers) {
    const fallback = defaults(layer);
    const chosen = current[layer.label] ?? fallback;
    const pair = chosen.map((m, side) => (holds(layer, m) ? m : fallback[side])) as PanePair;
    for (const method of PERTURBATION_METHODS.filter((m) => holds(layer, m) && !pair.includes(m))) {
      const side = !PERTURBATION_METHODS.includes(pair[1]) ? 1 : !PERTURBATION_METHODS.includes(pair[0]) ? 0 : null;
      if (side !== null) pair[side] = method;
    }
    if (pair[0] !== fallback[0] || pair[1] !== fallback[1]) panes[layer.label] = pair;
  }
  return panes;
}

/** CAM beside Grad-CAM where the head allows CAM (the last stage); LayerCAM beside it elsewhere. */
export function defaultPanes(layer: LayerMaps | undefined): PanePair {
  return layer && !layer.maps.cam && layer.unavailable.cam ? ['layercam', 'gradcam'] : ['cam', 'gradcam'];
}
