#!/usr/bin/env python3
"""Checks `layerlens cam` on a torchvision architecture against PyTorch hooks (a development tool).

    /usr/bin/python3 tools/torch-fixtures/check_architecture.py NAME OPSET SIDE [--keep DIR]

Builds torchvision.models.NAME with seeded random weights, exports it with PyTorch's own exporter at OPSET
for a SIDE x SIDE input, runs the built CLI (`npm run build` first) for Grad-CAM, HiResCAM and LayerCAM at
the detected stages, and prints Pearson r and the max difference of min-max-scaled maps per stage against
the same maps from PyTorch's forward/backward hooks. Needs Debian's python3-torch, python3-torchvision and
python3-onnx; nothing at test or run time does.

Checked this way (2026-11-27): alexnet (opsets 9, 10), convnext_tiny (13, 17), densenet121 (9),
efficientnet_b0 (15), efficientnet_v2_s (17), googlenet (11), inception_v3 (11), maxvit_t (17: Einsum
attention), mnasnet0_5 (12), mobilenet_v2 (9), mobilenet_v3_small (13), regnet_x_400mf (13),
regnet_y_400mf (13), resnet18 (8), resnet50 (17), resnext50_32x4d (17), shufflenet_v2_x0_5 (13),
squeezenet1_1 (13), swin_t and swin_s (17: channels-last stages [1, H, W, C]), vit_b_16 (14, 17: token
stages [1, 197, 768] at blocks 2, 5, 8 and the last block's input), vit_b_32 (14), wide_resnet50_2 (10): every r ≥ 0.9999,
except maps that cancel to rounding (reported as such: HiResCAM at ConvNeXt's stages 1-3, at Swin's last
stage and at ViT's last block input, where a LayerNorm over channels follows). swin_v2_t does not export
with this PyTorch (aten::zero).
"""
import argparse
import json
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
import torchvision

ROOT = Path(__file__).resolve().parents[2]


def to_chw(t, c, h, w):
    """A layer's tensor (batch dropped) as [C, H, W], as pytorch-grad-cam's reshape_transform would give it."""
    if t.shape == (c, h, w):
        return t
    if t.shape == (h, w, c):
        return t.transpose(2, 0, 1)
    if t.ndim == 2 and t.shape[1] == c:  # tokens [T, C]: the last H·W are the patch grid
        return t[-h * w:].reshape(h, w, c).transpose(2, 0, 1)
    if t.ndim == 2 and t.shape[0] == c:
        return t[:, -h * w:].reshape(c, h, w)
    raise ValueError(f"cannot read {t.shape} as a {c}x{h}x{w} grid")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("opset", type=int)
    ap.add_argument("side", type=int)
    ap.add_argument("--keep", help="folder to keep the exported model, input and JSON in")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    kw = {"aux_logits": False, "init_weights": True} if args.name in ("googlenet", "inception_v3") else {}
    model = getattr(torchvision.models, args.name)(weights=None, **kw).eval()
    if args.name.startswith("vit"):
        # torchvision zero-initialises the head: every gradient would be 0
        torch.nn.init.normal_(model.heads.head.weight, std=0.02)
    x = torch.randn(1, 3, args.side, args.side)
    folder = Path(args.keep or tempfile.mkdtemp(prefix="layerlens-arch-"))
    folder.mkdir(parents=True, exist_ok=True)
    onnx_path, npy_path, json_path = folder / f"{args.name}-op{args.opset}.onnx", folder / "input.npy", folder / "cam.json"
    torch.onnx.export(model, x, str(onnx_path), opset_version=args.opset, input_names=["input"], output_names=["logits"])
    np.save(npy_path, x.numpy())
    cli = [
        "node", str(ROOT / "bin/layerlens.js"), "cam", str(onnx_path), str(npy_path),
        "--methods", "gradcam,hirescam,layercam", "--no-history", "--json", str(json_path),
    ]
    run = subprocess.run(cli, capture_output=True, text=True)
    if run.returncode:
        sys.exit(run.stderr)
    result = json.loads(json_path.read_text())

    modules = dict(model.named_modules())
    outputs = {}
    for layer in result["layers"]:
        if layer in modules:
            def hook(_m, _i, out, key=layer):
                out.retain_grad()
                outputs[key] = out
            modules[layer].register_forward_hook(hook)
    model(x)[0, result["class"]].backward()

    worst = 1.0
    for layer, entry in result["layers"].items():
        if layer not in outputs:
            print(f"{layer}: no torch module of that name")
            continue
        c, h, w = entry["shape"]
        a = to_chw(outputs[layer][0].detach().double().numpy(), c, h, w)
        g = to_chw(outputs[layer].grad[0].double().numpy(), c, h, w)
        references = {
            "gradcam": np.einsum("c,chw->hw", g.mean((1, 2)), a),
            "hirescam": (g * a).sum(0),
            "layercam": (np.maximum(g, 0) * a).sum(0),
        }
        for method, ref in references.items():
            if method not in entry["maps"]:
                print(f"{layer:28s} {method:9s} unavailable: {entry['unavailable'].get(method, '')}")
                worst = 0.0
                continue
            ours = np.array(entry["maps"][method]["raw"], dtype=np.float64).ravel()
            ref = ref.ravel()
            r = np.corrcoef(ours, ref)[0, 1] if ref.std() > 0 else 1.0
            scaled = lambda t: (t - t.min()) / (t.max() - t.min() + 1e-30)
            # A map that cancels to rounding (|map| ≪ Σ_k |terms|) has no meaningful shape to compare.
            magnitude = np.abs(g * a).sum(0).max() if method == "hirescam" else np.abs(ref).max()
            cancels = np.abs(ref).max() < 1e-3 * magnitude
            if not cancels:
                worst = min(worst, r)
            note = f" (cancels to rounding: |map| {np.abs(ref).max():.1e} vs Σ|terms| {magnitude:.1e})" if cancels else ""
            print(f"{layer:28s} {method:9s} r={r:.7f} max|Δ| of min-max maps={np.abs(scaled(ours) - scaled(ref)).max():.1e}{note}")
    print(f"{args.name} opset {args.opset}: worst r {worst:.7f}")


if __name__ == "__main__":
    main()
