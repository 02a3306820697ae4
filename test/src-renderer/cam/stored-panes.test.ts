import { describe, expect, it } from 'vitest';
import type { CamMethod, LayerMaps } from '../../../src-shared/cam';
import { defaultPanes, panesOfRun } from '../../../src-renderer/src/cam/stored-panes';

const map = { data: new Float32Array(4), width: 2, height: 2, min: 0, max: 1 } as unknown as NonNullable<
  LayerMaps['maps']['cam']
>;

function layer(label: string, methods: CamMethod[], unavailable: CamMethod[] = []): LayerMaps {
  return {
    label,
    tensor: label as LayerMaps['tensor'],
    module: label,
    shape: [1, 2, 2],
    maps: Object.fromEntries(methods.map((m) => [m, map])),
    unavailable: Object.fromEntries(unavailable.map((m) => [m, 'no'])),
  };
}

describe('the panes of a reopened run', () => {
  const fast: CamMethod[] = ['gradcam', 'layercam', 'hirescam'];

  it('show the slow maps the run holds, from the right, and defaults elsewhere', () => {
    const layers = [
      layer('layer1', fast, ['cam']),
      layer('layer2', [...fast, 'scorecam'], ['cam']),
      layer('layer4', [...fast, 'cam', 'ablationcam', 'scorecam']),
    ];
    expect(panesOfRun(layers, {}, defaultPanes)).toEqual({
      layer2: ['layercam', 'scorecam'],
      layer4: ['ablationcam', 'scorecam'],
    });
  });

  it('keep a chosen pane the run holds, and never ask for a slow method it lacks', () => {
    const layers = [layer('layer1', fast, ['cam']), layer('layer2', [...fast, 'ablationcam'], ['cam'])];
    const current: Record<string, [CamMethod, CamMethod]> = {
      layer1: ['hirescam', 'scorecam'],
      layer2: ['scorecam', 'gradcam'],
    };
    expect(panesOfRun(layers, current, defaultPanes)).toEqual({
      layer1: ['hirescam', 'gradcam'],
      layer2: ['layercam', 'ablationcam'],
    });
  });
});
