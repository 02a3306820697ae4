#!/usr/bin/env python3
"""Reference values for LayerLens's trust metrics, written from the papers' definitions.

Run from the repository root (Debian's python3-torch and python3-numpy; no network, no GPU):

    /usr/bin/python3 tools/trust-fixtures/make_trust_fixtures.py

Writes test/fixtures/trust/tiny.onnx (a small seeded CNN exported by PyTorch, dynamic batch) and
test/fixtures/trust/reference.json with, for one input and several maps:

- deletion / insertion curves and their areas (Petsiuk et al. 2018, RISE): the k/steps most salient
  pixels (the map bilinearly upsampled, half-pixel centres) replaced by the baseline (deletion), or put
  back into the baseline (insertion); the class probability at each step; trapezoidal area over [0, 1];
- average drop and increase in confidence (Chattopadhyay et al. 2018, Grad-CAM++): Y the probability of
  the image, O of the image times the map (ReLU, min-max to [0, 1]); drop = max(0, Y - O) / Y;
- the pointing game (Zhang et al. 2016): the map's maximum inside the box [x0, x1) x [y0, y1);
- Spearman's rank correlation (average ranks for ties) and SSIM (Wang et al. 2004: 11x11 Gaussian
  window, sigma 1.5, C1 = 0.01^2, C2 = 0.03^2, data range 1, mean over the positions where the window
  fits) of map pairs;
- the Gaussian-blurred baseline image and the seeded random maps (mulberry32), so the JavaScript
  implementation is checked bit for bit where it can be.

The model is evaluated in float64; the tests compare LayerLens (onnxruntime, float32) within 1e-6.
Nothing here runs at test time.
"""

import json
import math
import os

import numpy as np
import torch

OUT = os.path.join('test', 'fixtures', 'trust')
H, W = 16, 12
STEPS = 8
BOX = [2, 3, 9, 11]


def mulberry32(seed):
    a = seed & 0xFFFFFFFF

    def imul(x, y):
        return (x * y) & 0xFFFFFFFF

    def nxt():
        nonlocal a
        a = (a + 0x6D2B79F5) & 0xFFFFFFFF
        t = a
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    return nxt


def stream_seed(seed, name):
    h = (0x811C9DC5 ^ (seed & 0xFFFFFFFF)) & 0xFFFFFFFF
    for ch in name:
        h ^= ord(ch)
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def random_map(width, height, seed):
    nxt = mulberry32(seed)
    return np.array([nxt() for _ in range(width * height)], dtype=np.float32).reshape(height, width)


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.fc = torch.nn.Linear(8, 4)

    def forward(self, x):
        x = torch.relu(self.conv1(x))
        x = torch.relu(self.conv2(x))
        return self.fc(x.mean(dim=(2, 3)))


def upsample(m, width, height):
    """LayerLens's bilinear resize (half-pixel centres, clamped), in float64, stored as float32."""
    mh, mw = m.shape
    if (mw, mh) == (width, height):
        return m.astype(np.float32)
    sx, sy = mw / width, mh / height
    out = np.zeros((height, width), dtype=np.float32)
    for y in range(height):
        for x in range(width):
            fx = min(max((x + 0.5) * sx - 0.5, 0), mw - 1)
            fy = min(max((y + 0.5) * sy - 0.5, 0), mh - 1)
            x0, y0 = math.floor(fx), math.floor(fy)
            x1, y1 = min(x0 + 1, mw - 1), min(y0 + 1, mh - 1)
            ax, ay = fx - x0, fy - y0
            at = lambda xx, yy: float(m[yy, xx])
            out[y, x] = (1 - ay) * ((1 - ax) * at(x0, y0) + ax * at(x1, y0)) + ay * ((1 - ax) * at(x0, y1) + ax * at(x1, y1))
    return out


def relu_minmax(m):
    r = np.maximum(m.astype(np.float64), 0)
    lo, hi = r.min(), r.max()
    return ((r - lo) / (hi - lo) if hi > lo else np.zeros_like(r)).astype(np.float32)


def blur(x, sigma):
    """Separable Gaussian (radius ceil(3 sigma), normalised), edges replicated, per channel."""
    radius = max(1, math.ceil(3 * sigma))
    k = np.exp(-((np.arange(-radius, radius + 1)) ** 2) / (2 * sigma * sigma))
    k /= k.sum()
    c, h, w = x.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (radius, radius)), mode='edge')
    rows = sum(k[i] * xp[:, :, i:i + w] for i in range(len(k)))
    rp = np.pad(rows, ((0, 0), (radius, radius), (0, 0)), mode='edge')
    return sum(k[i] * rp[:, i:i + h, :] for i in range(len(k))).astype(np.float32)


