#!/usr/bin/env python3
"""Build the LayerLens demo model and its fixtures from procedurally drawn shapes.

Run from the repository root (Debian packages python3-torch, python3-torchvision,
python3-onnx, python3-pil and python3-numpy; no network, no GPU needed):

    /usr/bin/python3 tools/demo-model/train.py

It draws 96x96 RGB images of one filled shape (circle, square, triangle, star,
cross, hexagon) on a cluttered background, trains a small torchvision-style
ResNet on freshly drawn samples, exports it to ONNX (opset 13, raw logits) with
LayerLens metadata, and writes:

    resources/demo/layerlens-demo.onnx
    resources/demo/samples/*.png + resources/demo/samples.json
    test/fixtures/demo-heldout/*.png + test/fixtures/demo-heldout/index.json

Everything is seeded, so a rerun gives the same data (and, up to floating point
non-determinism of the CPU kernels, the same model). It takes about 4-5 minutes
on 2 idle CPU cores (about 8 on a busy machine).
"""

import json
import math
import os
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image, ImageDraw

# ----------------------------------------------------------------------------
# Settings
# ----------------------------------------------------------------------------

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ONNX_PATH = os.path.join(ROOT, "resources", "demo", "layerlens-demo.onnx")
SAMPLES_DIR = os.path.join(ROOT, "resources", "demo", "samples")
SAMPLES_JSON = os.path.join(ROOT, "resources", "demo", "samples.json")
HELDOUT_DIR = os.path.join(ROOT, "test", "fixtures", "demo-heldout")

CLASSES = ["circle", "square", "triangle", "star", "cross", "hexagon"]
SIZE = 96  # images are SIZE x SIZE pixels
SUPERSAMPLE = 4  # shapes are drawn 4x larger and downsampled for smooth edges

# Seeds: one stream per purpose so the sets never overlap.
SEED_TORCH = 1234
SEED_STATS = 100  # images used to compute the normalisation mean/std
SEED_TRAIN = 200  # base seed of the training stream
SEED_EVAL = 300  # held-out evaluation set (>= 2000 images)
SEED_SAMPLES = 400  # demo images shipped with the app
SEED_FIXTURE = 500  # 200-image held-out fixture for the Node tests

EVAL_IMAGES = 2400
FIXTURE_IMAGES = 200
BATCH = 32
MAX_STEPS = 2400  # upper bound; the lr schedule spans this many steps
MAX_LR = 1.5e-3
WARMUP_STEPS = 200  # clutter ramps from 0 to full over these first steps
EVAL_EVERY = 300
EARLY_STOP_ACC = 0.98
TIME_BUDGET_S = 12 * 60  # safety cap on the training loop itself

# Order of the demo samples: every class at least once.
SAMPLE_PLAN = ["star", "circle", "square", "triangle", "cross", "hexagon", "star", "triangle"]


# ----------------------------------------------------------------------------
# Procedural data
# ----------------------------------------------------------------------------


def value_noise(rng, cells, size):
    """Smooth noise in [0, 1]: a random cells x cells grid upscaled bicubically."""
    grid = (rng.random((cells, cells)) * 255).astype(np.uint8)
    img = Image.fromarray(grid, "L").resize((size, size), Image.BICUBIC)
    return np.asarray(img, dtype=np.float32) / 255.0


def random_colour(rng):
    return rng.integers(0, 256, size=3).astype(np.float32)


LOW = SIZE // 3  # the smooth background layers are built at this size, then upscaled
_YY, _XX = np.mgrid[0:LOW, 0:LOW].astype(np.float32) / (LOW - 1)


