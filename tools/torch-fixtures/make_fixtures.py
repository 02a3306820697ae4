#!/usr/bin/env python3
"""Build the PyTorch reference fixtures for LayerLens' CAM / Grad-CAM tests.

Run from the repository root (Debian packages python3-torch, python3-torchvision,
python3-onnx and python3-numpy; no network, no pretrained weights, no GPU):

    /usr/bin/python3 tools/torch-fixtures/make_fixtures.py

It builds several small, randomly initialised (seeded) torchvision image
classifiers, exports each with PyTorch's own ONNX exporter and writes, for one
fixed random input, the activations and gradients that PyTorch hooks see at a
few "stage" modules:

    test/fixtures/torch/index.json
    test/fixtures/torch/<name>/model.onnx      exported graph (checker-clean)
    test/fixtures/torch/<name>/input.npy       float32 [1,3,64,64], N(0,1)
    test/fixtures/torch/<name>/logits.npy      float32 [1,10], float32 forward
    test/fixtures/torch/<name>/stage<i>_act.npy   module output A (float32)
    test/fixtures/torch/<name>/stage<i>_grad.npy  d logits[0,target] / dA
    test/fixtures/torch/<name>/meta.json       names, shapes, opset, tensors

Activations and gradients come from a float64 copy of the model (forward hook
+ retain_grad, then backward of logits[0, target_class]) and are stored as
float32. The BatchNorm running statistics are calibrated on random batches and
the affine parameters perturbed, so BN folding is exercised with non-trivial
values.

For each stage the ONNX tensor that carries the module's output is found by
scope name (the output of the last node whose name starts with the module's
scope prefix, e.g. "/layer1/" or "/features/features.3/"). The shape is checked
with onnx shape inference and, when `node` and the repository's
`onnxruntime-node` are available, the values are checked numerically with
tools/torch-fixtures/run-ort.mjs (which only runs a model and dumps all
outputs). Pass --no-ort to skip that check.

Everything is seeded; a rerun reproduces the same files (up to floating point
non-determinism of the CPU kernels). It takes well under a minute.
"""

import argparse
import collections
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, shape_inference
import torch
import torch.nn as nn
import torchvision
from torchvision.models import efficientnet as tv_efficientnet
from torchvision.models.resnet import BasicBlock, ResNet

# ----------------------------------------------------------------------------
# Settings
# ----------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "test" / "fixtures" / "torch"
ORT_RUNNER = Path(__file__).resolve().parent / "run-ort.mjs"

INPUT_SHAPE = (1, 3, 64, 64)
NUM_CLASSES = 10
TARGET_CLASS = 3
INPUT_SEED = 1234
MODEL_SEED = 2024
CALIB_BATCHES = 4
CALIB_BATCH_SIZE = 8

MAX_MODEL_BYTES = 2_200_000
MAX_TOTAL_BYTES = 12 * 1024 * 1024
# max |onnxruntime - torch| / max |torch| accepted for a stage tensor / logits
ORT_REL_TOL = 1e-4


# ----------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------


