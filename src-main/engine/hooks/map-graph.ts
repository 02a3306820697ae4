/**
 * The maps computed inside the hooked model, by onnxruntime, right after the backward pass: each in-graph
 * method's builder (cam/methods/<id>.ts) appends its map for one layer, and the maps leave the run as small
 * extra outputs, so no large activation or gradient tensor is copied into JavaScript. The intermediates
 * several methods read are shared (cam/map-context.ts).
 *
 * Cost matters here (on ResNet-50 the maps of four stages once cost a quarter of the whole run): every
 * pass over a full [C, H·W] tensor is shared between the methods that need it, the weights-based maps
 * (CAM, Grad-CAM, XGradCAM, Grad-CAM++, EigenCAM's sign) are each one matrix-vector product with A, and
 * the Eigen methods read their tensor only in their Krylov steps.
 */
import type { TensorName } from '../../../src-shared/api';
import { CAM_METHOD_REGISTRY, type CamMethod } from '../../../src-shared/cam';
import { itemsBatchable, LayerMapContext, type LayerMapInputs } from '../cam/map-context';
import { eigenMap } from '../cam/eigen-graph';
import { CAM_METHOD_IMPLS } from '../cam/methods';
import type { GraphBuilder } from './graph-builder';

export { IN_GRAPH_METHODS } from '../cam/methods';

export function mapOutputName(method: CamMethod, tensor: TensorName): TensorName {
  return `layerlens/map/${method}/${tensor}` as TensorName;
}

/** The maps of one layer, and for the channel sums among them the scale their rounding is relative to. */
export interface LayerMapOutputs {
  maps: Map<CamMethod, TensorName>;
  /** max over positions of Σ_k |term_k|: a map far below it cancelled to rounding (see cam-runner). */
  termScales: Map<CamMethod, TensorName>;
  /** Methods that cannot run for this layer, with why (CAM without its head). */
  unavailable: Map<CamMethod, string>;
}

/** How a layer's maps are built beyond each method's own definition. */
export interface MapOptions {
  /** pytorch-grad-cam's eigen_smooth: a channel sum of terms becomes their first principal component. */
  eigenSmooth: boolean;
  /**
   * aug-smooth: the run's batch holds augmented copies of the image, item i flipped horizontally where
   * `flipped[i]`; each method's map is built per item, flipped back, and the maps averaged.
   */
  flipped?: readonly boolean[];
  /**
   * The run's batch holds `items` independent images (or one image explained for several classes): each
   * item's maps are built from its own slice and class row, and each map output is [items·H·W], item i at
   * offset i·H·W (a term scale [items]).
   */
  items?: number;
}

/**
 * Appends the maps of `methods` for one hooked layer and returns the output name of each map (H·W values).
 * Methods that need the gradient are left out when there is none (the caller says why).
 */