def draw_background(rng, clutter=1.0):
    """Gradient + smooth value noise + blotches + thin lines + small blobs.

    clutter in [0, 1] scales the noise and the number of distractors (1 = full clutter;
    lower values are only used for the warm-up phase of training)."""
    # Linear gradient between two random colours in a random direction.
    c0, c1 = random_colour(rng), random_colour(rng)
    angle = rng.uniform(0, 2 * math.pi)
    t = (_XX - 0.5) * math.cos(angle) + (_YY - 0.5) * math.sin(angle)
    t = ((t - t.min()) / (t.max() - t.min() + 1e-6))[..., None]
    img = c0 * (1 - t) + c1 * t

    # Coloured value noise at two scales (kept smooth so PNGs stay small).
    for cells, amp in ((4, 70.0), (10, 40.0)):
        n = value_noise(rng, cells, LOW) - 0.5
        tint = rng.uniform(-1, 1, size=3).astype(np.float32)
        img += clutter * amp * n[..., None] * tint

    # Soft blotches: a few large, faint Gaussian discs of a random colour.
    for _ in range(round(clutter * rng.integers(2, 5))):
        cx, cy = rng.uniform(0, 1, size=2)
        r = rng.uniform(10, 30) / SIZE
        w = np.exp(-((_XX - cx) ** 2 + (_YY - cy) ** 2) / (r * r))[..., None] * rng.uniform(0.2, 0.5)
        img = img * (1 - w) + random_colour(rng) * w

    # Upscale the smooth layers to full size; the sharp clutter is drawn on top.
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB").resize((SIZE, SIZE), Image.BICUBIC)
    draw = ImageDraw.Draw(pil)

    # Distractors: thin lines and small blobs (too small to look like a class).
    for _ in range(round(clutter * rng.integers(3, 7))):
        x0, y0, x1, y1 = rng.uniform(-10, SIZE + 10, size=4)
        draw.line([(x0, y0), (x1, y1)], fill=tuple(int(v) for v in random_colour(rng)),
                  width=int(rng.integers(1, 3)))
    for _ in range(round(clutter * rng.integers(3, 9))):
        cx, cy = rng.uniform(0, SIZE, size=2)
        rx, ry = rng.uniform(1.5, 5, size=2)
        draw.ellipse([cx - rx, cy - ry, cx + rx, cy + ry],
                     fill=tuple(int(v) for v in random_colour(rng)))
    return pil


def rotate(points, angle):
    c, s = math.cos(angle), math.sin(angle)
    return [(x * c - y * s, x * s + y * c) for x, y in points]


def regular_polygon(n, radius, angle):
    return rotate([(radius * math.cos(2 * math.pi * k / n), radius * math.sin(2 * math.pi * k / n))
                   for k in range(n)], angle)


def shape_outline(rng, label, radius):
    """Vertices (centred on 0,0) of the shape, or None for the circle."""
    angle = rng.uniform(0, 2 * math.pi)
    if label == "circle":
        return None
    if label == "square":
        return regular_polygon(4, radius, angle)
    if label == "triangle":
        return regular_polygon(3, radius, angle)
    if label == "hexagon":
        return regular_polygon(6, radius, angle)
    if label == "star":
        inner = radius * rng.uniform(0.38, 0.5)
        pts = []
        for k in range(10):
            r = radius if k % 2 == 0 else inner
            a = math.pi * k / 5
            pts.append((r * math.cos(a), r * math.sin(a)))
        return rotate(pts, angle)
    if label == "cross":
        h = radius * rng.uniform(0.28, 0.38) / math.sqrt(1 + 0.33 ** 2)  # half arm width
        a = math.sqrt(max(radius * radius - h * h, 0.0))  # arm length so corners touch radius
        pts = [(h, -a), (h, -h), (a, -h), (a, h), (h, h), (h, a),
               (-h, a), (-h, h), (-a, h), (-a, -h), (-h, -h), (-h, -a)]
        return rotate(pts, angle)
    raise ValueError(label)


def contrasting_colour(rng, background):
    """A random colour that stands out against the mean background colour."""
    best, best_d = None, -1.0
    for _ in range(20):
        c = random_colour(rng)
        d = float(np.abs(c - background).sum())
        if d > best_d:
            best, best_d = c, d
        if d >= 200:
            break
    return tuple(int(v) for v in best)