class SmallResNet(ResNet):
    """torchvision's ResNet with BasicBlock and configurable (small) widths.

    Module names are torchvision's: conv1, bn1, relu, maxpool, layer1..layer4,
    avgpool, fc; forward() and _make_layer() are inherited unchanged.
    """

    def __init__(self, layers=(1, 1, 1, 1), widths=(8, 16, 32, 64), num_classes=10):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = widths[0]
        self.dilation = 1
        self.groups = 1
        self.base_width = 64
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(BasicBlock, widths[0], layers[0])
        self.layer2 = self._make_layer(BasicBlock, widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(BasicBlock, widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(BasicBlock, widths[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3] * BasicBlock.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)


def build_resnet():
    return SmallResNet(layers=(1, 1, 1, 1), widths=(8, 16, 32, 64), num_classes=NUM_CLASSES)


def build_mobilenetv2():
    return torchvision.models.mobilenet_v2(weights=None, width_mult=0.25, num_classes=NUM_CLASSES)


def build_densenet():
    return torchvision.models.DenseNet(
        growth_rate=8, block_config=(2, 2, 2, 2), num_init_features=16, bn_size=2, num_classes=NUM_CLASSES
    )


def build_efficientnet():
    setting, last_channel = tv_efficientnet._efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.25)
    return tv_efficientnet._efficientnet(setting, 0.2, last_channel, None, progress=False, num_classes=NUM_CLASSES)


def build_shufflenet():
    return torchvision.models.ShuffleNetV2([2, 2, 2], [8, 16, 32, 64, 128], num_classes=NUM_CLASSES)


def build_convnext():
    from torchvision.models.convnext import CNBlockConfig, ConvNeXt

    blocks = [CNBlockConfig(16, 32, 1), CNBlockConfig(32, 64, 1), CNBlockConfig(64, 128, 1), CNBlockConfig(128, None, 1)]
    # layer_scale 1 (torchvision's 1e-6 makes a fresh block an identity, and its maps cancellation noise)
    return ConvNeXt(blocks, layer_scale=1.0, num_classes=NUM_CLASSES)


def build_swin():
    from torchvision.models.swin_transformer import SwinTransformer

    return SwinTransformer(
        patch_size=[4, 4], embed_dim=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2], window_size=[4, 4],
        stochastic_depth_prob=0.0, num_classes=NUM_CLASSES,
    )


def build_vit():
    from torchvision.models.vision_transformer import VisionTransformer

    model = VisionTransformer(
        image_size=INPUT_SHAPE[2], patch_size=8, num_layers=8, num_heads=2, hidden_dim=32, mlp_dim=64,
        num_classes=NUM_CLASSES,
    )
    # torchvision zero-initialises the head: every gradient would be 0
    nn.init.normal_(model.heads.head.weight, std=0.2)
    return model


VGG_CFG = [8, "M", 16, "M", 32, 32, "M", 64, "M"]


def build_vgg():
    model = torchvision.models.VGG(
        torchvision.models.vgg.make_layers(VGG_CFG, batch_norm=False), num_classes=NUM_CLASSES, init_weights=True
    )
    # torchvision's AdaptiveAvgPool2d((7, 7)) cannot be exported for a 4x4 map
    # (output size must divide the input size), and its 512*7*7 -> 4096 head is
    # huge: pool to 2x2 (exports as AveragePool) and use a small head.
    model.avgpool = nn.AdaptiveAvgPool2d((2, 2))
    model.classifier = nn.Sequential(
        nn.Linear(64 * 2 * 2, 32), nn.ReLU(True), nn.Dropout(), nn.Linear(32, NUM_CLASSES)
    )
    for m in model.classifier.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01 * 10)  # a bit larger than torchvision's 0.01: non-tiny logits
            nn.init.constant_(m.bias, 0)
    return model


def vgg_pool_stages():
    """features.k for every 'M' of VGG_CFG (make_layers adds Conv+ReLU per number)."""
    stages, k = [], 0
    for v in VGG_CFG:
        if v == "M":
            stages.append(f"features.{k}")
            k += 1
        else:
            k += 2
    return stages


