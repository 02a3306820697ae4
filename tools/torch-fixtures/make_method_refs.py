#!/usr/bin/python3
"""Reference maps of the CAM methods added after the fixtures (written from their papers, in PyTorch float64).

Reads every fixture's stage activations and gradients (PyTorch forward/backward hooks, written by
make_fixtures.py) and writes, per stage i, stage{i}_<method>.npy with the [H, W] map:

- gradcamelementwise: sum_k ReLU(dy/dA_k * A_k) (pytorch-grad-cam's GradCAMElementWise: Grad-CAM's weights
  applied element-wise, then the ReLU before the channel sum).
- fem: Feature Explanation Method (Fuad et al., IPTA 2020): per channel k, the k-sigma rule over positions,
  M_k = [A_k >= mu_k + 2 sigma_k] (sigma the population standard deviation), and the map
  sum_k mu_k * M_k: the binarised outliers of each channel weighted by the channel's mean.

Run with Debian's python3-torch (/usr/bin/python3); nothing at test or run time needs it.
"""
import json
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


def main():
    index = json.loads((ROOT / "index.json").read_text())
    for fixture in index["fixtures"]:
        folder = ROOT / fixture["dir"]
        meta = json.loads((folder / "meta.json").read_text())
        for i, stage in enumerate(meta["stages"]):
            a = channel_major(np.load(folder / stage["act"]), stage["grid"])
            g = channel_major(np.load(folder / stage["grad"]), stage["grid"])
            for name, m in (("gradcamelementwise", gradcam_elementwise(a, g)), ("fem", fem(a))):
                np.save(folder / f"stage{i}_{name}.npy", m.numpy().astype(np.float32))
        print(f"[{fixture['name']}] {len(meta['stages'])} stages")


if __name__ == "__main__":
    main()