def draw_sample(rng, label, clutter=1.0):
    """One image with one object of class `label`. Returns (PIL RGB, box).

    box = [x0, y0, x1, y1] in pixels, the tight axis-aligned box of the object's
    pixels (alpha >= 0.5); x1/y1 are exclusive, as in PIL's crop().
    """
    img = draw_background(rng, clutter)

    # Size: roughly 22-60 px across. Circle radius a bit smaller since it fills its box.
    across = rng.uniform(22, 60)
    radius = across / 2
    pts = shape_outline(rng, label, radius)
    if pts is None:
        xs = ys = (-radius, radius)
    else:
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    margin = 2
    cx = rng.uniform(margin - min(xs), SIZE - margin - max(xs))
    cy = rng.uniform(margin - min(ys), SIZE - margin - max(ys))

    # Draw the mask at SUPERSAMPLE x and downsample for anti-aliased edges.
    s = SUPERSAMPLE
    mask = Image.new("L", (SIZE * s, SIZE * s), 0)
    mdraw = ImageDraw.Draw(mask)
    if pts is None:
        mdraw.ellipse([(cx - radius) * s, (cy - radius) * s, (cx + radius) * s, (cy + radius) * s], fill=255)
    else:
        mdraw.polygon([((cx + x) * s, (cy + y) * s) for x, y in pts], fill=255)
    mask = mask.resize((SIZE, SIZE), Image.BOX)

    m = np.asarray(mask)
    region = np.asarray(img)[m >= 128]
    colour = contrasting_colour(rng, region.mean(axis=0))
    img.paste(Image.new("RGB", (SIZE, SIZE), colour), (0, 0), mask)

    ys_on, xs_on = np.nonzero(m >= 128)
    box = [int(xs_on.min()), int(ys_on.min()), int(xs_on.max()) + 1, int(ys_on.max()) + 1]
    return img, box


def make_set(seed, n, balanced=False, clutter=1.0):
    """n images from one seed. Labels are uniform random, or balanced (i % 6, shuffled)."""
    rng = np.random.default_rng(seed)
    if balanced:
        labels = np.arange(n) % len(CLASSES)
        rng.shuffle(labels)
    else:
        labels = rng.integers(0, len(CLASSES), size=n)
    images, boxes = [], []
    for k in labels:
        img, box = draw_sample(rng, CLASSES[k], clutter)
        images.append(np.asarray(img))
        boxes.append(box)
    return np.stack(images), np.asarray(labels, dtype=np.int64), boxes