export function appendMaps(
  b: GraphBuilder,
  inputs: LayerMapInputs,
  methods: readonly CamMethod[],
  options: MapOptions = { eigenSmooth: false },
): LayerMapOutputs {
  const flipped = options.flipped && options.flipped.length > 1 ? options.flipped : null;
  const items = !flipped && (options.items ?? 1) > 1 ? (options.items as number) : 0;
  // A batch of items is one context with an item axis; builders without a batched form (and layers whose
  // items are not on axis 0) get each item sliced out into a context of its own.
  const batched = items > 0 && itemsBatchable(inputs) ? new LayerMapContext(b, inputs, items) : null;
  let slices: LayerMapContext[] | null = null;
  const itemContexts = (): LayerMapContext[] =>
    (slices ??= Array.from({ length: items }, (_, i) => new LayerMapContext(b, itemOf(b, inputs, i, true))));
  const mirroredContexts = flipped?.map((_, i) => new LayerMapContext(b, itemOf(b, inputs, i)));
  const single = flipped || items ? null : new LayerMapContext(b, inputs);
  const out: LayerMapOutputs = { maps: new Map(), termScales: new Map(), unavailable: new Map() };
  const renames = new Map<string, string>();
  for (const method of methods) {
    const impl = CAM_METHOD_IMPLS[method];
    if (impl.kind !== 'in-graph' || (inputs.gradient === null && CAM_METHOD_REGISTRY[method].needs.gradient)) continue;
    const name = mapOutputName(method, inputs.activation);
    const contexts = mirroredContexts ?? (single ? [single] : batched && !impl.perItem ? [batched] : itemContexts());
    const maps: TensorName[] = [];
    const scales: TensorName[] = [];
    for (const [i, ctx] of contexts.entries()) {
      const built = impl.build(ctx);
      if ('unavailable' in built) {
        out.unavailable.set(method, built.unavailable);
        break;
      }
      // eigen-smooth (pytorch-grad-cam's eigen_smooth): the terms' first principal component, signed like their sum.
      const smooth = options.eigenSmooth && built.terms !== undefined;
      const map = smooth ? eigenMap(b, (built.terms as () => TensorName)(), ctx.c, ctx.z, built.map, ctx.items) : built.map;
      maps.push(flipped?.[i] ? mirrored(b, map, inputs.grid.height, inputs.grid.width) : map);
      if (!smooth && !flipped && built.termScale) scales.push(built.termScale);
    }
    if (out.unavailable.has(method)) continue;
    if (items) {
      // One output per method: the items' maps one after another, [N·H·W], and their term scales [N].
      const z = inputs.grid.height * inputs.grid.width;
      const flat =
        maps.length === 1
          ? b.reshape(maps[0] as string, [items * z])
          : b.op1(
              'Concat',
              maps.map((m) => b.reshape(m, [z])),
              { axis: 0 },
            );
      out.maps.set(method, publish(b, flat, name, renames));
      if (scales.length === maps.length) {
        const all =
          scales.length === 1
            ? (scales[0] as TensorName)
            : b.op1(
                'Concat',
                scales.map((t) => b.reshape(t, [1])),
                { axis: 0 },
              );
        out.termScales.set(method, publish(b, all, `${name}/scale` as TensorName, renames));
      }
      continue;
    }
    const termScale = scales[0];
    const mean = maps.length === 1 ? (maps[0] as TensorName) : b.op1('Mul', [b.sum(maps), b.scalar(1 / maps.length)]);
    out.maps.set(method, publish(b, mean, name, renames));
    if (termScale) out.termScales.set(method, publish(b, termScale, `${name}/scale` as TensorName, renames));
  }
  renameTensors(b, renames);
  return out;
}

/**
 * Item i of a batched layer: its activation and gradient sliced out on the batch axis (the grid is one
 * item's), and with `ownRow` its own row of the class rows ([items, classes]) too.
 */
function itemOf(b: GraphBuilder, inputs: LayerMapInputs, i: number, ownRow = false): LayerMapInputs {
  const axis = inputs.grid.batchAxis;
  const item = (t: string): TensorName => b.slice(t, [i], [i + 1], [axis]);
  return {
    ...inputs,
    activation: item(inputs.activation),
    gradient: inputs.gradient === null ? null : item(inputs.gradient),
    classRow: ownRow && inputs.classRow !== null ? b.slice(inputs.classRow, [i], [i + 1], [0]) : inputs.classRow,
  };
}

/** A map [H·W] flipped left to right. */
function mirrored(b: GraphBuilder, map: string, height: number, width: number): TensorName {
  const reversed = b.int64Const(
    Array.from({ length: width }, (_, x) => width - 1 - x),
    'mirror',
  );
  return b.reshape(b.op1('Gather', [b.reshape(map, [height, width]), reversed], { axis: 1 }), [height * width]);
}

/**
 * Gives a built tensor its public output name: the node that makes it is renamed (once every method of the
 * layer is built, as later methods may read it under its old name), not copied by an Identity, which on a
 * GPU is one more dispatch per map. A tensor the builder did not make, or one already published, is copied.
 */
function publish(b: GraphBuilder, tensor: TensorName, name: TensorName, renames: Map<string, string>): TensorName {
  if (renames.has(tensor) || !b.nodes.some((n) => n.output.includes(tensor))) return b.named('Identity', [tensor], name);
  renames.set(tensor, name);
  return name;
}

function renameTensors(b: GraphBuilder, renames: Map<string, string>): void {
  if (renames.size === 0) return;
  const renamed = (t: string): string => renames.get(t) ?? t;
  for (const n of b.nodes) {
    n.input = n.input.map(renamed);
    n.output = n.output.map(renamed);
  }
}
