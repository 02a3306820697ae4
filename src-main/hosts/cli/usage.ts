/** The CLI's help text. The commands and JSON shapes here are contracts other tools script against. */
import { CAM_METHOD_REGISTRY, CAM_METHODS } from '../../../src-shared/cam';
import { EVALUATE_HELP } from './evaluate-help';
import { INTERPRET_HELP } from './commands/interpret';
export const MAIN_HELP = `layerlens — see why an image model predicted what it did (ONNX, no Python)

Usage:
  layerlens <command> [options]

Commands:
  cam MODEL INPUT       CAM, Grad-CAM and relatives for every stage (or chosen layers)
  graph MODEL           opset, inputs/outputs, op histogram, module tree, stages
  predict MODEL INPUT   top-k classes for one input
  stats MODEL IMAGES... activation statistics of every layer over a set of images
  evaluate MODEL IMAGES...
                        can the maps be trusted? faithfulness metrics and sanity checks
  interpret MODEL DATASET
                        a labelled folder or CSV: accuracy, confusion, top losses with their maps
  report --model MODEL --images IMAGES... --out FILE.html|FILE.pdf
                        a self-contained HTML or PDF report: model, predictions, CAM grids, statistics
  runs list|show|delete|prune|limit
                        the run history: every cam, stats and evaluate answer is stored and never computed twice
  serve [MODEL]         the LayerLens studio in your browser (127.0.0.1 only)
  help [COMMAND]        help for a command

Global options:
  -h, --help            show help
  -v, --version         show the version

Run history: cam, stats and evaluate store each run in a SQLite database ($LAYERLENS_DB, else
~/.local/share/layerlens/layerlens.db on Linux, ~/Library/Application Support/LayerLens on macOS,
%APPDATA%\\LayerLens on Windows — the desktop app uses the same file name in its user data folder).
Asking again for a stored run answers from the database without running the model.
  --db FILE             use another database file
  --no-history          neither read nor store runs
  --history-limit MB    the database's size limit, everything in it counted ($LAYERLENS_HISTORY_MB,
                        else the limit set in the studio's Settings and kept in the database, else 2048):
                        the oldest unpinned runs go first; a run larger than the whole limit is not kept
                        (its answer is still given, with a note on stderr)
  --cache-limit MB      memory for open models, onnxruntime sessions and analyses ($LAYERLENS_CACHE_MB,
                        default 1024); onnxruntime's working memory during a run comes on top

Run "layerlens help <command>" for a command's options and JSON output.
`;

export const PREDICT_HELP = `layerlens predict MODEL INPUT [options]

Runs MODEL (an .onnx file) on INPUT and prints the top classes.

INPUT is an image file (PNG, JPEG, WebP, TIFF, GIF, AVIF), preprocessed as the model's metadata says
(layerlens.preprocess) or with ImageNet defaults (resize + centre crop, mean/std), or a .npy float32
tensor with the model's input shape (with or without the batch dimension), fed exactly as is.

Options:
  --top K               how many classes (default 5)
  --device D            auto | cpu | webgpu | cuda (default auto: CUDA where installed, else a hardware GPU through WebGPU, else the CPU)
  --json                print JSON instead of a table
  --db FILE, --no-history
                        accepted as by every command; a prediction is never stored as a run

JSON output (stable):
  {"top": [{"class": k, "label": "…", "prob": p}, …],
   "provider": "cpu", "input_shape": [1, 3, H, W], "inference_ms": t}
  "prob" is the softmax of the logits (or the model's own output when it ends in Softmax).

Exit status: 0 on success, 1 when the model or input cannot be used (the reason is on stderr), 2 on bad usage.
`;

export const SERVE_HELP = `layerlens serve [MODEL] [options]

Serves the LayerLens studio to your browser. It listens on 127.0.0.1 only and prints a URL with a
per-start token; requests without the token are refused. To use a remote GPU box, forward the port
over SSH (ssh -L PORT:127.0.0.1:PORT host) and open the printed URL locally.

MODEL is opened at start; without it the bundled demo model and its sample images are.

Options:
  --port N              port to listen on (default: a free port)
  --device D            auto | cpu | webgpu | cuda (default auto)
  --no-demo             do not load the demo samples
  --db FILE             run database (see "layerlens --help"); --no-history: none
`;

