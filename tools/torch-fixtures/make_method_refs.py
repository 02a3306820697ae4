#!/usr/bin/python3
"""Reference maps of the CAM methods added after the fixtures (written from their papers, in PyTorch float64).

Reads every fixture's stage activations and gradients (PyTorch forward/backward hooks, written by
make_fixtures.py) and writes, per stage i, stage{i}_<method>.npy with the [H, W] map:

- gradcamelementwise: sum_k ReLU(dy/dA_k * A_k) (pytorch-grad-cam's GradCAMElementWise: Grad-CAM's weights
  applied element-wise, then the ReLU before the channel sum).
- fem: Feature Explanation Method (Fuad et al., IPTA 2020): per channel k, the k-sigma rule over positions,
  M_k = [A_k >= mu_k + 2 sigma_k] (sigma the population standard deviation), and the map
  sum_k mu_k * M_k: the binarised outliers of each channel weighted by the channel's mean.
- kpcacam: KPCA-CAM (Karmani et al. 2024) as pytorch-grad-cam's KPCA_CAM computes it with its defaults (sklearn's
  KernelPCA, one component, kernel "sigmoid", gamma None = 1/C, coef0 1), written out here: X = A as [Z, C]
  centred over positions, K = tanh(X X^T / C + 1), K centred in feature space (K - 1K - K1 + 1K1), its
  eigenvector v of the largest eigenvalue l, the map v * sqrt(l) (KernelPCA's fit_transform). The sign of a
  component is arbitrary: it is made to agree with the centred sum_k A_k (as LayerLens's EigenCAM does).
  Where the largest eigenvalue is not separated from the next (relative gap < 1e-3: a saturated kernel on a
  2x2 grid) the component is not defined and no reference is written.
- <method>_eigensmooth (gradcam, layercam): pytorch-grad-cam's eigen_smooth=True: the first principal
  component of the per-channel terms whose sum is the map (w_k A_k, ReLU(g_k) A_k) as [Z, C], centred over
  positions (an SVD), signed to agree with the centred unsmoothed map.

The methods below need the model itself (other gradients, other inputs): the fixtures' models are rebuilt
from make_fixtures.py's seeded builders, and their logits checked against logits.npy first.

- finercam: pytorch-grad-cam's FinerCAM with its defaults (base method Grad-CAM, alpha 1, comparison
  categories [1, 2, 3]): the classes ranked by |y_j - y_c| (y_c the target's logit), rank 0 the target itself,
  ranks 1..3 compared; the score differentiated is FinerWeightedTarget's
  T = sum_j p_j (y_c - alpha y_j) / (sum_j p_j + 1e-9), p = softmax(y), the weights p_j not detached (as
  there); Grad-CAM of dT/dA.
- <method>_augsmooth (gradcam, layercam): pytorch-grad-cam's aug_smooth=True augmentations (ttach's
  HorizontalFlip x Multiply [0.9, 1, 1.1]: six inputs), each map computed from its own forward and backward
  pass (the target class kept), flipped back where the input was flipped, and the raw maps averaged
  (LayerLens averages its raw maps; pytorch-grad-cam averages its ReLU'd, min-max scaled ones).

Run with Debian's python3-torch (/usr/bin/python3); nothing at test or run time needs it.
"""
import copy
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "torch"
FEM_K = 2.0


def channel_major(x, grid):
    """[1, ...] as the model holds it -> [C, H, W] float64."""
    t = torch.from_numpy(x.astype(np.float64))[0]
    c, h, w = grid["channels"], grid["height"], grid["width"]
    if grid["layout"] == "NHWC":
        return t.permute(2, 0, 1).contiguous()
    if grid["layout"] == "tokens":
        return t[grid["prefix"]:, :].T.reshape(c, h, w)
    return t.reshape(c, h, w)


def gradcam_elementwise(a, g):
    return torch.relu(g * a).sum(dim=0)


def fem(a):
    mu = a.mean(dim=(1, 2), keepdim=True)
    sigma = a.std(dim=(1, 2), unbiased=False, keepdim=True)
    mask = (a >= mu + FEM_K * sigma).double()
    return (mu * mask).sum(dim=0)


def sign_like(m, reference):
    r = reference - reference.mean()
    return -m if float((m * r).sum()) < 0 else m


def first_component(terms):
    """[C, H, W] terms -> the projection of the centred [Z, C] rows on their first principal direction, signed
    to agree with the centred channel sum."""
    c, h, w = terms.shape
    x = terms.reshape(c, h * w).T
    x = x - x.mean(dim=0, keepdim=True)
    _, _, vt = torch.linalg.svd(x, full_matrices=False)
    return sign_like((x @ vt[0]).reshape(h, w), terms.sum(dim=0))


def kpcacam(a):
    c, h, w = a.shape
    x = a.reshape(c, h * w).T
    x = x - x.mean(dim=0, keepdim=True)
    k = torch.tanh(x @ x.T / c + 1.0)
    k = k - k.mean(dim=0, keepdim=True) - k.mean(dim=1, keepdim=True) + k.mean()
    values, vectors = torch.linalg.eigh(k)
    if values[-1] - values[-2] < KPCA_GAP * values[-1]:
        return None
    top = values[-1].clamp(min=0)
    return sign_like((vectors[:, -1] * top.sqrt()).reshape(h, w), a.sum(dim=0))


