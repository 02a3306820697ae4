/**
 * What a sanity check compares: each state's maps as shown (upsampled to a common size, ReLU, min-max),
 * against the original's, by Spearman's rank correlation and SSIM (similarity.ts), on two threads
 * (compare-pool.ts).
 */
import type { RawMap } from '../../../src-shared/cam';
import type { InputTensor } from '../input-tensor';
import { compareOnTwoThreads } from './compare-pool';

/** Maps of every (layer, method) of one run, as compared: upsampled (see compareSize), ReLU, min-max. */
export type ShownMaps = Map<string, Float32Array>;
export const mapKey = (layer: string, method: string): string => `${layer}\u0000${method}`;

/** Running sums of each (layer, method)'s similarity to the original, per compared state. */
export type Sums = Map<string, { spearman: Float64Array; ssim: Float64Array }>;

/**
 * Adds each state's similarity to the original, for every map both have, to the sums (`states[i]`: the
 * maps of compared state i). Maps that are the same array (methods whose maps coincide, see sameMap) are
 * compared once; the comparisons run on two threads (compare-pool.ts).
 */
export async function compareStates(
  size: { width: number; height: number },
  sums: Sums,
  reference: ShownMaps,
  states: ShownMaps[],
): Promise<void> {
  const comparisons = new StateComparisons(size, sums);
  comparisons.start(reference, states);
  await comparisons.done();
}

/**
 * compareStates in parts: each part's comparisons start at once (on the worker threads), so that the
 * caller can make the next part's maps meanwhile; done() adds them all to the sums.
 */
export class StateComparisons {
  private readonly parts: Promise<void>[] = [];
  private failure: unknown = null;

  constructor(
    private readonly size: { width: number; height: number },
    private readonly sums: Sums,
  ) {}

  /** Starts comparing the maps of one layer (by its label), or all of them. */
  start(reference: ShownMaps, states: ShownMaps[], layer?: string): void {
    const { sums } = this;
    const prefix = layer === undefined ? null : mapKey(layer, '');
    const pairs: Float32Array[] = [];
    const slots: { sum: { spearman: Float64Array; ssim: Float64Array }; at: number; pair: number }[] = [];
    const known = new Map<Float32Array, Map<Float32Array, number>>();
    for (const [k, ref] of reference) {
      if (prefix !== null && !k.startsWith(prefix)) continue;
      let sum = sums.get(k);
      for (const [at, maps] of states.entries()) {
        const now = maps.get(k);
        if (!now) continue;
        if (!sum) sums.set(k, (sum = { spearman: new Float64Array(states.length), ssim: new Float64Array(states.length) }));
        let withRef = known.get(ref);
        if (!withRef) known.set(ref, (withRef = new Map()));
        let pair = withRef.get(now);
        if (pair === undefined) {
          pair = pairs.length / 2;
          pairs.push(ref, now);
          withRef.set(now, pair);
        }
        slots.push({ sum, at, pair });
      }
    }
    if (pairs.length === 0) return;
    const { width, height } = this.size;
    const part = compareOnTwoThreads(pairs, width, height).then((figures) => {
      for (const { sum, at, pair } of slots) {
        sum.spearman[at] = (sum.spearman[at] as number) + (figures[2 * pair] as number);
        sum.ssim[at] = (sum.ssim[at] as number) + (figures[2 * pair + 1] as number);
      }
    });
    // Held until done(): a failure must not surface as an unhandled rejection meanwhile.
    this.parts.push(part.catch((error: unknown) => void (this.failure ??= error)));
  }

  async done(): Promise<void> {
    await Promise.all(this.parts);
    if (this.failure !== null) throw this.failure;
  }
}

/** Whether two maps are the same. */
export function sameMap(a: RawMap, b: RawMap): boolean {
  if (a.width !== b.width || a.height !== b.height) return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}

/**
 * A hash of a map's size and values (MurmurHash3's 32-bit mixing over the float bits, −0 as +0 so that
 * maps sameMap calls equal hash alike), so that a new map is compared value by value only with
 * the earlier maps of its hash, not with every earlier map of the state.
 */
export function mapHash(map: RawMap): number {
  const { data } = map;
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  let h = (map.width * 0x10000 + map.height) | 0;
  for (let i = 0; i < bits.length; i++) {
    let k = bits[i] === 0x80000000 ? 0 : (bits[i] as number);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/** What is made of each distinct map, once: maps equal to one seen before (by hash, then value) share it. */
export class CoincidingMaps<T> {
  private readonly byHash = new Map<number, { map: RawMap; made: T }[]>();

  get(map: RawMap, make: () => T): T {
    const hash = mapHash(map);
    let bucket = this.byHash.get(hash);
    const same = bucket?.find((m) => sameMap(m.map, map));
    if (same) return same.made;
    const made = make();
    if (!bucket) this.byHash.set(hash, (bucket = []));
    bucket.push({ map, made });
    return made;
  }
}

/** Compared maps never drop below this many pixels a side (SSIM's window is 11 wide), the input's size permitting. */
const MIN_COMPARED = 32;

/**
 * Where maps are compared: the finest of the layers' grids (no map has detail finer than its grid, so
 * nothing is lost; coarser maps are upsampled to it), at least MIN_COMPARED pixels a side, at most the
 * input. Comparing at the input's full size would cost ~10× more for the same answer.
 */
export function compareSize(
  input: InputTensor,
  channelsLast: boolean,
  grids: { width: number; height: number }[],
): { width: number; height: number } {
  const [, a, b, c] = input.shape as [number, number, number, number];
  const full = channelsLast ? { width: b, height: a } : { width: c, height: b };
  const finest = (d: 'width' | 'height'): number =>
    Math.min(full[d], Math.max(Math.min(MIN_COMPARED, full[d]), ...grids.map((g) => g[d])));
  return { width: finest('width'), height: finest('height') };
}
