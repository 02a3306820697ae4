#!/usr/bin/python3
"""ScoreCAM reference maps for the fixtures that have AblationCAM references (PyTorch, float64).

Rebuilds each such model exactly as make_fixtures.py does (same seeds, same BatchNorm calibration; the
logits are checked against the committed logits.npy), and writes stage<i>_scorecam.npy, the [H, W] map of
ScoreCAM (Wang et al., CVPR-W 2020) as pytorch-grad-cam computes it: each channel of the stage's output,
upsampled to the input's size bilinearly, min-max scaled to [0, 1], multiplies the input; the weights are
the softmax over channels of the target logit of the masked inputs; the map is sum_k w_k A_k. The
upsampling is F.interpolate's with align_corners=False, as in the authors' code and in LayerLens's own
overlays (pytorch-grad-cam's UpsamplingBilinear2d aligns corners instead); a constant channel masks
everything (pytorch-grad-cam's 1e-8 in the denominator gives the same 0).

Run with Debian's python3-torch (/usr/bin/python3); nothing at test or run time needs it.
"""
import copy
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_fixtures as mf  # noqa: E402


def channel_major(a, grid, layout):
    if layout == "NHWC":
        return a[0].permute(2, 0, 1)
    if layout == "tokens":
        return a[0, grid["prefix"]:].reshape(grid["height"], grid["width"], grid["channels"]).permute(2, 0, 1)
    return a[0]


def scorecam_maps(model, x, stages, layout):
    m64 = copy.deepcopy(model).double().eval()
    modules = dict(m64.named_modules())
    x64 = x.double()
    acts = {}
    handles = [modules[s].register_forward_hook(lambda _m, _i, out, s=s: acts.__setitem__(s, out)) for s in stages]
    with torch.no_grad():
        m64(x64)
    for h in handles:
        h.remove()
    maps = []
    for stage in stages:
        grid = mf.grid_of(tuple(acts[stage].shape), layout)
        a = channel_major(acts[stage], grid, layout)  # [C, h, w]
        up = F.interpolate(a[None], size=x.shape[-2:], mode="bilinear", align_corners=False)[0]
        lo = up.flatten(1).min(dim=1).values[:, None, None]
        hi = up.flatten(1).max(dim=1).values[:, None, None]
        masks = torch.where(hi > lo, (up - lo) / torch.where(hi > lo, hi - lo, torch.ones_like(hi)), torch.zeros_like(up))
        scores = []
        with torch.no_grad():
            for chunk in torch.split(masks, 16):
                scores.append(m64(x64 * chunk[:, None])[:, mf.TARGET_CLASS])
        weights = torch.softmax(torch.cat(scores), dim=0)
        maps.append(torch.einsum("c,chw->hw", weights, a).numpy().astype(np.float32))
    return maps


def main():
    torch.set_num_threads(2)
    x = mf.make_input()
    for k, spec in enumerate(mf.SPECS):
        if not spec.get("ablation"):
            continue
        mf.seeded(mf.MODEL_SEED + k)
        model = spec["build"]()
        mf.calibrate_batchnorm(model, mf.MODEL_SEED + 100 + k)
        model.eval()
        folder = mf.OUT_DIR / spec["name"]
        meta = json.loads((folder / "meta.json").read_text())
        stages = [s["module"] for s in meta["stages"]]
        with torch.no_grad():
            logits = model(x).numpy()
        committed = np.load(folder / "logits.npy")
        if not np.allclose(logits, committed, rtol=1e-5, atol=1e-6):
            raise SystemExit(f"[{spec['name']}] the rebuilt model is not the fixture's (logits differ)")
        for i, m in enumerate(scorecam_maps(model, x, stages, spec.get("layout", "NCHW"))):
            mf.save_npy(folder / f"stage{i}_scorecam.npy", m)
        print(f"[{spec['name']}] {len(stages)} stages")


if __name__ == "__main__":
    main()
