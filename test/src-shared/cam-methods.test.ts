import { describe, expect, it } from 'vitest';
import {
  CAM_METHOD_LABELS,
  CAM_METHODS,
  DEFAULT_METHODS,
  EIGEN_SMOOTH_METHODS,
  FAST_METHODS,
  GRADIENT_FREE_METHODS,
  GRADIENT_METHODS,
  isCamMethod,
  methodLabels,
  PERTURBATION_METHODS,
} from '../../src-shared/cam';
import { CAM_METHOD_IMPLS, IN_GRAPH_METHODS } from '../../src-main/engine/cam/methods';
import { LayerMapContext } from '../../src-main/engine/cam/map-context';
import { GraphBuilder } from '../../src-main/engine/hooks/graph-builder';
import type { TensorName } from '../../src-shared/api';

describe('the CAM method registry', () => {
  it('derives every method list from one table', () => {
    expect(GRADIENT_FREE_METHODS).toEqual(expect.arrayContaining(['cam', 'eigencam', 'scorecam', 'ablationcam']));
    expect(GRADIENT_FREE_METHODS.some((m) => GRADIENT_METHODS.includes(m))).toBe(false);
    expect([...GRADIENT_METHODS, ...GRADIENT_FREE_METHODS].sort()).toEqual([...CAM_METHODS].sort());
    // The CLI's and the studio's defaults as they have always been.
    expect([...DEFAULT_METHODS].sort()).toEqual(
      ['cam', 'eigencam', 'eigengradcam', 'gradcam', 'gradcam++', 'hirescam', 'layercam', 'xgradcam'].sort(),
    );
    expect(PERTURBATION_METHODS).toEqual(['scorecam', 'ablationcam']);
    expect(FAST_METHODS.some((m) => PERTURBATION_METHODS.includes(m))).toBe(false);
    expect(isCamMethod('gradcam')).toBe(true);
    expect(isCamMethod('toString')).toBe(false);
    expect(CAM_METHOD_LABELS['gradcam++']).toBe('Grad-CAM++');
    expect(methodLabels(['cam', 'eigencam', 'scorecam'])).toBe('CAM, EigenCAM and ScoreCAM');
  });

  it('has an engine implementation of each kind the registry implies', () => {
    for (const m of CAM_METHODS) {
      expect(CAM_METHOD_IMPLS[m].kind, m).toBe(PERTURBATION_METHODS.includes(m) ? 'perturbation' : 'in-graph');
    }
    expect([...IN_GRAPH_METHODS].sort()).toEqual([...FAST_METHODS].sort());
  });

  it('marks for eigen-smooth exactly the methods whose builder gives per-channel terms', () => {
    const t = (name: string) => name as TensorName;
    const grid = { channels: 4, height: 2, width: 3, channelsFirst: true, prefix: 0, batchAxis: 0, shape: [1, 4, 2, 3] };
    for (const m of IN_GRAPH_METHODS) {
      const impl = CAM_METHOD_IMPLS[m];
      if (impl.kind !== 'in-graph') continue;
      const ctx = new LayerMapContext(new GraphBuilder(13, 'test'), {
        activation: t('a'),
        gradient: t('g'),
        grid,
        classRow: t('row'),
        head: { tensor: t('w'), classesFirst: true },
      });
      const built = impl.build(ctx);
      expect('terms' in built && built.terms !== undefined, m).toBe(EIGEN_SMOOTH_METHODS.includes(m));
    }
    expect(EIGEN_SMOOTH_METHODS).toEqual(expect.arrayContaining(['gradcam', 'hirescam', 'layercam', 'finercam']));
  });
});
