/** Names, colours and number formats the Trust tab shares between its parts. */
import { CAM_METHOD_LABELS, isCamMethod } from '../../../src-shared/cam';
import type { SanityVerdict } from '../../../src-shared/trust';

const COLOURS = ['#f0803c', '#4cb5ae', '#b07cd8', '#e4c04c', '#5a9be6', '#d86ca8', '#8bc34a', '#e4572e', '#9aa4b2', '#c9885a'];

export function methodLabel(method: string): string {
  return isCamMethod(method) ? CAM_METHOD_LABELS[method] : method;
}

/** A stable colour per method (its position in the method list). */
export function methodColour(method: string): string {
  const index = Object.keys(CAM_METHOD_LABELS).indexOf(method);
  return COLOURS[(index < 0 ? COLOURS.length - 1 : index) % COLOURS.length] as string;
}

export const VERDICT_TEXT: Record<SanityVerdict, string> = {
  pass: 'passes: its maps change when the weights are randomised',
  unclear: 'unclear: its maps keep part of their ranking without the weights',
  fail: 'fails: its maps barely change without the weights they should explain',
};

export const fmt = (x: number | null | undefined, digits = 3): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