export const GRAPH_HELP = `layerlens graph MODEL [options]

Describes MODEL's graph: opset, inputs/outputs, node count, op histogram, the module tree (from PyTorch
node-name scopes, or the graph's structure when the model has none) with output shapes from one probe
run, and the detected stages (one per spatial resolution: ResNet layer1…layer4 and the like). Layers can
be addressed elsewhere by module path ("layer4", "features.3") or tensor name.

Options:
  --json                print JSON instead of text
  --depth N             module tree depth in the text output (default 2)

JSON output (stable):
  {"name", "ir_version", "opset", "opsets": [{"domain", "version"}], "producer",
   "inputs": [{"name", "dtype", "shape"}], "outputs": [...], "node_count", "op_histogram": {"Conv": n, …},
   "hierarchy": "scopes" | "structural",
   "modules": [{"path", "name", "op", "nodes", "params", "output", "shape", "children": [...]}],
   "stages": [{"module", "tensor", "shape"}], "warnings": [...]}
`;

/** The methods as help lists them, one a line, from the registry. */
function methodTable(): string {
  const width = Math.max(...CAM_METHODS.map((m) => m.length));
  return CAM_METHODS.map((m) => {
    const info = CAM_METHOD_REGISTRY[m];
    const needs = [
      info.needs.gradient ? 'gradient' : '',
      info.needs.head ? 'classifier head' : '',
      info.needs.perturbation ? 'one forward per channel' : '',
    ]
      .filter(Boolean)
      .join(', ');
    const marks = `${info.default ? '*' : ' '}${info.eigenSmooth ? 'e' : ' '}`;
    return `  ${marks} ${m.padEnd(width)}  ${info.label}: ${info.summary}${needs ? ` [${needs}]` : ''}`;
  }).join('\n');
}

export const CAM_HELP = `layerlens cam MODEL INPUT [options]

Class activation maps for INPUT: one forward + backward run computes every requested layer and every
gradient method at once (the backward pass is built from standard ONNX ops appended to the model).

INPUT is an image file (preprocessed as the model's metadata says, or with ImageNet defaults) or a .npy
float32 tensor with the model's input shape, fed exactly as is.

Options:
  --layers L1,L2,...    module paths ("layer4", "features.3", "features.denseblock2") or tensor names;
                        "stages" (the default) means the detected stages
  --methods m1,m2,...   methods from the list below, or all (default: those marked *; the ones that need
                        a forward pass per channel show progress on a terminal, Ctrl-C cancels)
  --class K|top         the class to explain (default: top, the highest logit)
  --counterfactual      explain against the class (negated gradient / weights)
  --eigen-smooth        pytorch-grad-cam's eigen_smooth: the methods marked e below give the first principal
                        component of their per-channel terms (w_k·A_k, g_k⊙A_k, …) instead of their sum
                        (signed to agree with the sum); the others are unchanged
  --aug-smooth          pytorch-grad-cam's aug_smooth: each map is the mean over the input flipped left to
                        right or not and scaled ×0.9, ×1, ×1.1 (six inputs, one batched run; maps flipped
                        back); the per-channel methods (scorecam, ablationcam) are then unavailable. Needs
                        a model whose batch axis is free
  --device D            auto | cpu | webgpu | cuda (default auto)
  --json OUT            write JSON to the file OUT ("-" for standard output)
  --png DIR             write each map as a PNG overlay (magma, ReLU + min-max scaled) into DIR
  --png-size N          the PNGs' longer side in pixels (default: the model's input size, at least 224;
                        the model's view of the image is resized to it, its aspect ratio kept)
  --db FILE             run database (see "layerlens --help"); --no-history: none

Methods (* default, e changed by --eigen-smooth):
${methodTable()}

JSON output (stable):
  {"class": K, "label": "…", "counterfactual": false, "eigenSmooth": false, "augSmooth": false,
   "logits": [...], "provider": "cpu",
   "cached": false, "run": 12,
   "layers": {"<layer as given>": {"tensor": "<name>", "shape": [C, H, W],
               "maps": {"<method>": {"raw": [[...], ...], "note": "…"}}, "unavailable": {"<method>": "why"}}}}
  "cached" is true when the answer came from the run database (nothing ran); "run" is the stored run's id
  (null with --no-history). "raw" is the H×W map at feature resolution, before ReLU and scaling. A method that cannot run for a
  layer (CAM needs the layer to feed global pooling and one linear layer; gradient methods need every op
  between the layer and the logits to be differentiable) is listed under "unavailable" with the reason.
  "note" (only when present) says a map exists but is not meaningful: HiResCAM cancelled to rounding.
  Layers may be any grid of positions: [C, H, W] maps, channels-last [H, W, C] maps (Swin, TensorFlow
  exports) and transformer tokens [T, C] whose last H·W are the patches (ViT; a class token is dropped);
  "shape" is always [C, H, W] and "raw" is H×W.
`;

