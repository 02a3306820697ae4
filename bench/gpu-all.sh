#!/bin/bash
# Every measurement issue 20 asks of the GPU benchmark machine, in one command (docs/performance.md, GPU).
# Here, once:   ../shared/tools/gpu-kit/prepare bench/gpu-cam.ts bench/gpu-stats.ts \
#                 && cp bench/gpu-torch.py bench/torch-stats.py bench/gpu-all.sh .gpu-kit/
# There (device tool, carry [".gpu-kit"], timeout ~540 s):   bash .gpu-kit/gpu-all.sh
# Each part writes its output under $OUT and goes on if another failed; the slowest parts come last.
out=${OUT:-/tmp/gpu-out}
mkdir -p "$out"
step() { local name=$1; shift; echo "== $name" >&2; timeout "${LIMIT:-150}" "$@" >"$out/$name.txt" 2>"$out/$name.err"; echo "   exit $?" >&2; }
nvidia-smi >"$out/nvidia-smi.txt" 2>&1
# ResNet-50 (torchvision, random weights, batch axis free) and PyTorch CUDA's forward / four-stage Grad-CAM.
step torch-cuda python3 .gpu-kit/gpu-torch.py /tmp/r50.onnx
# The hooked graph by parts on WebGPU and the CPU provider (16 threads), its profile, ScoreCAM at layer4.
THREADS=16 step cam bash .gpu-kit/enter.sh node .gpu-kit/gpu-cam.mjs /tmp/r50.onnx 30 webgpu,cpu
# Statistics over 1,024 images in batches of 32 on WebGPU against plain WebGPU inference, with a profile.
step stats-webgpu bash .gpu-kit/enter.sh node .gpu-kit/gpu-stats.mjs /tmp/r50.onnx webgpu 32 1024 graph profile
# The CPU comparison of the issue: 32 images, 2 threads, layerlens (scan form) and PyTorch with hooks.
THREADS=2 step stats-cpu bash .gpu-kit/enter.sh node .gpu-kit/gpu-stats.mjs /tmp/r50.onnx cpu 16 32 scan
step torch-stats-cpu python3 .gpu-kit/torch-stats.py 32 16 2
tail -n 3 "$out"/*.txt >&2