# ----------------------------------------------------------------------------
# Model: a small torchvision-style ResNet (same module names as resnet18)
# ----------------------------------------------------------------------------


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class SmallResNet(nn.Module):
    def __init__(self, num_classes=len(CLASSES), widths=(16, 32, 64, 128)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes = widths[0]
        for i, planes in enumerate(widths):
            stride = 1 if i == 0 else 2
            layer = nn.Sequential(BasicBlock(inplanes, planes, stride), BasicBlock(planes, planes))
            setattr(self, f"layer{i + 1}", layer)
            inplanes = planes
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inplanes, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# ----------------------------------------------------------------------------
# Training and evaluation
# ----------------------------------------------------------------------------


def to_tensor(images, mean, std):
    x = torch.tensor(images).permute(0, 3, 1, 2).float() / 255.0
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


@torch.no_grad()
def predict(model, images, mean, std, batch=200):
    model.eval()
    out = [model(to_tensor(images[i:i + batch], mean, std)).argmax(1) for i in range(0, len(images), batch)]
    return torch.cat(out).numpy()


@torch.no_grad()
def cam_hits(model, images, labels, boxes, mean, std):
    """Pointing game: for each image, is the peak of the class's CAM on the last stage
    (layer4 feature map weighted by fc, upsampled bilinearly with half-pixel centres,
    like LayerLens does) inside the object's box (edges included)? Returns a bool array."""
    model.eval()
    x = to_tensor(images, mean, std)
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    feats = model.layer4(model.layer3(model.layer2(model.layer1(x))))
    cams = torch.einsum("nk,nkhw->nhw", model.fc.weight[torch.as_tensor(labels)], feats).clamp(min=0)
    up = F.interpolate(cams[:, None], size=(SIZE, SIZE), mode="bilinear", align_corners=False)[:, 0]
    peaks = up.flatten(1).argmax(1).numpy()
    return np.array([x0 <= p % SIZE <= x1 and y0 <= p // SIZE <= y1
                     for p, (x0, y0, x1, y1) in zip(peaks, boxes)])


def train(model, mean, std, eval_images, eval_labels):
    opt = torch.optim.AdamW(model.parameters(), lr=MAX_LR, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=MAX_LR, total_steps=MAX_STEPS, pct_start=0.1)
    start = time.time()
    acc = 0.0
    for step in range(1, MAX_STEPS + 1):
        # A fresh batch every step, seeded by the step number (no sample is reused).
        # The first WARMUP_STEPS ramp the background clutter up from nothing, which gets
        # the network past its initial plateau much sooner.
        clutter = min(1.0, step / WARMUP_STEPS)
        images, labels, _ = make_set(SEED_TRAIN * 1_000_000 + step, BATCH, clutter=clutter)
        model.train()
        loss = F.cross_entropy(model(to_tensor(images, mean, std)), torch.from_numpy(labels),
                               label_smoothing=0.05)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0:
            print(f"step {step:5d}  loss {loss.item():.4f}  lr {sched.get_last_lr()[0]:.5f}  "
                  f"{time.time() - start:6.1f}s", flush=True)
        out_of_time = time.time() - start > TIME_BUDGET_S
        if step % EVAL_EVERY == 0 or step == MAX_STEPS or out_of_time:
            acc = float((predict(model, eval_images, mean, std) == eval_labels).mean())
            print(f"step {step:5d}  held-out accuracy {acc:.4f}", flush=True)
            if acc >= EARLY_STOP_ACC:
                print("early stop: held-out accuracy reached", EARLY_STOP_ACC)
                break
            if out_of_time:
                print("stopping: training time budget used up")
                break
    return acc, time.time() - start, step


# ----------------------------------------------------------------------------
# ONNX export
# ----------------------------------------------------------------------------


def export_onnx(model, mean, std, heldout_acc, steps):
    os.makedirs(os.path.dirname(ONNX_PATH), exist_ok=True)
    dummy = torch.zeros(1, 3, SIZE, SIZE)
    torch.onnx.export(model.eval(), dummy, ONNX_PATH, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=True)

    proto = onnx.load(ONNX_PATH)
    preprocess = {"input_size": [SIZE, SIZE], "resize": "stretch", "channel_order": "RGB",
                  "scale": 255, "mean": mean, "std": std, "layout": "NCHW"}
    meta = {
        "layerlens.labels": json.dumps(CLASSES),
        "layerlens.preprocess": json.dumps(preprocess),
        "layerlens.description": (
            f"Small 4-stage ResNet (torchvision BasicBlock layout, widths 16-128) classifying "
            f"96x96 procedurally drawn shapes ({', '.join(CLASSES)}) on cluttered backgrounds, "
            f"trained from scratch with AdamW for {steps} steps of {BATCH} freshly generated images; "
            f"held-out accuracy {heldout_acc:.3f} on {EVAL_IMAGES} unseen images."),
        "layerlens.heldout_accuracy": f"{heldout_acc:.3f}",
    }
    del proto.metadata_props[:]
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    onnx.save(proto, ONNX_PATH)
    onnx.checker.check_model(onnx.load(ONNX_PATH))
    return proto


def numpy_run(proto, x):
    """Tiny NumPy interpreter for the handful of ops this model uses (checks the export
    without onnxruntime). x: float32 NCHW array. Returns the 'logits' output."""
    values = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    values[proto.graph.input[0].name] = x

    def conv(x, w, b, strides, pads):
        n, c, h, wd = x.shape
        o, _, kh, kw = w.shape
        xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
        oh = (xp.shape[2] - kh) // strides[0] + 1
        ow = (xp.shape[3] - kw) // strides[1] + 1
        cols = np.empty((n, c, kh, kw, oh, ow), dtype=np.float32)
        for i in range(kh):
            for j in range(kw):
                cols[:, :, i, j] = xp[:, :, i:i + strides[0] * oh:strides[0], j:j + strides[1] * ow:strides[1]]
        y = np.einsum("nckluv,ockl->nouv", cols, w, optimize=True)
        return y + (b.reshape(1, -1, 1, 1) if b is not None else 0)

    def maxpool(x, k, strides, pads):
        xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])), constant_values=-np.inf)
        oh = (xp.shape[2] - k[0]) // strides[0] + 1
        ow = (xp.shape[3] - k[1]) // strides[1] + 1
        return np.max([xp[:, :, i:i + strides[0] * oh:strides[0], j:j + strides[1] * ow:strides[1]]
                       for i in range(k[0]) for j in range(k[1])], axis=0)

    for node in proto.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
        ins = [values[i] if i else None for i in node.input]
        op = node.op_type
        if op == "Conv":
            y = conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a.get("strides", [1, 1]), a.get("pads", [0] * 4))
        elif op == "Relu":
            y = np.maximum(ins[0], 0)
        elif op == "Add":
            y = ins[0] + ins[1]
        elif op == "MaxPool":
            y = maxpool(ins[0], a["kernel_shape"], a.get("strides", [1, 1]), a.get("pads", [0] * 4))
        elif op == "GlobalAveragePool":
            y = ins[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Flatten":
            y = ins[0].reshape(ins[0].shape[0], -1)
        elif op == "Gemm":
            b = ins[1].T if a.get("transB", 0) else ins[1]
            y = ins[0] @ b + (ins[2] if len(ins) > 2 else 0)
        else:
            raise NotImplementedError(op)
        values[node.output[0]] = y.astype(np.float32)
    return values[proto.graph.output[0].name]


def verify_onnx(proto, model, images, mean, std):
    names = [n.name for n in proto.graph.node]
    print(f"ONNX: {len(names)} nodes, opset {proto.opset_import[0].version}, "
          f"{os.path.getsize(ONNX_PATH) / 1e6:.2f} MB; first node names:")
    for n in names[:8]:
        print("   ", n)
    assert any(n.startswith("/layer1/layer1.0/conv1/") for n in names), "node names lack PyTorch scopes"
    assert any(n.startswith("/layer4/layer4.1/") for n in names), "node names lack PyTorch scopes"

    x = to_tensor(images, mean, std)
    with torch.no_grad():
        ref = model.eval()(x).numpy()
    try:
        import onnxruntime as ort
        out = ort.InferenceSession(ONNX_PATH).run(None, {"input": x.numpy()})[0]
        runner = "onnxruntime"
    except ImportError:
        out = numpy_run(proto, x.numpy())
        runner = "NumPy reference interpreter (onnxruntime not installed)"
    diff = float(np.abs(out - ref).max())
    print(f"ONNX vs PyTorch on {len(images)} images via {runner}: max |logit diff| = {diff:.2e}")
    assert diff < 1e-3 and (out.argmax(1) == ref.argmax(1)).all()


# ----------------------------------------------------------------------------
# Fixtures
# ----------------------------------------------------------------------------


def write_json(path, head, list_key, entries):
    """JSON with the fields of `head` and then `list_key`: entries, one entry per line."""
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    lines.append(f"  {json.dumps(list_key)}: [")
    lines.append(",\n".join("    " + json.dumps(e) for e in entries))
    lines.append("  ]")
    text = "{\n" + "\n".join(lines) + "\n}\n"
    assert json.loads(text) == {**head, list_key: entries}
    with open(path, "w") as f:
        f.write(text)


def write_samples(model, mean, std):
    """8 demo PNGs following SAMPLE_PLAN. Each is classified correctly and its CAM peaks
    inside the object (the demo should show well-behaved examples; the unbiased numbers
    are those of the held-out sets)."""
    os.makedirs(SAMPLES_DIR, exist_ok=True)
    for f in os.listdir(SAMPLES_DIR):
        if f.endswith(".png"):
            os.remove(os.path.join(SAMPLES_DIR, f))
    rng = np.random.default_rng(SEED_SAMPLES)
    entries = []
    for i, label in enumerate(SAMPLE_PLAN, start=1):
        k = CLASSES.index(label)
        while True:
            img, box = draw_sample(rng, label)
            one = np.asarray(img)[None]
            if predict(model, one, mean, std)[0] != k:
                print(f"sample {i}: skipped a misclassified {label}")
            elif not cam_hits(model, one, [k], [box], mean, std)[0]:
                print(f"sample {i}: skipped a {label} whose CAM peak is outside its box")
            else:
                break
        name = f"samples/{i:02d}-{label}.png"
        img.save(os.path.join(os.path.dirname(SAMPLES_JSON), name), optimize=True)
        entries.append({"file": name, "class": k, "label": label, "box": box})
    write_json(SAMPLES_JSON, {"model": os.path.basename(ONNX_PATH)}, "samples", entries)


def write_heldout_fixture(model, mean, std):
    os.makedirs(HELDOUT_DIR, exist_ok=True)
    for f in os.listdir(HELDOUT_DIR):
        if f.endswith(".png"):
            os.remove(os.path.join(HELDOUT_DIR, f))
    images, labels, boxes = make_set(SEED_FIXTURE, FIXTURE_IMAGES, balanced=True)
    entries = []
    for i, (img, k, box) in enumerate(zip(images, labels, boxes)):
        name = f"{i:03d}.png"
        Image.fromarray(img, "RGB").save(os.path.join(HELDOUT_DIR, name), optimize=True)
        entries.append({"file": name, "class": int(k), "label": CLASSES[k], "box": box})
    write_json(os.path.join(HELDOUT_DIR, "index.json"), {}, "images", entries)
    acc = float((predict(model, images, mean, std) == labels).mean())
    total = sum(os.path.getsize(os.path.join(HELDOUT_DIR, f)) for f in os.listdir(HELDOUT_DIR))
    hits = float(cam_hits(model, images, labels, boxes, mean, std).mean())
    print(f"held-out fixture: {FIXTURE_IMAGES} images, {total / 1e6:.2f} MB, PyTorch accuracy {acc:.4f}, "
          f"CAM peak inside the box on {hits:.3f}")
    return acc, hits


# ----------------------------------------------------------------------------


def main():
    torch.manual_seed(SEED_TORCH)
    torch.set_num_threads(2)
    t0 = time.time()
    print(f"torch {torch.__version__}, onnx {onnx.__version__}, python {sys.version.split()[0]}")

    stats_images, _, _ = make_set(SEED_STATS, 2000)
    pixels = stats_images.reshape(-1, 3) / 255.0
    mean = [round(float(v), 4) for v in pixels.mean(axis=0)]
    std = [round(float(v), 4) for v in pixels.std(axis=0)]
    print("normalisation mean", mean, "std", std)

    eval_images, eval_labels, _ = make_set(SEED_EVAL, EVAL_IMAGES)
    model = SmallResNet()
    print(f"model: {sum(p.numel() for p in model.parameters())} parameters")

    acc, train_s, steps = train(model, mean, std, eval_images, eval_labels)
    print(f"training: {steps} steps in {train_s:.0f}s; held-out accuracy ({EVAL_IMAGES} images) {acc:.4f}")

    proto = export_onnx(model, mean, std, acc, steps)
    verify_onnx(proto, model, eval_images[:4], mean, std)
    write_samples(model, mean, std)
    fixture_acc, fixture_hits = write_heldout_fixture(model, mean, std)

    print(f"SUMMARY heldout_accuracy_{EVAL_IMAGES}={acc:.4f} fixture_accuracy_{FIXTURE_IMAGES}={fixture_acc:.4f} "
          f"fixture_cam_pointing={fixture_hits:.3f} train_seconds={train_s:.0f} total_seconds={time.time() - t0:.0f} steps={steps}")


if __name__ == "__main__":
    main()
