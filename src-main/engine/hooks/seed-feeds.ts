/**
 * What a hooked run is fed to say which class each row explains (SEED_INPUT, TOP_WEIGHT_INPUT; see
 * hooked-model.ts): every row the same class, a class per row, or each row's own top class. `sign` −1
 * explains against the class (the counterfactual).
 */
import * as ort from 'onnxruntime-node';
import { checkClassIndex } from '../classify';
import { SEED_INPUT, TOP_WEIGHT_INPUT } from './hooked-model';

export function seedFeeds(
  scoreShape: readonly number[],
  explain: 'top' | number | readonly number[],
  sign = 1,
): Record<string, ort.Tensor> {
  const classes = scoreShape.at(-1) ?? 0;
  const seed = new Float32Array(scoreShape.reduce((a, b) => a * b, 1));
  const rows = seed.length / Math.max(1, classes);
  if (explain !== 'top')
    for (let r = 0; r < rows; r++) {
      const c = typeof explain === 'number' ? explain : (explain[r] as number);
      checkClassIndex(c, classes);
      seed[r * classes + c] = sign;
    }
  return {
    [SEED_INPUT]: new ort.Tensor('float32', seed, [...scoreShape]),
    [TOP_WEIGHT_INPUT]: new ort.Tensor('float32', Float32Array.of(explain === 'top' ? sign : 0), []),
  };
}
