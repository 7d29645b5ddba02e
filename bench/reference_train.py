#!/usr/bin/python3
"""The same training recipe in Debian's python3-torch, as a reference for adgap's speed and
accuracy: Table 1 network, Adam lr 1e-3 with Torch7 decay lr / (1 + t * 1e-5), batch 300,
NLL loss, reshuffled every epoch, inputs pixels / 255. Prints one JSON line per epoch and a
final summary line. Not part of the product: benchmarks only."""
import argparse
import json
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path, magic):
    with open(path, "rb") as f:
        data = f.read()
    got, = struct.unpack(">I", data[:4])
    assert got == magic, f"{path}: magic {got:#x}"
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    assert arr.size == int(np.prod(dims)), f"{path}: size"
    return arr.reshape(dims)


class LeNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5, padding=2)
        self.fc1 = nn.Linear(784, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        x = F.relu(self.fc2(x))
        return F.log_softmax(self.fc3(x), dim=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    d = a.data
    xtr = torch.from_numpy(read_idx(f"{d}/train-images-idx3-ubyte", 0x803).copy()).unsqueeze(1)
    ytr = torch.from_numpy(read_idx(f"{d}/train-labels-idx1-ubyte", 0x801).astype(np.int64))
    xte = torch.from_numpy(read_idx(f"{d}/t10k-images-idx3-ubyte", 0x803).copy()).unsqueeze(1)
    yte = torch.from_numpy(read_idx(f"{d}/t10k-labels-idx1-ubyte", 0x801).astype(np.int64))
    net = LeNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    n, step, epochs = len(ytr), 0, []
    for epoch in range(a.epochs):
        net.train()
        perm = torch.randperm(n)
        t0 = time.perf_counter()
        for b in range(0, n, a.batch):
            idx = perm[b:b + a.batch]
            x = xtr.index_select(0, idx).float().div_(255)
            for g in opt.param_groups:
                g["lr"] = 1e-3 / (1 + step * 1e-5)
            opt.zero_grad()
            loss = F.nll_loss(net(x), ytr.index_select(0, idx))
            loss.backward()
            opt.step()
            step += 1
        secs = time.perf_counter() - t0
        net.eval()
        with torch.no_grad():
            acc = sum((net(xte[i:i + 1000].float() / 255).argmax(1) == yte[i:i + 1000]).sum().item()
                      for i in range(0, len(yte), 1000)) / len(yte)
        epochs.append({"epoch": epoch + 1, "seconds": secs, "images_per_second": n / secs,
                       "test_accuracy": acc})
        print(json.dumps(epochs[-1]), flush=True)
    ips = sum(e["images_per_second"] for e in epochs) / len(epochs)
    print(json.dumps({"summary": True, "images_per_second": ips,
                      "test_accuracy": epochs[-1]["test_accuracy"]}))


if __name__ == "__main__":
    main()
