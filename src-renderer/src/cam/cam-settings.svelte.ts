/** Display settings shared by every heatmap pane. Changing them never asks the engine for anything. */
import type { Colormap, Scaling, Upsampling } from '../../../src-shared/heatmap';

export class CamSettings {
  opacity = $state(0.5);
  colormap = $state<Colormap>('magma');
  scaling = $state<Scaling>('relu');
  upsampling = $state<Upsampling>('bilinear');

  /** Signed maps read best on a diverging map: switch to it unless the user chose another on purpose. */
  setScaling(scaling: Scaling): void {
    this.scaling = scaling;
    if (scaling === 'signed' && this.colormap === 'magma') this.colormap = 'coolwarm';
    if (scaling === 'relu' && this.colormap === 'coolwarm') this.colormap = 'magma';
  }
}