# name, builder, opset, stages ("auto" = last features.i block of each resolution), notes
SPECS = [
    dict(
        name="resnet",
        build=build_resnet,
        opset=11,
        stages=["layer1", "layer2", "layer3", "layer4"],
        ablation=True,
        notes="torchvision ResNet(BasicBlock, [1,1,1,1]) with widths 8,16,32,64; Conv+BN folded by the exporter.",
    ),
    dict(
        name="mobilenetv2",
        build=build_mobilenetv2,
        opset=13,
        stages="auto",
        notes="torchvision mobilenet_v2(width_mult=0.25); ReLU6 exports as Clip, classifier Dropout removed in eval.",
    ),
    dict(
        name="densenet",
        build=build_densenet,
        opset=17,
        stages=["features.denseblock1", "features.denseblock2", "features.denseblock3", "features.denseblock4"],
        notes="torchvision DenseNet(growth_rate=8, block_config=(2,2,2,2), num_init_features=16, bn_size=2); "
        "BN precedes Conv so BatchNormalization nodes remain; dense blocks end in Concat.",
    ),
    dict(
        name="efficientnet",
        build=build_efficientnet,
        opset=14,
        stages="auto",
        notes="torchvision EfficientNet-B0 conf with width_mult=0.25, depth_mult=0.25; SiLU = Sigmoid*Mul, "
        "squeeze-excitation broadcasting Mul, stochastic depth is identity in eval.",
    ),
    dict(
        name="vgg",
        build=build_vgg,
        opset=12,
        stages=vgg_pool_stages(),
        notes="torchvision VGG(make_layers([8,M,16,M,32,32,M,64,M])) with avgpool AdaptiveAvgPool2d((2,2)) and "
        "classifier Linear(256,32)-ReLU-Dropout-Linear(32,10); stages are the MaxPool layers.",
    ),
    dict(
        name="shufflenet",
        build=build_shufflenet,
        opset=13,
        stages=["stage2", "stage3", "stage4", "conv5"],
        notes="torchvision ShuffleNetV2([2,2,2], [8,16,32,64,128]); torch.chunk exports as Slice with starts and ends "
        "computed from Shape (Shape-Gather-Div-Mul), channel shuffle as Reshape-Transpose-Reshape.",
    ),
    dict(
        name="convnext",
        build=build_convnext,
        opset=17,
        stages=["features.1", "features.3", "features.5", "features.7"],
        notes="torchvision ConvNeXt with one block per stage, widths 16,32,64,128, layer_scale 1; LayerNormalization "
        "(opset 17) in channels-last blocks (Transpose), GELU as Erf, Linear on the last axis as MatMul.",
    ),
    dict(
        name="swin",
        build=build_swin,
        opset=17,
        stages=["features.1", "features.3", "features.5", "features.7"],
        layout="NHWC",
        ablation=True,
        notes="torchvision SwinTransformer(patch 4, embed_dim 16, depths 1,1,1,1, window 4): every stage is "
        "channels-last [1, H, W, C]; shifted windows (Roll as Slice+Concat), computed padding, patch merging by "
        "strided slices.",
    ),
    dict(
        name="vit",
        build=build_vit,
        opset=14,
        stages=[f"encoder.layers.encoder_layer_{i}" for i in (1, 3, 5, 6)],
        layout="tokens",
        ablation=True,
        notes="torchvision VisionTransformer(64x64 input, patch 8, 8 layers, hidden 32, 2 heads): stages are "
        "tokens [1, 1 + 8*8, 32] with a class token first; the last block's input, not its output (only the "
        "class token of that reaches the head). Head weights N(0, 0.2) (torchvision zero-initialises them).",
    ),
]

NOSCOPE = dict(
    name="noscope",
    source="resnet",
    opset=13,
    notes="The resnet fixture (same weights, input and reference data) exported at opset 13, then post-processed: "
    "every node renamed node_<i>, every intermediate tensor t_<i>, every initializer w_<i>, doc strings dropped; "
    "graph input 'input' and output 'logits' kept. Stage tensors are the renamed names.",
)


# ----------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------


def seeded(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)


def make_input():
    g = torch.Generator().manual_seed(INPUT_SEED)
    return torch.randn(INPUT_SHAPE, generator=g, dtype=torch.float32)


