#!/usr/bin/python3
"""The work of `adgap weights` and `adgap heatmap` written plainly in Debian's python3-torch,
as the reference for bench/speed.sh. Not part of the product: benchmarks only.

  reference_speed.py weights [--data DIR] [--threads N]
      Eq. 1 over the training split: the trunk once per batch, then the head with nothing
      blocked and with each final channel zeroed in turn; NLL and 0/1 error per class.
  reference_speed.py heatmap IMAGE --out DIR [--k 2] [--threads N]
      The paper-mode map (conv1 ReLU conv2 ReLU, pools removed, sum_i W_i F_i), polarity from
      the skew of the residuals against a blur, min-max normalised, thresholded at mean + k std;
      writes the overlay and the mask as PNG.

Weights are random (seeded): the work, not the numbers, is what is compared. Prints one JSON
line with the seconds spent after the imports.
"""
import argparse
import json
import os
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_train import LeNet, read_idx  # noqa: E402


def weights(a):
    t0 = time.perf_counter()
    x = torch.from_numpy(read_idx(f"{a.data}/train-images-idx3-ubyte", 0x803).copy()).unsqueeze(1)
    y = torch.from_numpy(read_idx(f"{a.data}/train-labels-idx1-ubyte", 0x801).astype(np.int64))
    net = LeNet().eval()
    ch, nc = 16, 10
    loss = torch.zeros(nc, ch + 1, dtype=torch.float64)
    wrong = torch.zeros(nc, ch + 1, dtype=torch.float64)
    with torch.no_grad():
        for s in range(0, len(y), 1000):
            xb, yb = x[s:s + 1000].float() / 255, y[s:s + 1000]
            maps = F.max_pool2d(F.relu(net.conv2(F.max_pool2d(F.relu(net.conv1(xb)), 2))), 2)
            onehot = F.one_hot(yb, nc).double()
            # Nothing blocked, then each channel zeroed in turn (a loop: faster here than one
            # pass over 17 masked copies, 20 s against 27 s).
            for v in range(ch + 1):
                m = maps
                if v > 0:
                    m = maps.clone()
                    m[:, v - 1] = 0
                h = F.relu(net.fc2(F.relu(net.fc1(m.flatten(1)))))
                logp = F.log_softmax(net.fc3(h), dim=1)
                nll = -logp.gather(1, yb.unsqueeze(1)).squeeze(1).double()
                loss[:, v] += onehot.t() @ nll
                wrong[:, v] += onehot.t() @ (logp.argmax(1) != yb).double()
    rise = (loss.sum(0)[1:] - loss.sum(0)[0]) / len(y)
    return {"task": "weights", "images": len(y), "seconds": time.perf_counter() - t0,
            "loss_rise_sum": float(rise.sum())}


def heatmap(a):
    t0 = time.perf_counter()
    gray = cv2.imread(a.image, cv2.IMREAD_GRAYSCALE)
    if gray is None:
        sys.exit(f"{a.image}: cannot read the image")
    f = gray.astype(np.float32)
    small = f if max(f.shape) <= 1024 else cv2.resize(
        f, None, fx=1024 / max(f.shape), fy=1024 / max(f.shape), interpolation=cv2.INTER_AREA)
    r = small - cv2.GaussianBlur(small, (0, 0), 8.0)
    invert = float((r.astype(np.float64) ** 3).sum()) < 0  # dark strokes on a light ground
    torch.manual_seed(0)
    net = LeNet().eval()
    w = torch.randn(16)
    with torch.no_grad():
        x = torch.from_numpy(gray).float()
        if invert:
            x = 255 - x
        x = (x / 255)[None, None]
        maps = F.relu(net.conv2(F.relu(net.conv1(x))))[0]  # (16, H, W), pools removed
        h = (maps * w.view(16, 1, 1)).sum(0)
        lo, hi = h.min(), h.max()
        h = (h - lo) / (hi - lo) if hi > lo else torch.zeros_like(h)
        mask = (h > h.mean() + a.k * h.std()).numpy().astype(np.uint8) * 255
        h = h.numpy()
    colour = cv2.applyColorMap((h * 255).astype(np.uint8), cv2.COLORMAP_JET)
    photo = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    overlay = cv2.addWeighted(photo, 0.5, colour, 0.5, 0)
    os.makedirs(a.out, exist_ok=True)
    name = os.path.splitext(os.path.basename(a.image))[0]
    cv2.imwrite(os.path.join(a.out, name + ".overlay.png"), overlay)
    cv2.imwrite(os.path.join(a.out, name + ".mask.png"), mask)
    return {"task": "heatmap", "megapixels": gray.size / 1e6, "seconds": time.perf_counter() - t0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("task", choices=["weights", "heatmap"])
    ap.add_argument("image", nargs="?")
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--out", default="out/reference")
    ap.add_argument("--k", type=float, default=2.0)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(json.dumps(weights(a) if a.task == "weights" else heatmap(a)), flush=True)


if __name__ == "__main__":
    main()