export const STATS_HELP = `layerlens stats MODEL IMAGES... [options]

Activation statistics (fastai's ActivationStats) of MODEL's layers over a set of images, streamed in small
batches (sized to keep the hooked activations of a batch within a few MB) so memory stays flat. IMAGES are image files, folders (searched recursively) or .npy float32
tensors fed as is. Ctrl-C stops early and keeps the partial result ("cancelled": true).

Options:
  --layers L1,L2,...    module paths or tensor names (default: every layer with parameters plus every
                        stage output)
  --include-paramless   also hook parameter-less layers (ReLU, pooling, Add…), as fastai's include_paramless
  --bins N              histogram bins (default 40)
  --range LO,HI|auto    histogram range (default 0,10 as fastai: values outside are dropped); auto picks a
                        range per layer from the first image, with a margin, and counts values outside it
  --device D            auto | cpu | webgpu | cuda (default auto)
  --json OUT            write JSON to the file OUT ("-" for standard output)
  --db FILE             run database (see "layerlens --help"); --no-history: none

JSON output (stable):
  {"images": N, "skipped": [{"index": i, "reason": "…"}], "cancelled": false, "provider": "cpu",
   "cached": false, "run": 7,
   "layers": {"<layer as given>": {"tensor": "<name>", "mean": m, "std": s, "near_zero": f,
              "range": [lo, hi], "hist": [counts...], "outside": n,
              "per_image": [{"mean": …, "std": …, "near_zero": …}, …], "dead_channels": [c, …]}}}
  mean/std/near_zero are over all elements of all images; std is unbiased (as torch.std); near_zero is
  the share of values ≤ 0.05; a dead channel is near zero on every image. "cached"/"run" as for cam (a
  cancelled run is stored with its partial result but never answers a later request). An input that cannot be used
  (unreadable, another shape) is listed under "skipped" and the run goes on.
`;

export const RUNS_HELP = `layerlens runs list|show ID|delete ID...|prune|limit [MB|default] [options]

The run history: every cam, stats and evaluate answer, stored in the run database (see "layerlens --help").

  list                  every run, newest first (pinned first); --model HASH|NAME|PATH filters
  show ID               one run's parameters and result (with --json: the same "result" as cam/stats/evaluate JSON)
  delete ID...          delete runs (their stored inputs' thumbnails go when no run uses them)
  prune                 delete unpinned runs: --older-than DAYS, --unfinished (incomplete and cancelled
                        runs), --all
  limit [MB|default]    the database's size limit and where it comes from; with MB, keeps that limit in
                        the database for every later session (the studio's Settings set the same one);
                        "default" forgets it. --history-limit / LAYERLENS_HISTORY_MB win for their process

A run is "running" while computed, "complete" when done, "cancelled" when stopped (partial statistics are
kept), "incomplete" when its process died (a crash, kill -9): the studio's history can resume it.

Options:
  --json                print JSON
  --db FILE             the database (default as for cam and stats)

JSON output (stable):
  list:   {"database": "…", "disk_bytes": n, "limit_bytes": n, "limit_source": SOURCE, "total": n, "runs": [RUN, …]}
  limit:  {"database": "…", "limit_bytes": n, "limit_source": SOURCE, "used_bytes": n}
          SOURCE: "preference" (kept in the database) | "flag" | "environment" | "default"
  show:   RUN + {"result": <cam, stats or evaluate JSON as those commands print it, or null>}
  delete, prune: {"deleted": n, "freed_bytes": n}
  RUN:    {"id", "kind": "cam"|"stats"|"trust", "status", "name", "pinned", "model": {"hash", "name", "path"},
           "inputs": n, "first_input", "created": ISO-8601, "duration_ms", "provider", "engine_version",
           "size_bytes", "params": {…the request: layers, methods, class, images…}}
          A studio CAM run is one user action: the maps its slow panes (or a pane's new fast method) asked
          for later are added to it, listed in "params.added": [{"layers", "methods", "status"}, …]; its
          status is "running" or "incomplete" while such a part is computed or was interrupted.
`;