def gradcam_terms(a, g):
    return g.mean(dim=(1, 2), keepdim=True) * a


def layercam_terms(a, g):
    return torch.relu(g) * a


TERMS = {"gradcam": gradcam_terms, "layercam": layercam_terms}
KPCA_GAP = 1e-3
FINER_ALPHA = 1.0
FINER_COMPARED = (1, 2, 3)
AUGMENTATIONS = [(flip, factor) for flip in (False, True) for factor in (0.9, 1.0, 1.1)]


def finer_target(target_class):
    def score(out):
        y = out[0]
        order = torch.argsort((y - y[target_class]).abs().detach())
        main, compared = int(order[0]), [int(order[i]) for i in FINER_COMPARED]
        p = torch.softmax(y, dim=-1)
        numerator = sum(p[j] * (y[main] - FINER_ALPHA * y[j]) for j in compared)
        return numerator / (sum(p[j] for j in compared) + 1e-9)

    return score


def hooked(m64, x, stages, score):
    """Stage outputs and d score / d output, batch 1, float64."""
    modules = dict(m64.named_modules())
    acts = {}

    def hook(name):
        def fn(_m, _i, out):
            out.retain_grad()
            acts[name] = out

        return fn

    handles = [modules[s].register_forward_hook(hook(s)) for s in stages]
    out = m64(x.double())
    for h in handles:
        h.remove()
    score(out).backward()
    return out.detach(), [(acts[s].detach().numpy(), acts[s].grad.numpy()) for s in stages]


def rebuilt_models():
    """The fixtures' torch models, rebuilt by make_fixtures.py's seeded builders, in float64."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import make_fixtures as mf

    torch.set_num_threads(2)
    models = {}
    for k, spec in enumerate(mf.SPECS):
        mf.seeded(mf.MODEL_SEED + k)
        model = spec["build"]()
        mf.calibrate_batchnorm(model, mf.MODEL_SEED + 100 + k)
        models[spec["name"]] = copy.deepcopy(model.eval()).double().eval()
    models[mf.NOSCOPE["name"]] = models[mf.NOSCOPE["source"]]
    return models


def model_refs(folder, meta, m64):
    x = torch.from_numpy(np.load(folder / meta["input"]))
    stages = [s["module"] for s in meta["stages"]]
    target = meta["target_class"]
    logits, _ = hooked(m64, x, stages, lambda out: out[0, target])
    expected = torch.from_numpy(np.load(folder / meta["logits"])).double()
    if (logits - expected).abs().max() > 1e-4 * expected.abs().max():
        raise RuntimeError(f"{meta['name']}: the rebuilt model's logits differ from logits.npy")
    _, finer = hooked(m64, x, stages, finer_target(target))
    for i, (stage, (a, g)) in enumerate(zip(meta["stages"], finer)):
        a, g = channel_major(a, stage["grid"]), channel_major(g, stage["grid"])
        np.save(folder / f"stage{i}_finercam.npy", gradcam_terms(a, g).sum(dim=0).numpy().astype(np.float32))
    sums = {(i, name): 0 for i in range(len(stages)) for name in TERMS}
    for flip, factor in AUGMENTATIONS:
        xa = (torch.flip(x, dims=[3]) if flip else x) * factor
        _, per_stage = hooked(m64, xa, stages, lambda out: out[0, target])
        for i, (stage, (a, g)) in enumerate(zip(meta["stages"], per_stage)):
            a, g = channel_major(a, stage["grid"]), channel_major(g, stage["grid"])
            for name, terms in TERMS.items():
                m = terms(a, g).sum(dim=0)
                sums[(i, name)] = sums[(i, name)] + (torch.flip(m, dims=[1]) if flip else m)
    for (i, name), total in sums.items():
        np.save(folder / f"stage{i}_{name}_augsmooth.npy", (total / len(AUGMENTATIONS)).numpy().astype(np.float32))


def main():
    models = rebuilt_models()
    index = json.loads((ROOT / "index.json").read_text())
    for fixture in index["fixtures"]:
        folder = ROOT / fixture["dir"]
        meta = json.loads((folder / "meta.json").read_text())
        for i, stage in enumerate(meta["stages"]):
            a = channel_major(np.load(folder / stage["act"]), stage["grid"])
            g = channel_major(np.load(folder / stage["grad"]), stage["grid"])
            maps = [("gradcamelementwise", gradcam_elementwise(a, g)), ("fem", fem(a)), ("kpcacam", kpcacam(a))]
            maps += [(f"{name}_eigensmooth", first_component(terms(a, g))) for name, terms in TERMS.items()]
            for name, m in maps:
                if m is None:
                    (folder / f"stage{i}_{name}.npy").unlink(missing_ok=True)
                    continue
                np.save(folder / f"stage{i}_{name}.npy", m.numpy().astype(np.float32))
        model_refs(folder, meta, models[fixture["name"]])
        print(f"[{fixture['name']}] {len(meta['stages'])} stages")


if __name__ == "__main__":
    main()
