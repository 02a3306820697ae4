/** Which statistics layers the report draws in detail (the colorful dimension): a few, not all of them. */
import type { LayerStatsView } from '../../src-shared/api';
import type { ReportModel } from './report-data';

export const MAX_COLORDIM_LAYERS = 4;

/** The stage outputs when the statistics have them (they tell the network's story), else evenly spaced layers. */
export function colorDimLayers(layers: LayerStatsView[], stages: ReportModel['stages'], max = MAX_COLORDIM_LAYERS): number[] {
  const stageTensors = new Set(stages.map((s) => s.tensor));
  const atStages = layers.flatMap((l, i) => (stageTensors.has(l.tensor) ? [i] : []));
  const pool = atStages.length > 0 ? atStages : layers.map((_, i) => i);
  if (pool.length <= max) return pool;
  // Evenly spaced, always keeping the first and the last.
  return Array.from({ length: max }, (_, k) => pool[Math.round((k * (pool.length - 1)) / (max - 1))] as number);
}
