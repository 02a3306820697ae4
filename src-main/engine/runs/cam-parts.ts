/**
 * A CAM run's result as parts join it: one user action (an image and a class in the studio) is one run, its
 * first answer the fast methods of every row, then each slow pane's maps (ScoreCAM at layer2…) merged in.
 * A request answered from such a run gets only what it asked for.
 */
import type { CamMethod, LayerMaps } from '../../../src-shared/cam';
import type { StoredCam } from './result-codec';

/** The run's result with a part's maps added to its layers (a layer the run lacks is added after the others). */
export function mergeCam(result: StoredCam, part: StoredCam): StoredCam {
  const layers = result.result.layers.map((l) => ({ ...l }));
  for (const added of part.result.layers) {
    const same = layers.find((l) => l.label === added.label);
    if (!same) {
      layers.push(added);
      continue;
    }
    same.maps = { ...same.maps, ...added.maps };
    // A method computed now is no longer unavailable, and a method the part could not run keeps its reason.
    same.unavailable = { ...withoutKeys(same.unavailable, Object.keys(added.maps)), ...added.unavailable };
    const notes = { ...withoutKeys(same.notes ?? {}, methodsOf(added)), ...added.notes };
    if (Object.keys(notes).length > 0) same.notes = notes;
    else delete same.notes;
  }
  const { timings } = result.result;
  const extra = part.result.timings;
  return {
    ...result,
    result: {
      ...result.result,
      layers,
      timings: {
        totalMs: timings.totalMs + extra.totalMs,
        hookedRunMs: timings.hookedRunMs,
        perturbationMs: timings.perturbationMs + extra.perturbationMs,
      },
    },
  };
}

/**
 * What a request asks of a stored result: its methods, at the layers it named (or, for "stages", the layers
 * that have anything of those methods — a layer only a part added has nothing of the first request's).
 */
export function narrowCam(stored: StoredCam, asked: { layers: string[]; methods: CamMethod[] }): StoredCam {
  const named = asked.layers.length > 0 && !(asked.layers.length === 1 && asked.layers[0] === 'stages');
  const keep = new Set<string>(asked.methods);
  const layers: LayerMaps[] = [];
  for (const layer of stored.result.layers) {
    if (named && !asked.layers.includes(layer.label)) continue;
    const narrowed: LayerMaps = {
      ...layer,
      maps: onlyKeys(layer.maps, keep),
      unavailable: onlyKeys(layer.unavailable, keep),
    };
    if (layer.notes) narrowed.notes = onlyKeys(layer.notes, keep);
    if (!named && Object.keys(narrowed.maps).length + Object.keys(narrowed.unavailable).length === 0) continue;
    layers.push(narrowed);
  }
  return { ...stored, result: { ...stored.result, layers } };
}

function methodsOf(layer: LayerMaps): string[] {
  return [...Object.keys(layer.maps), ...Object.keys(layer.unavailable)];
}

function onlyKeys<V>(record: Partial<Record<CamMethod, V>>, keep: Set<string>): Partial<Record<CamMethod, V>> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => keep.has(k))) as Partial<Record<CamMethod, V>>;
}

function withoutKeys<V>(record: Partial<Record<CamMethod, V>>, drop: string[]): Partial<Record<CamMethod, V>> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => !drop.includes(k))) as Partial<Record<CamMethod, V>>;
}