export const REPORT_HELP = `layerlens report --model MODEL --images IMAGES... --out FILE [options]
layerlens report RUN_ID [RUN_ID...] --out FILE [display options]

Writes a report to hand to someone without LayerLens: the model (name, SHA-256, opsets, inputs and
outputs, parameter count, detected stages), each image with its top-5 predictions and its CAM grid
(stages × methods, with the class explained and a colorbar), optionally the activation statistics
(mean, std and % near zero per layer, the colorful dimension of the stages, a layer table), the run
parameters, engine version, provider, date and timings.

The format follows FILE's extension:
  .html                 one self-contained file: images inlined (JPEG), plots as inline SVG, no script,
                        nothing loaded from the network; prints well (one image per page)
  .pdf                  the same, printed by headless Chromium/Chrome: $LAYERLENS_CHROMIUM, $CHROME_PATH,
                        else the usual install locations (Debian: apt-get install chromium)

IMAGES are image files, folders (searched recursively) or .npy float32 tensors, as for stats.

With RUN_IDs (from "layerlens runs list"), the report shows those stored runs as they were computed —
CAM runs as images, a statistics run as the statistics, trust runs (evaluate) as the trust section — from their
stored results, not recomputed. The runs must
be of one model, and finished.

Options:
  --model MODEL         the .onnx model
  --images IMAGES...    the inputs (every argument after it that is not an option)
  --methods m1,m2,...   CAM methods as for cam, or all (default: cam,gradcam,layercam)
  --layers L1,L2,...    module paths or tensor names (default: stages, the detected stages)
  --class K|top         the class to explain (default: top, each image's highest logit)
  --counterfactual      explain against the class
  --stats               add activation statistics over every image (40 bins on [0, 10], as stats)
  --trust               add "Can the maps be trusted?": faithfulness metrics over the shown images and the
                        sanity check over the first 4 (as evaluate --sanity, with the report's methods)
  --max-images N        show at most N images (default 24; the report says "N of M images shown")
  --title TEXT          the report's title (default: the model's name)
  --colormap NAME       magma, viridis, turbo or coolwarm (default magma; coolwarm with --scaling signed)
  --scaling S           relu (default: ReLU, then min-max per map) or signed (divided by the largest |value|)
  --upsampling U        bilinear (default) or nearest
  --opacity A           of the map over the image, 0 to 1 (default 0.5)
  --device D            auto | cpu | webgpu | cuda (default auto)
  --out FILE            where to write the report (.html or .pdf)
  --db FILE             run database (see "layerlens --help"); --no-history: none

Prints one line: the file written, its size and what it holds.
`;

export const COMMAND_HELP: Record<string, string> = {
  report: REPORT_HELP,
  runs: RUNS_HELP,
  stats: STATS_HELP,
  cam: CAM_HELP,
  evaluate: EVALUATE_HELP,
  graph: GRAPH_HELP,
  interpret: INTERPRET_HELP,
  predict: PREDICT_HELP,
  serve: SERVE_HELP,
};
