import { describe, expect, it } from 'vitest';
import type { CamMethod, LayerMaps } from '../../../../src-shared/cam';
import { mergeCam, narrowCam } from '../../../../src-main/engine/runs/cam-parts';
import type { StoredCam } from '../../../../src-main/engine/runs/result-codec';

const map = (v: number) =>
  ({ data: Float32Array.of(v), width: 1, height: 1 }) as unknown as NonNullable<LayerMaps['maps']['cam']>;

function stored(layers: Record<string, Partial<Record<CamMethod, number | string>>>, totalMs: number): StoredCam {
  return {
    modelView: null,
    result: {
      classIndex: 2,
      label: 'triangle',
      counterfactual: false,
      logits: Float32Array.of(0, 1, 2),
      provider: 'cpu',
      inputShape: [1, 3, 1, 1],
      layers: Object.entries(layers).map(([label, methods]) => ({
        label,
        tensor: label,
        module: label,
        shape: [1, 1, 1] as [number, number, number],
        maps: Object.fromEntries(
          Object.entries(methods)
            .filter(([, v]) => typeof v === 'number')
            .map(([m, v]) => [m, map(v as number)]),
        ),
        unavailable: Object.fromEntries(Object.entries(methods).filter(([, v]) => typeof v === 'string')),
      })),
      timings: { totalMs, hookedRunMs: totalMs, perturbationMs: 0 },
    },
  } as StoredCam;
}

const shape = (s: StoredCam) =>
  s.result.layers.map(
    (l) => `${l.label}:${[...Object.keys(l.maps), ...Object.keys(l.unavailable).map((m) => `!${m}`)].sort().join(',')}`,
  );

describe('a CAM run and the parts added to it', () => {
  const fast = stored({ layer1: { gradcam: 1, cam: 'no head' }, layer2: { gradcam: 2, cam: 'no head' } }, 10);

  it('merges a slow pane into its layer and adds its time', () => {
    const merged = mergeCam(fast, stored({ layer2: { scorecam: 5 } }, 100));
    expect(shape(merged)).toEqual(['layer1:!cam,gradcam', 'layer2:!cam,gradcam,scorecam']);
    expect(merged.result.layers[1]?.maps.scorecam?.data).toEqual(Float32Array.of(5));
    expect(merged.result.timings.totalMs).toBe(110);
    // The run's own answer is not changed in place.
    expect(shape(fast)).toEqual(['layer1:!cam,gradcam', 'layer2:!cam,gradcam']);
  });

  it('answers each question with only what it asked', () => {
    const merged = mergeCam(mergeCam(fast, stored({ layer2: { scorecam: 5 } }, 1)), stored({ layer3: { ablationcam: 7 } }, 1));
    expect(shape(narrowCam(merged, { layers: ['stages'], methods: ['cam', 'gradcam'] }))).toEqual(shape(fast));
    expect(shape(narrowCam(merged, { layers: ['layer2'], methods: ['scorecam'] }))).toEqual(['layer2:scorecam']);
    expect(shape(narrowCam(merged, { layers: ['layer3'], methods: ['ablationcam'] }))).toEqual(['layer3:ablationcam']);
  });
});
