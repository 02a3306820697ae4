"""
The PyTorch side of the ResNet-50 statistics comparison (docs/performance.md): a torchvision-layout
ResNet-50 with random weights, fastai-style ActivationStats hooks (mean, std, share ≤ 0.05 and a 40-bin
histc on [0, 10]) on every convolution, the linear layer and the four stages, over 32 random 224² images
on 2 threads. Written out by hand because Debian's python3-torch comes without torchvision; BatchNorm is
kept as modules (as fastai sees them) but not hooked, like the convolutions ONNX folds it into.
Run: /usr/bin/python3 bench/torch-stats.py [images] [batch] [threads]
"""
import sys
import time

import torch
from torch import nn

images = int(sys.argv[1]) if len(sys.argv) > 1 else 32
batch = int(sys.argv[2]) if len(sys.argv) > 2 else 16
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
torch.set_num_threads(threads)
torch.manual_seed(0)


class Bottleneck(nn.Module):
    def __init__(self, cin, width, stride, downsample):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, width * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(width * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (
            nn.Sequential(nn.Conv2d(cin, width * 4, 1, stride, bias=False), nn.BatchNorm2d(width * 4)) if downsample else None
        )

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + (self.downsample(x) if self.downsample is not None else x))


def resnet50():
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    stages = []
    for i, blocks in enumerate([3, 4, 6, 3]):
        width = 64 * 2**i
        stage = []
        for b in range(blocks):
            stage.append(Bottleneck(cin, width, 2 if b == 0 and i > 0 else 1, b == 0))
            cin = width * 4
        stages.append(nn.Sequential(*stage))
    model = nn.Sequential(*layers, *stages, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 1000))
    return model.eval(), stages


model, stages = resnet50()
stats = []


def hook(module, inputs, output):
    # fastai's ActivationStats.hook: mean, std, near-zero share, histc(40, 0, 10), on the CPU.
    o = output.float()
    stats.append((o.mean().item(), o.std().item(), (o <= 0.05).float().mean().item(), o.histc(40, 0, 10)))


hooked = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))] + stages
x = torch.randn(images, 3, 224, 224)


def run():
    with torch.no_grad():
        for i in range(0, images, batch):
            model(x[i : i + batch])


run()
plain = []
with_hooks = []
for _ in range(3):
    t0 = time.perf_counter()
    run()
    plain.append(time.perf_counter() - t0)
    handles = [m.register_forward_hook(hook) for m in hooked]
    t0 = time.perf_counter()
    run()
    with_hooks.append(time.perf_counter() - t0)
    for h in handles:
        h.remove()
print(
    f"torch {torch.__version__}, {threads} threads, {images} images in batches of {batch}, {len(hooked)} hooked modules: "
    f"plain {min(plain):.2f} s (median {sorted(plain)[1]:.2f}), with stats hooks {min(with_hooks):.2f} s (median {sorted(with_hooks)[1]:.2f})"
)