def main():
    torch.manual_seed(19)
    model = Tiny().eval()
    with torch.no_grad():  # larger weights: probabilities that move visibly as pixels are deleted
        for p in model.parameters():
            p.mul_(4)
    os.makedirs(OUT, exist_ok=True)
    dummy = torch.zeros(1, 3, H, W)
    torch.onnx.export(model, dummy, os.path.join(OUT, 'tiny.onnx'), input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13)
    ref = model.double()
    rng = np.random.default_rng(19)
    x = rng.normal(size=(3, H, W)).astype(np.float32)

    def prob(images, c):
        with torch.no_grad():
            logits = ref(torch.from_numpy(np.stack(images).astype(np.float64)))
            return torch.softmax(logits, dim=1)[:, c].numpy()

    with torch.no_grad():
        c = int(torch.argmax(ref(torch.from_numpy(x[None].astype(np.float64)))[0]))
    y = float(prob([x], c)[0])
    maps = {
        'full': rng.random((H, W)).astype(np.float32),
        'coarse': rng.normal(size=(4, 3)).astype(np.float32),
        'random': random_map(3, 4, stream_seed(7, '0|0')),
    }
    baselines = {'blur': blur(x, 2.0), 'zero': np.zeros_like(x)}
    cases = []
    pixels = H * W
    for bname, base in baselines.items():
        for mname, m in maps.items():
            up = upsample(m, W, H).reshape(-1)
            order = np.argsort(-up.astype(np.float64), kind='stable')
            dele, ins = [], []
            for k in range(STEPS + 1):
                n = k * pixels // STEPS
                d = x.reshape(3, -1).copy()
                d[:, order[:n]] = base.reshape(3, -1)[:, order[:n]]
                i = base.reshape(3, -1).copy()
                i[:, order[:n]] = x.reshape(3, -1)[:, order[:n]]
                dele.append(d.reshape(3, H, W))
                ins.append(i.reshape(3, H, W))
            pd, pi = prob(dele, c), prob(ins, c)
            auc = lambda p: float(sum((p[k] + p[k + 1]) / 2 for k in range(STEPS)) / STEPS)
            scaled = relu_minmax(up).reshape(H, W)
            o = float(prob([x * scaled[None]], c)[0])
            best = int(order[0])
            bx, by = best % W, best // W
            cases.append({
                'baseline': bname, 'map': mname,
                'deletion': [float(v) for v in pd], 'insertion': [float(v) for v in pi],
                'deletion_auc': auc(pd), 'insertion_auc': auc(pi),
                'drop': max(0.0, y - o) / y, 'increase': o > y,
                'pointing': BOX[0] <= bx < BOX[2] and BOX[1] <= by < BOX[3],
            })

    def ranks(v):
        order = np.argsort(v, kind='stable')
        r = np.empty(len(v))
        i = 0
        while i < len(v):
            j = i
            while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
                j += 1
            r[order[i:j + 1]] = (i + j) / 2 + 1
            i = j + 1
        return r

    def pearson(a, b):
        a, b = a - a.mean(), b - b.mean()
        d = math.sqrt((a * a).sum() * (b * b).sum())
        return float((a * b).sum() / d) if d > 0 else 0.0

    def ssim(a, b):
        h, w = a.shape
        r = min(5, (min(h, w) - 1) // 2)
        k = np.exp(-((np.arange(-r, r + 1)) ** 2) / (2 * 1.5 ** 2))
        k /= k.sum()
        g = np.outer(k, k)
        n = 2 * r + 1
        vals = []
        for yy in range(h - n + 1):
            for xx in range(w - n + 1):
                pa, pb = a[yy:yy + n, xx:xx + n], b[yy:yy + n, xx:xx + n]
                ma, mb = (g * pa).sum(), (g * pb).sum()
                va, vb = (g * pa * pa).sum() - ma * ma, (g * pb * pb).sum() - mb * mb
                cab = (g * pa * pb).sum() - ma * mb
                vals.append(((2 * ma * mb + 1e-4) * (2 * cab + 9e-4)) / ((ma * ma + mb * mb + 1e-4) * (va + vb + 9e-4)))
        return float(np.mean(vals))

    sh, sw = 20, 17
    a = rng.random((sh, sw))
    pairs = {
        'noisy': (a, np.clip(a + 0.3 * rng.normal(size=(sh, sw)), 0, 1)),
        'ties': (np.round(a * 4) / 4, np.round(rng.random((sh, sw)) * 3) / 3),
        'constant': (a, np.zeros((sh, sw))),
        'same': (a, a),
    }
    similarity = []
    for name, (p, q) in pairs.items():
        p32, q32 = p.astype(np.float32), q.astype(np.float32)
        pf, qf = p32.astype(np.float64), q32.astype(np.float64)
        similarity.append({
            'name': name, 'width': sw, 'height': sh,
            'a': [float(v) for v in p32.reshape(-1)], 'b': [float(v) for v in q32.reshape(-1)],
            'spearman': pearson(ranks(pf.reshape(-1)), ranks(qf.reshape(-1))), 'ssim': ssim(pf, qf),
        })

    out = {
        'shape': [1, 3, H, W], 'steps': STEPS, 'box': BOX, 'class': c, 'prob': y,
        'x': [float(v) for v in x.reshape(-1)],
        'maps': {k: {'width': int(v.shape[1]), 'height': int(v.shape[0]), 'data': [float(t) for t in v.reshape(-1)]}
                 for k, v in maps.items()},
        'random_map_seed': [7, '0|0'],
        'blur_sigma': 2.0,
        'blurred': [float(v) for v in baselines['blur'].reshape(-1)],
        'cases': cases,
        'similarity': similarity,
    }
    with open(os.path.join(OUT, 'reference.json'), 'w') as f:
        json.dump(out, f)
    print(f'wrote {OUT}: class {c}, p = {y:.4f}, {len(cases)} curve cases, {len(similarity)} similarity pairs')


if __name__ == '__main__':
    main()
