#!/usr/bin/env python3
"""Build test/fixtures/graph/thin-resnet50.onnx: torchvision's ResNet-50 graph (Bottleneck blocks
[3, 4, 6, 3], 1000 classes, no labels) with every block's width divided by 16, randomly initialised
(seeded) and exported by PyTorch's own exporter at opset 13, so it stays small (~0.7 MB) while keeping
what the studio must read well on a real export: 53 convolutions in nested modules, and the exporter's
`Identity` aliases of deduplicated parameters (BatchNorm folded into zero biases).

    /usr/bin/python3 tools/torch-fixtures/make_thin_resnet50.py

Needs Debian's python3-torch and python3-torchvision; nothing at run or test time needs Python.
"""
import pathlib

import torch
from torch import nn
from torchvision.models.resnet import Bottleneck, ResNet

SHRINK = 16


class ThinResNet(ResNet):
    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        return super()._make_layer(block, planes // SHRINK, blocks, stride, dilate)


torch.manual_seed(0)
model = ThinResNet(Bottleneck, [3, 4, 6, 3], num_classes=1000)
model.fc = nn.Linear(512 // SHRINK * Bottleneck.expansion, 1000)
model.eval()
out = pathlib.Path(__file__).resolve().parents[2] / "test" / "fixtures" / "graph" / "thin-resnet50.onnx"
out.parent.mkdir(parents=True, exist_ok=True)
torch.onnx.export(model, torch.randn(1, 3, 224, 224), str(out), opset_version=13, input_names=["input"], output_names=["logits"])
print(f"wrote {out} ({out.stat().st_size} bytes)")
