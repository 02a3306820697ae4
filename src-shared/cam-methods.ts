/**
 * The CAM method registry: every method LayerLens knows, with its label, what it reads and whether it runs
 * by default. Every list of methods (the API's schema, the CLI's defaults and help, the studio's menus, the
 * engine's dispatch) derives from this table; the engine's implementations are indexed by the same ids
 * (src-main/engine/cam/methods/index.ts), so a method without an implementation does not compile.
 * Imports nothing: both sides bundle it.
 */

export interface CamMethodInfo {
  label: string;
  /** One line for help texts. */
  summary: string;
  /** What computing it reads: the layer's activation, its gradient, the classifier head, extra forward runs. */
  needs: { activation: boolean; gradient: boolean; head: boolean; perturbation: boolean };
  /** Computed when no methods are named (the CLI's default, the studio's first grid). */
  default: boolean;
  /**
   * Its map is the channel sum of per-channel terms (w_k·A_k, g_k⊙A_k, …): the eigen-smooth option replaces
   * that sum by the terms' first principal component.
   */
  eigenSmooth: boolean;
}

const reads = (gradient: boolean, extra: { head?: boolean; perturbation?: boolean } = {}): CamMethodInfo['needs'] => ({
  activation: true,
  gradient,
  head: extra.head ?? false,
  perturbation: extra.perturbation ?? false,
});

export const CAM_METHOD_REGISTRY = {
  cam: {
    label: 'CAM',
    summary: "the classifier's class weights on the layer that feeds global average pooling",
    needs: reads(false, { head: true }),
    default: true,
    eigenSmooth: true,
  },
  gradcam: {
    label: 'Grad-CAM',
    summary: 'channels weighted by their mean gradient',
    needs: reads(true),
    default: true,
    eigenSmooth: true,
  },
  'gradcam++': {
    label: 'Grad-CAM++',
    summary: 'channels weighted by positive gradients with second-order coefficients',
    needs: reads(true),
    default: true,
    eigenSmooth: true,
  },
  hirescam: {
    label: 'HiResCAM',
    summary: 'gradient × activation, summed over channels',
    needs: reads(true),
    default: true,
    eigenSmooth: true,
  },
  xgradcam: {
    label: 'XGradCAM',
    summary: 'channels weighted by gradient × activation over the channel sum',
    needs: reads(true),
    default: true,
    eigenSmooth: true,
  },
  layercam: {
    label: 'LayerCAM',
    summary: 'positive gradient × activation, summed over channels',
    needs: reads(true),
    default: true,
    eigenSmooth: true,
  },
  eigencam: {
    label: 'EigenCAM',
    summary: "the activations' first principal component",
    needs: reads(false),
    default: true,
    eigenSmooth: false,
  },
  eigengradcam: {
    label: 'EigenGradCAM',
    summary: 'the first principal component of gradient × activation',
    needs: reads(true),
    default: true,
    eigenSmooth: false,
  },
  gradcamelementwise: {
    label: 'Grad-CAM Element-Wise',
    summary: 'ReLU of gradient × activation, summed over channels',
    needs: reads(true),
    default: false,
    eigenSmooth: true,
  },
  fem: {
    label: 'FEM',
    summary: "each channel's outliers (≥ mean + 2·std over its positions), weighted by the channel's mean",
    needs: reads(false),
    default: false,
    eigenSmooth: true,
  },
  finercam: {
    label: 'FinerCAM',
    summary: "Grad-CAM of the class's logit less its three nearest classes', weighted by their probabilities",
    needs: reads(true),
    default: false,
    eigenSmooth: true,
  },
  kpcacam: {
    label: 'KPCA-CAM',
    summary: 'the first kernel principal component of the activations (sigmoid kernel tanh(x·y/C + 1))',
    needs: reads(false),
    default: false,
    eigenSmooth: false,
  },
  scorecam: {
    label: 'ScoreCAM',
    summary: 'channels weighted by the class score of the input masked by each',
    needs: reads(false, { perturbation: true }),
    default: false,
    eigenSmooth: false,
  },
  ablationcam: {
    label: 'AblationCAM',
    summary: 'channels weighted by the score lost when each is zeroed',
    needs: reads(false, { perturbation: true }),
    default: false,
    eigenSmooth: false,
  },
} as const satisfies Record<string, CamMethodInfo>;

export type CamMethod = keyof typeof CAM_METHOD_REGISTRY;

const ids = Object.keys(CAM_METHOD_REGISTRY) as CamMethod[];
const where = (test: (info: CamMethodInfo) => boolean): readonly CamMethod[] => ids.filter((m) => test(CAM_METHOD_REGISTRY[m]));

/** Every method, in the registry's order (menus, help, the API's schema). */
export const CAM_METHODS: readonly CamMethod[] = ids;
/** Methods that read the layer's gradient (one backward pass serves them all). */
export const GRADIENT_METHODS = where((m) => m.needs.gradient);
/** Methods that need one extra forward pass per channel. */
export const PERTURBATION_METHODS = where((m) => m.needs.perturbation);
/** Methods that work where the backward pass cannot be built. */
export const GRADIENT_FREE_METHODS = where((m) => !m.needs.gradient);
/** Methods the eigen-smooth option changes. */
export const EIGEN_SMOOTH_METHODS = where((m) => m.eigenSmooth);
/** Computed when no methods are named. */
export const DEFAULT_METHODS = where((m) => m.default);
/** Everything answered by the one hooked run (no per-channel forward passes). */
export const FAST_METHODS = where((m) => !m.needs.perturbation);

export const CAM_METHOD_LABELS = Object.fromEntries(ids.map((m) => [m, CAM_METHOD_REGISTRY[m].label])) as Record<
  CamMethod,
  string
>;

export function isCamMethod(name: string): name is CamMethod {
  return Object.hasOwn(CAM_METHOD_REGISTRY, name);
}

/** "CAM, EigenCAM and ScoreCAM": labels joined for a sentence. */
export function methodLabels(methods: readonly CamMethod[]): string {
  const labels = methods.map((m) => CAM_METHOD_LABELS[m]);
  return labels.length < 2 ? (labels[0] ?? '') : `${labels.slice(0, -1).join(', ')} and ${labels.at(-1)}`;
}
