"""Reads an adgap model file with nothing but json and numpy: the safetensors layout (an 8-byte
little-endian header length, a JSON header, then the raw little-endian float32 data), the
metadata adgap writes, and the checksum it keeps in "adgap_crc32".

    /usr/bin/python3 examples/python/read_safetensors.py models/model.safetensors

Prints the metadata and each tensor's name and shape, checks the checksum, and classifies a
blank 28x28 image with the numpy forward pass of the Table 1 layout (conv 5x5 pad 2, ReLU,
max-pool 2, twice, then three linear layers), which it compares with nothing: it only shows
that the weights are all there in the right shapes.
"""

import json
import struct
import sys
import zlib

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    body = data[8 + n:]
    tensors = {}
    for name, t in header.items():
        assert t["dtype"] == "F32", (name, t["dtype"])
        begin, end = t["data_offsets"]
        tensors[name] = np.frombuffer(body[begin:end], dtype="<f4").reshape(t["shape"])
    # The checksum: CRC-32 of the file with its own 8 digits read as zeros.
    crc = meta.get("adgap_crc32")
    if crc is not None:
        field = b'"adgap_crc32":"' + crc.encode() + b'"'
        at = data.index(field) + len(field) - 9
        zeroed = data[:at] + b"00000000" + data[at + 8:]
        assert "%08x" % zlib.crc32(zeroed) == crc, "checksum mismatch: the file is damaged"
    return meta, tensors


def conv5(x, w, b):  # x (C, H, W), w (K, C, 5, 5), padding 2 -> (K, H, W)
    c, h, wd = x.shape
    p = np.pad(x, ((0, 0), (2, 2), (2, 2)))
    cols = np.stack([p[:, i:i + h, j:j + wd] for i in range(5) for j in range(5)], axis=1)
    return np.einsum("kcq,cqhw->khw", w.reshape(w.shape[0], c, 25), cols) + b[:, None, None]


def pool2(x):  # (C, H, W) -> (C, H/2, W/2)
    c, h, w = x.shape
    return x.reshape(c, h // 2, 2, w // 2, 2).max(axis=(2, 4))


def main():
    meta, t = read_safetensors(sys.argv[1] if len(sys.argv) > 1 else "models/model.safetensors")
    for k in sorted(meta):
        print("%-14s %s" % (k, meta[k][:100]))
    for name, v in t.items():
        print("%-14s %s" % (name, list(v.shape)))
    size = int(meta["input_size"])
    x = np.zeros((int(meta["in_channels"]), size, size), np.float32)
    h = pool2(np.maximum(conv5(x, t["conv1.weight"], t["conv1.bias"]), 0))
    h = pool2(np.maximum(conv5(h, t["conv2.weight"], t["conv2.bias"]), 0))
    h = np.maximum(t["fc1.weight"] @ h.reshape(-1) + t["fc1.bias"], 0)
    h = np.maximum(t["fc2.weight"] @ h + t["fc2.bias"], 0)
    logits = t["fc3.weight"] @ h + t["fc3.bias"]
    print("a blank image: class %d of %d" % (int(np.argmax(logits)), logits.size))


if __name__ == "__main__":
    main()