def calibrate_batchnorm(model, seed):
    """Give BatchNorm layers realistic, non-trivial statistics and affine params."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    g = torch.Generator().manual_seed(seed)
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the calibration batches
    model.train()
    with torch.no_grad():
        for _ in range(CALIB_BATCHES):
            model(torch.randn((CALIB_BATCH_SIZE,) + INPUT_SHAPE[1:], generator=g))
        for m, mom in zip(bns, saved):
            m.momentum = mom
            m.weight.copy_(1.0 + 0.25 * torch.randn(m.weight.shape, generator=g))
            m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
    model.eval()


def auto_stages(model, x):
    """Last features.i block of each spatial resolution (MobileNet / EfficientNet)."""
    sizes = []
    hooks = [
        blk.register_forward_hook(lambda _m, _i, o, i=i: sizes.append((i, tuple(o.shape[-2:]))))
        for i, blk in enumerate(model.features)
    ]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    last_of = collections.OrderedDict()
    for i, hw in sizes:
        last_of[hw] = i
    return [f"features.{i}" for i in last_of.values()]


def reference_data(model, x, stages):
    """float64 forward with hooks; returns (acts, grads) as float32 arrays."""
    m64 = copy.deepcopy(model).double().eval()
    modules = dict(m64.named_modules())
    acts = {}

    def hook(name):
        def fn(_m, _i, out):
            out.retain_grad()
            acts[name] = out

        return fn

    handles = [modules[s].register_forward_hook(hook(s)) for s in stages]
    x64 = x.double().clone().requires_grad_(False)
    logits = m64(x64)
    for h in handles:
        h.remove()
    missing = [s for s in stages if s not in acts]
    if missing:
        raise RuntimeError(f"forward hooks did not fire for {missing}")
    logits[0, TARGET_CLASS].backward()
    out_a, out_g = [], []
    for s in stages:
        a = acts[s]
        if a.grad is None:
            raise RuntimeError(f"no gradient reached {s}")
        out_a.append(a.detach().numpy().astype(np.float32))
        out_g.append(a.grad.detach().numpy().astype(np.float32))
    return logits.detach().numpy().astype(np.float32), out_a, out_g


def ablation_maps(model, x, stages, acts, layout):
    """AblationCAM per stage, float64: channel k of the stage's output zeroed at every grid position (a class
    token kept), weight (y - y_k) / y of the target logit, map = sum_k weight_k * A_k over the [C, H, W] grid."""
    m64 = copy.deepcopy(model).double().eval()
    modules = dict(m64.named_modules())
    x64 = x.double()
    with torch.no_grad():
        y = m64(x64)[0, TARGET_CLASS].item()
    maps = []
    for stage, act in zip(stages, acts):
        grid = grid_of(act.shape, layout)
        scores = []
        for k in range(grid["channels"]):
            def zero(_m, _i, out, k=k):
                out = out.clone()
                if layout == "NHWC":
                    out[..., k] = 0
                elif layout == "tokens":
                    out[:, grid["prefix"]:, k] = 0
                else:
                    out[:, k] = 0
                return out

            handle = modules[stage].register_forward_hook(zero)
            with torch.no_grad():
                scores.append(m64(x64)[0, TARGET_CLASS].item())
            handle.remove()
        weights = (y - np.array(scores)) / y
        a = act[0].astype(np.float64)
        if layout == "NHWC":
            a = a.transpose(2, 0, 1)
        elif layout == "tokens":
            a = a[grid["prefix"]:].reshape(grid["height"], grid["width"], grid["channels"]).transpose(2, 0, 1)
        maps.append(np.einsum("c,chw->hw", weights, a).astype(np.float32))
    return maps


def export_onnx(model, x, path, opset):
    torch.onnx.export(
        model,
        x,
        str(path),
        export_params=True,
        opset_version=opset,
        do_constant_folding=True,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        training=torch.onnx.TrainingMode.EVAL,
    )
    m = onnx.load(str(path))
    onnx.checker.check_model(m)
    return m


def scope_prefix(module_path):
    """ONNX node-name prefix torch 1.13 gives a module's nodes.

    Each scope level is the module's "unqualified" name: the qualified name
    from its last non-numeric atom on (layer1.0.conv1 -> conv1, layer1.0 ->
    layer1.0, features.3 -> features.3, features.denseblock2 -> denseblock2).
    """

    def unqualified(q):
        atoms = q.split(".")
        for i in range(len(atoms) - 1, -1, -1):
            if not atoms[i].isnumeric():
                return ".".join(atoms[i:])
        return q

    atoms = module_path.split(".")
    levels = [unqualified(".".join(atoms[: i + 1])) for i in range(len(atoms))]
    return "/" + "/".join(levels) + "/"


def stage_tensor(graph, module_path):
    prefix = scope_prefix(module_path)
    hits = [n for n in graph.node if n.name.startswith(prefix)]
    if not hits:
        raise RuntimeError(f"no ONNX node with prefix {prefix!r} for module {module_path}")
    return hits[-1].output[0]


def inferred_shapes(model):
    # data_prop: shapes computed by Shape arithmetic (ShuffleNet's chunk and channel shuffle) are inferred too
    inf = shape_inference.infer_shapes(model, data_prop=True)
    shapes = {}
    for vi in list(inf.graph.value_info) + list(inf.graph.output) + list(inf.graph.input):
        t = vi.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in t.shape.dim]
        shapes[vi.name] = (t.elem_type, dims)
    return shapes


def check_shape(shapes, tensor, expected):
    if tensor not in shapes:
        raise RuntimeError(f"shape inference knows nothing about {tensor}")
    _, dims = shapes[tensor]
    if not dims:
        # Rank unknown to ONNX's inference (a Reshape to a shape computed at run time): the onnxruntime check
        # of the stage's values stands in.
        return
    # batch may be symbolic
    if len(dims) != len(expected) or any(d != e for d, e in zip(dims[1:], expected[1:])):
        raise RuntimeError(f"{tensor}: inferred shape {dims} != torch shape {list(expected)}")


def op_histogram(model):
    return dict(sorted(collections.Counter(n.op_type for n in model.graph.node).items()))


def save_npy(path, arr):
    np.save(str(path), np.ascontiguousarray(arr, dtype=np.float32))


# ----------------------------------------------------------------------------
# onnxruntime (node) check
# ----------------------------------------------------------------------------


def ort_available():
    if shutil.which("node") is None or not ORT_RUNNER.exists():
        return False
    return (ROOT / "node_modules" / "onnxruntime-node").is_dir()


def ort_all_float_outputs(model, input_path):
    """Run `model` with every float intermediate exposed as an output; {name: array}."""
    shapes = inferred_shapes(model)
    debug = copy.deepcopy(model)
    existing = {o.name for o in debug.graph.output}
    names = []
    for n in debug.graph.node:
        for o in n.output:
            if o and o not in existing and shapes.get(o, (None,))[0] == TensorProto.FLOAT:
                debug.graph.output.append(helper.make_tensor_value_info(o, TensorProto.FLOAT, None))
                existing.add(o)
                names.append(o)
    with tempfile.TemporaryDirectory(prefix="layerlens-torch-fixtures-") as tmp:
        mpath = Path(tmp) / "debug.onnx"
        onnx.save(debug, str(mpath))
        outdir = Path(tmp) / "out"
        outdir.mkdir()
        subprocess.run(
            ["node", str(ORT_RUNNER), str(mpath), str(input_path), str(outdir)],
            cwd=str(ROOT),
            check=True,
            stdout=subprocess.PIPE,
        )
        index = json.loads((outdir / "index.json").read_text())
        return {name: np.load(str(outdir / f)) for name, f in index.items()}


def rel_err(a, b):
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a.astype(np.float64) - b)) / max(np.max(np.abs(b)), 1e-12))


def ort_verify(model, input_path, logits, stage_list, acts):
    outs = ort_all_float_outputs(model, input_path)
    report = {"logits": rel_err(outs["logits"], logits)}
    if report["logits"] > ORT_REL_TOL:
        raise RuntimeError(f"onnxruntime logits differ from torch: rel err {report['logits']:.3g}")
    for st, a in zip(stage_list, acts):
        err = rel_err(outs.get(st["tensor"], np.zeros(0)), a)
        report[st["module"]] = err
        if err > ORT_REL_TOL:
            matches = [n for n, v in outs.items() if rel_err(v, a) <= ORT_REL_TOL]
            raise RuntimeError(
                f"{st['module']}: tensor {st['tensor']} does not match the torch activation "
                f"(rel err {err:.3g}); numerically matching tensors: {matches}"
            )
    return report


# ----------------------------------------------------------------------------
# noscope post-processing
# ----------------------------------------------------------------------------


def strip_scopes(model):
    """Rename nodes node_<i>, intermediates t_<i>, initializers w_<i>; returns (model, old->new)."""
    m = copy.deepcopy(model)
    g = m.graph
    keep = {i.name for i in g.input} | {o.name for o in g.output}
    init_names = [t.name for t in g.initializer]
    rename = {}
    for i, name in enumerate(init_names):
        if name not in keep:
            rename[name] = f"w_{i}"
    k = 0
    for n in g.node:
        for o in n.output:
            if o and o not in keep and o not in rename:
                rename[o] = f"t_{k}"
                k += 1
    for t in g.initializer:
        t.name = rename.get(t.name, t.name)
    for i, n in enumerate(g.node):
        n.name = f"node_{i}"
        n.doc_string = ""
        n.input[:] = [rename.get(x, x) for x in n.input]
        n.output[:] = [rename.get(x, x) for x in n.output]
    for vi in list(g.value_info) + list(g.input) + list(g.output):
        vi.name = rename.get(vi.name, vi.name)
    g.doc_string = ""
    onnx.checker.check_model(m)
    for n in g.node:
        if "/" in n.name or "/" in "".join(n.output) or "." in "".join(n.input):
            raise RuntimeError(f"scope left in node {n}")
    return m, rename


# ----------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------


def write_fixture(name, opset, onnx_model, x, logits, stage_entries, acts, grads, notes, use_ort):
    out = OUT_DIR / name
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    onnx.save(onnx_model, str(out / "model.onnx"))
    size = (out / "model.onnx").stat().st_size
    if size > MAX_MODEL_BYTES:
        raise RuntimeError(f"{name}: model.onnx is {size} bytes (> {MAX_MODEL_BYTES})")
    save_npy(out / "input.npy", x.numpy())
    save_npy(out / "logits.npy", logits)
    shapes = inferred_shapes(onnx_model)
    for i, (st, a, g) in enumerate(zip(stage_entries, acts, grads)):
        check_shape(shapes, st["tensor"], a.shape)
        save_npy(out / st["act"], a)
        save_npy(out / st["grad"], g)
    report = None
    if use_ort:
        report = ort_verify(onnx_model, out / "input.npy", logits, stage_entries, acts)
    meta = {
        "name": name,
        "opset": opset,
        "input_name": "input",
        "output_name": "logits",
        "input_shape": list(x.shape),
        "num_classes": NUM_CLASSES,
        "target_class": TARGET_CLASS,
        "input": "input.npy",
        "logits": "logits.npy",
        "stages": stage_entries,
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
        "onnx_version": onnx.__version__,
        "generator": "tools/torch-fixtures/make_fixtures.py",
        "notes": notes
        + " Activations/gradients: float64 PyTorch forward hooks, grad = d logits[0, target_class] / d act,"
        " stored as float32; logits: float32 PyTorch forward.",
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"[{name}] opset {opset}, model.onnx {size / 1024:.1f} KiB, ops {op_histogram(onnx_model)}")
    for st in stage_entries:
        extra = f" (ort rel err {report[st['module']]:.2e})" if report else ""
        print(f"    {st['module']:<24} -> {st['tensor']:<48} {st['shape']}{extra}")
    if report:
        print(f"    logits ort rel err {report['logits']:.2e}")
    return {"name": name, "dir": name, "opset": opset, "stages": len(stage_entries)}


def grid_of(shape, layout):
    """How a stage's tensor holds its grid of positions, for the tests to read it as [C, H, W]."""
    if layout == "NHWC":
        _, h, w, c = shape
        return {"layout": "NHWC", "channels": c, "height": h, "width": w, "prefix": 0}
    if layout == "tokens":
        _, t, c = shape
        side = int(round((t - 1) ** 0.5))
        assert side * side == t - 1, shape
        return {"layout": "tokens", "channels": c, "height": side, "width": side, "prefix": 1}
    _, c, h, w = shape
    return {"layout": "NCHW", "channels": c, "height": h, "width": w, "prefix": 0}


