import { describe, expect, it } from 'vitest';
import { renderPane } from '../../../src-renderer/src/cam/render-pane';
import { heatmapPixels, resizeRgb } from '../../../src-shared/heatmap';

const options = { colormap: 'magma', opacity: 0.5, scaling: 'relu', upsampling: 'bilinear' } as const;
const map = () => ({ width: 3, height: 2, data: Float32Array.from([0, 1, 2, 3, -1, 0.5]) });
const base = { rgb: Uint8Array.from({ length: 4 * 4 * 3 }, (_, i) => (i * 13) % 256), width: 4, height: 4 };

describe('renderPane', () => {
  it('draws heatmapPixels over the model view resampled to the pane', () => {
    const m = map();
    expect(renderPane(m, base, 8, 8, options).pixels).toEqual(heatmapPixels(m, resizeRgb(base, 8, 8), 8, 8, options).pixels);
  });

  it('repaints a map shown again (a kept answer) from its pixels, and draws anew when anything differs', () => {
    const m = map();
    const first = renderPane(m, base, 8, 8, options);
    expect(renderPane(m, base, 8, 8, { ...options })).toBe(first);
    expect(renderPane(m, base, 9, 9, options)).not.toBe(first);
    const again = renderPane(m, base, 8, 8, options);
    expect(renderPane(m, base, 8, 8, { ...options, opacity: 0.7 })).not.toBe(again);
    expect(renderPane(m, null, 8, 8, options)).not.toBe(again);
    // Another map with the same values is another answer's: drawn, and to the same bytes.
    const other = renderPane(map(), base, 8, 8, options);
    expect(other).not.toBe(first);
    expect(other.pixels).toEqual(first.pixels);
  });
});
