/**
 * Per-class mean maps, summed image by image as the prediction pass goes (running float64 sums per class
 * and method at one layer): memory is one map per class and method, however many images. A map of
 * another size than its class's first (a model that takes images of any size) is counted, not averaged.
 */
import type { CamMethod, CamResult } from '../../../src-shared/cam';
import type { ClassMeanMap } from '../../../src-shared/dataset';

interface ClassSums {
  images: number;
  otherGeometry: number;
  width: number;
  height: number;
  sums: Map<CamMethod, { sum: Float64Array; count: number }>;
  unavailable: Partial<Record<CamMethod, string>>;
}

export class ClassMapSums {
  private readonly classes = new Map<number, ClassSums>();

  constructor(private readonly methods: CamMethod[]) {}

  /** One image's maps (one layer) for class `cls`. */
  add(cls: number, result: CamResult): void {
    const layer = result.layers[0];
    if (!layer) return;
    let sums = this.classes.get(cls);
    const first = this.methods.map((m) => layer.maps[m]).find((m) => m !== undefined);
    if (!sums) {
      sums = {
        images: 0,
        otherGeometry: 0,
        width: first?.width ?? 0,
        height: first?.height ?? 0,
        sums: new Map(),
        unavailable: {},
      };
      this.classes.set(cls, sums);
    }
    if (first && (first.width !== sums.width || first.height !== sums.height)) {
      sums.otherGeometry += 1;
      return;
    }
    sums.images += 1;
    for (const method of this.methods) {
      const map = layer.maps[method];
      if (!map) {
        sums.unavailable[method] ??= layer.unavailable[method] ?? `${method} gave no map for ${layer.label}.`;
        continue;
      }
      let entry = sums.sums.get(method);
      if (!entry) sums.sums.set(method, (entry = { sum: new Float64Array(map.width * map.height), count: 0 }));
      const sum = entry.sum;
      for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (map.data[i] as number);
      entry.count += 1;
    }
  }

  /** The means, classes in index order. A method missing on some images is averaged over those that have it. */
  result(): ClassMeanMap[] {
    return [...this.classes.entries()]
      .sort(([a], [b]) => a - b)
      .map(([cls, s]) => ({
        class: cls,
        images: s.images,
        otherGeometry: s.otherGeometry,
        maps: Object.fromEntries(
          [...s.sums].map(([method, { sum, count }]) => [
            method,
            { width: s.width, height: s.height, data: Float32Array.from(sum, (v) => v / count) },
          ]),
        ),
        unavailable: s.unavailable,
      }));
  }
}
