/** Every op LayerLens can differentiate, by op type (default ONNX domain only). */
import { convolutionRules } from './convolution';
import type { VjpRule } from './context';
import { elementwiseRules } from './elementwise';
import { linearRules } from './linear';
import { poolingRules } from './pooling';
import { reductionRules } from './reductions';
import { shapeRules } from './shape-ops';

export const VJP_RULES: Readonly<Record<string, VjpRule>> = {
  ...elementwiseRules,
  ...convolutionRules,
  ...poolingRules,
  ...shapeRules,
  ...linearRules,
  ...reductionRules,
};

export function ruleFor(opType: string, domain: string): VjpRule | null {
  if (domain !== '' && domain !== 'ai.onnx') return null;
  return Object.hasOwn(VJP_RULES, opType) ? (VJP_RULES[opType] as VjpRule) : null;
}
