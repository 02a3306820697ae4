/** The heatmap display a report uses, from the studio's own choices (colormap, scaling, upsampling, opacity). */
import { COLORMAPS, type Colormap } from '../../src-shared/heatmap';
import { DEFAULT_DISPLAY, type HeatmapDisplay } from './report-data';

export interface DisplayChoices {
  colormap?: string | undefined;
  scaling?: string | undefined;
  upsampling?: string | undefined;
  opacity?: string | undefined;
}

/** Returns the display, or the text of what is wrong with a choice. */
export function parseDisplay(choices: DisplayChoices): HeatmapDisplay | string {
  const { colormap, scaling, upsampling, opacity } = choices;
  if (colormap !== undefined && !(COLORMAPS as readonly string[]).includes(colormap))
    return `--colormap must be one of ${COLORMAPS.join(', ')} (got "${colormap}")`;
  if (scaling !== undefined && scaling !== 'relu' && scaling !== 'signed')
    return `--scaling must be relu or signed (got "${scaling}")`;
  if (upsampling !== undefined && upsampling !== 'bilinear' && upsampling !== 'nearest')
    return `--upsampling must be bilinear or nearest (got "${upsampling}")`;
  const alpha = opacity === undefined ? DEFAULT_DISPLAY.opacity : Number(opacity);
  if (opacity !== undefined && !(Number.isFinite(alpha) && alpha >= 0 && alpha <= 1))
    return `--opacity must be a number from 0 to 1 (got "${opacity}")`;
  const signed = scaling === 'signed';
  return {
    // Signed maps read best on a diverging colormap: the studio switches to coolwarm unless one was chosen.
    colormap: (colormap as Colormap | undefined) ?? (signed ? 'coolwarm' : DEFAULT_DISPLAY.colormap),
    scaling: signed ? 'signed' : 'relu',
    upsampling: upsampling === 'nearest' ? 'nearest' : 'bilinear',
    opacity: alpha,
  };
}
