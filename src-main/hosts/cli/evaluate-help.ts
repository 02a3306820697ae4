/** `layerlens help evaluate`: the command's options and its JSON output, a stable contract. */
export const EVALUATE_HELP = `layerlens evaluate MODEL IMAGES... [options]

Can these maps be trusted? For each image, layer (default: the stages) and method, measures how faithful
the map is to the model, beside a random map of the same layer, and optionally runs the sanity checks of
Adebayo et al. ("Sanity Checks for Saliency Maps", 2018).

IMAGES are image files, folders (searched recursively) or .npy tensors, all of the model's input size.

Faithfulness (per image, layer and method; the map is upsampled bilinearly to the input):
  deletion      the most salient pixels first replaced by the baseline, 1/STEPS of them per step; the class
                probability after each step and the area under that curve (low is good) — Petsiuk et al. 2018
  insertion     the baseline with the most salient pixels put back first; its area (high is good)
  drop          max(0, Y - O) / Y, Y the class probability of the image, O of the image times the map
                (ReLU, min-max to [0, 1]); averaged over images as "average drop" (%, low is good) and
                "increase in confidence" (% of images where O > Y) — Chattopadhyay et al. 2018
  pointing      whether the map's maximum falls inside the object's box (with --boxes)
  random        the same metrics for a uniformly random map at the layer's resolution (seeded)
All perturbed images of an image are scored in batched forward passes; an image that several maps share
(equal maps, or maps whose most salient pixels coincide at a step) is scored once.

Sanity check (--sanity): the weights (Conv, ConvTranspose, Gemm, MatMul) of the head, then of each stage
downwards, then of the stem are re-initialised from their own mean and standard deviation (seeded):
cascading (the head, then the head and the last stage, …) and independent (each part alone). Each map is
recomputed and compared with the original one (both upsampled, ReLU, min-max to [0, 1]) by Spearman's rank
correlation and SSIM, averaged over the images. Verdict per method, from the mean over layers of the rank
correlation at full randomisation: pass below 0.5 (the maps depend on the weights), fail from 0.8 (they
barely do: an edge detector would do as well), unclear between. One onnxruntime session serves every
randomised model (the weights are fed as inputs). ScoreCAM and AblationCAM are checked the same way: their
forward passes go through the plain model (or its part after the layer) with the weights fed as inputs, a
pass per channel for each randomised model — ask for them at the layers you need (e.g. --layers layer4).

Options:
  --methods LIST        comma-separated CAM methods, or all (default: every gradient method, as listed
                        by "layerlens help cam")
  --layers LIST         module paths or tensor names (default: the stages)
  --class C             top (default: each image's top class) or a class index
  --steps N             steps of a deletion/insertion curve (default 20; the curve has N + 1 points)
  --baseline B          blur (Gaussian, sigma 5 px; blur:SIGMA for another) or zero (the all-zero input
                        tensor, the mean colour for mean/std-normalised models) (default blur)
  --boxes FILE          object boxes for the pointing game: JSON {"images": [{"file": NAME, "box":
                        [x0, y0, x1, y1]}, …]} (a held-out set's index.json) or {NAME: [x0, y0, x1, y1], …};
                        image pixels, end exclusive; NAME matches an image's file name
  --sanity              also run the sanity check
  --no-faithfulness     only the sanity check (with --sanity)
  --seed N              seed of the random maps and the randomised weights (default 0)
  --device D            auto | cpu | cuda (default auto)
  --json OUT            write JSON to OUT ("-" for stdout, which then holds only the JSON)
  --db FILE / --no-history   the run history (see "layerlens --help")

JSON output (stable):
  {"model": "…", "methods": ["gradcam", …], "class": "top"|k, "steps": 20,
   "baseline": {"kind": "blur", "sigma": 5}|{"kind": "zero"}, "seed": 0,
   "images": [{"file": "…", "class": k, "label": "…", "prob": Y, "box": [x0, y0, x1, y1]|null,
               "pointing_chance": share of the input inside the box|null,
               "layers": {LAYER: {"methods": {METHOD: METRICS, …}, "random": METRICS|null,
                                  "unavailable": {METHOD: "why", …}}}}, …],
   "summary": {LAYER: {"methods": {METHOD: SUMMARY, …}, "random": SUMMARY|null}},
   "ranking": [{"layer": LAYER, "method": METHOD, "deletion_auc": a}, …],
   "sanity": null | {"modules": [{"label": "head"|"layer4"|…|"stem", "tensors": n, "parameters": n}, …],
                     "images": n,
                     "layers": {LAYER: {"methods": {METHOD: {"cascading": SIMILARITY,
                                                              "independent": SIMILARITY,
                                                              "verdict": "pass"|"unclear"|"fail"}},
                                        "unavailable": {METHOD: "why"}}},
                     "verdicts": {METHOD: "pass"|"unclear"|"fail"}},
   "provider": "cpu", "cached": false, "run": 12|null,
   "timings": {"total_ms", "cam_ms", "faithfulness_ms", "forward_passes" (images scored), "sanity_ms"}}
  METRICS = {"deletion_auc": a, "insertion_auc": a, "deletion": [p0, …, pN], "insertion": [p0, …, pN],
             "drop": d, "increase": true|false, "pointing": true|false|null}
  SUMMARY = {"deletion_auc", "insertion_auc", "average_drop" (%), "increase_in_confidence" (%),
             "pointing" (% of boxed images)|null}, means over the images
  SIMILARITY = {"spearman": [s1, …], "ssim": [s1, …]}: entry i after randomising modules 0…i
             (cascading) or module i alone (independent)
  "ranking" orders every (layer, method) by mean deletion AUC, lowest (best) first.

Exit status: 0 on success, 1 when the model or an input cannot be used, 2 on bad usage.
`;