def stage_entries_for(stages, tensors, acts, layout="NCHW"):
    return [
        {
            "module": s,
            "tensor": t,
            "act": f"stage{i}_act.npy",
            "grad": f"stage{i}_grad.npy",
            "shape": list(a.shape),
            "grid": grid_of(a.shape, layout),
        }
        for i, (s, t, a) in enumerate(zip(stages, tensors, acts))
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--no-ort", action="store_true", help="skip the onnxruntime-node numeric check")
    args = ap.parse_args()

    torch.set_num_threads(2)
    use_ort = not args.no_ort and ort_available()
    if not use_ort:
        print("note: onnxruntime-node check skipped (shapes are still checked)", file=sys.stderr)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    x = make_input()
    index = []
    built = {}

    for k, spec in enumerate(SPECS):
        seeded(MODEL_SEED + k)
        model = spec["build"]()
        calibrate_batchnorm(model, MODEL_SEED + 100 + k)
        model.eval()
        stages = auto_stages(model, x) if spec["stages"] == "auto" else list(spec["stages"])
        with torch.no_grad():
            logits = model(x).numpy().astype(np.float32)
        _, acts, grads = reference_data(model, x, stages)
        with tempfile.TemporaryDirectory() as tmp:
            onnx_model = export_onnx(model, x, Path(tmp) / "model.onnx", spec["opset"])
        tensors = [stage_tensor(onnx_model.graph, s) for s in stages]
        entries = stage_entries_for(stages, tensors, acts, spec.get("layout", "NCHW"))
        index.append(
            write_fixture(spec["name"], spec["opset"], onnx_model, x, logits, entries, acts, grads, spec["notes"], use_ort)
        )
        if spec.get("ablation"):
            for i, m in enumerate(ablation_maps(model, x, stages, acts, spec.get("layout", "NCHW"))):
                save_npy(OUT_DIR / spec["name"] / f"stage{i}_ablation.npy", m)
        built[spec["name"]] = (model, stages, logits, acts, grads)

    # noscope: the resnet model at another opset, with every scope scrubbed
    model, stages, logits, acts, grads = built[NOSCOPE["source"]]
    with tempfile.TemporaryDirectory() as tmp:
        scoped = export_onnx(model, x, Path(tmp) / "model.onnx", NOSCOPE["opset"])
    stripped, rename = strip_scopes(scoped)
    tensors = [rename[stage_tensor(scoped.graph, s)] for s in stages]
    entries = stage_entries_for(stages, tensors, acts)
    index.append(
        write_fixture(NOSCOPE["name"], NOSCOPE["opset"], stripped, x, logits, entries, acts, grads, NOSCOPE["notes"], use_ort)
    )

    (OUT_DIR / "index.json").write_text(
        json.dumps(
            {
                "generator": "tools/torch-fixtures/make_fixtures.py",
                "torch_version": torch.__version__,
                "target_class": TARGET_CLASS,
                "fixtures": index,
            },
            indent=2,
        )
        + "\n"
    )
    total = sum(p.stat().st_size for p in OUT_DIR.rglob("*") if p.is_file())
    print(f"total {total / 1024 / 1024:.2f} MiB in {OUT_DIR.relative_to(ROOT)}")
    if total > MAX_TOTAL_BYTES:
        raise RuntimeError(f"fixtures are {total} bytes (> {MAX_TOTAL_BYTES})")


if __name__ == "__main__":
    main()
