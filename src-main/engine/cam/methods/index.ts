/**
 * Every CAM method's implementation, by registry id: a method in the registry without one here does not
 * compile. Adding a method is its file in this folder, its row in src-shared/cam-methods.ts and its line here.
 */
import type { CamMethod } from '../../../../src-shared/cam';
import { ablationcam } from './ablationcam';
import { cam } from './cam';
import { eigencam } from './eigencam';
import { eigengradcam } from './eigengradcam';
import { fem } from './fem';
import { finercam } from './finercam';
import { gradcam } from './gradcam';
import { gradcamElementwise } from './gradcam-elementwise';
import { gradcamPlusPlus } from './gradcam-plus-plus';
import { hirescam } from './hirescam';
import { kpcacam } from './kpcacam';
import { layercam } from './layercam';
import type { CamMethodImpl, ScoreTarget } from './method';
import { scorecam } from './scorecam';
import { xgradcam } from './xgradcam';

export const CAM_METHOD_IMPLS = {
  cam,
  gradcam,
  'gradcam++': gradcamPlusPlus,
  hirescam,
  xgradcam,
  layercam,
  eigencam,
  eigengradcam,
  gradcamelementwise: gradcamElementwise,
  fem,
  finercam,
  kpcacam,
  scorecam,
  ablationcam,
} as const satisfies Record<CamMethod, CamMethodImpl>;

/** Methods whose map the hooked run computes itself (no extra forward runs). */
export const IN_GRAPH_METHODS: readonly CamMethod[] = (Object.keys(CAM_METHOD_IMPLS) as CamMethod[]).filter(
  (m) => CAM_METHOD_IMPLS[m].kind === 'in-graph',
);

/** The score a method's map differentiates (perturbation methods and gradient-free ones: the class's). */
export function scoreTargetOf(method: CamMethod): ScoreTarget {
  const impl = CAM_METHOD_IMPLS[method];
  return impl.kind === 'in-graph' ? (impl.target ?? 'class') : 'class';
}
