#!/usr/bin/python3
"""Hostile inputs for tests/bad_inputs/run.sh, generated at run time (no blobs in the repo).

  gen.py data   MNIST_DIR T   small IDX splits in T/idx/base, one corrupted copy per case in
                              T/idx/<case>, images in T/img, weights files in T/wts, lists in T/list
  gen.py models MODEL WEIGHTS T   damaged copies of a real model in T/model, weights for another
                              number of filters in T/wts
  gen.py ckpt KIND FILE       damage a checkpoint in place (truncate, flip, random, empty)

Needs only the standard library and numpy; PIL (Debian's python3-pil) for the real JPEG the
truncated-JPEG case cuts short: without it that one case is skipped (its input is not written).
"""
import gzip
import io
import json
import os
import random
import struct
import sys
import zipfile
import zlib

import numpy as np

TRAIN_N, TEST_N = 600, 100  # small splits: a train case loads in well under a second
IMG, LBL = "images-idx3-ubyte", "labels-idx1-ubyte"
rng = random.Random(1234)  # fixed: the same hostile bytes on every run


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def read_idx(path):
    b = open(path, "rb").read()
    nd = b[3]
    dims = struct.unpack(">%dI" % nd, b[4:4 + 4 * nd])
    return np.frombuffer(b[4 + 4 * nd:], np.uint8).reshape(dims)


def idx(magic, dims, payload):
    return struct.pack(">I", magic) + struct.pack(">%dI" % len(dims), *dims) + bytes(payload)


def idx_images(a):  # (N, H, W) uint8
    return idx(0x803, a.shape, a.tobytes())


def idx_labels(a):  # (N) uint8
    return idx(0x801, a.shape, a.tobytes())


def png(width, height, gray=None, ihdr_crc_ok=True, idat=None):
    """A grayscale 8-bit PNG; with idat given, that IDAT whatever the declared size."""
    def chunk(kind, body, ok=True):
        crc = zlib.crc32(kind + body) ^ (0 if ok else 0xdeadbeef)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)
    if idat is None:
        rows = b"".join(b"\0" + gray[y].tobytes() for y in range(height))
        idat = zlib.compress(rows)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr, ihdr_crc_ok) + chunk(b"IDAT", idat) +
            chunk(b"IEND", b""))


def jpeg_header_only(width, height):
    """SOI, a baseline SOF0 declaring width x height, EOI: enough to read a declared size."""
    sof = struct.pack(">BHHB", 8, height, width, 1) + bytes([1, 0x11, 0])
    return b"\xff\xd8" + b"\xff\xc0" + struct.pack(">H", 2 + len(sof)) + sof + b"\xff\xd9"


def scene(digits):
    """160x100, dark background, three MNIST digits (light on dark, as MNIST) at 1.5x."""
    canvas = np.zeros((100, 160), np.uint8)
    for k, d in enumerate(digits):
        big = np.kron(d, np.ones((3, 3), np.uint8))[::2, ::2]  # 42x42
        y, x = 29, 10 + 50 * k
        canvas[y:y + big.shape[0], x:x + big.shape[1]] = big
    return canvas


def data(mnist, t):
    tr_img = read_idx(os.path.join(mnist, "train-" + IMG))[:TRAIN_N].copy()
    tr_lbl = read_idx(os.path.join(mnist, "train-" + LBL))[:TRAIN_N].copy()
    te_img = read_idx(os.path.join(mnist, "t10k-" + IMG))[:TEST_N].copy()
    te_lbl = read_idx(os.path.join(mnist, "t10k-" + LBL))[:TEST_N].copy()
    good = {"train-" + IMG: idx_images(tr_img), "train-" + LBL: idx_labels(tr_lbl),
            "t10k-" + IMG: idx_images(te_img), "t10k-" + LBL: idx_labels(te_lbl)}
    base = os.path.join(t, "idx", "base")
    for name, b in good.items():
        write(os.path.join(base, name), b)

    def case(name, replace, remove=()):
        """T/idx/<name>: links to the good files but those replaced (bytes, or 'dir')."""
        d = os.path.join(t, "idx", name)
        os.makedirs(d)
        for f in good:
            if f not in replace and f not in remove:
                os.symlink(os.path.join(base, f), os.path.join(d, f))
        for f, b in replace.items():
            if b == "dir":
                os.makedirs(os.path.join(d, f))
            else:
                write(os.path.join(d, f), b)

    ti, tl, ei, el = "train-" + IMG, "train-" + LBL, "t10k-" + IMG, "t10k-" + LBL
    g = good[ti]
    gz = lambda b: gzip.compress(b, mtime=0)
    case("trunc_header", {ti: g[:10]})
    case("short_header", {ti: g[:2]})
    case("trunc_payload", {ti: g[:-1000]})
    case("trailing", {ti: g + b"trailing junk"})
    case("wrong_magic", {ti: good[tl]}, remove=())  # a labels file where the images should be
    case("wrong_magic_labels", {tl: struct.pack(">I", 0x12345678) + good[tl][4:]})
    case("absurd_count", {ti: struct.pack(">IIII", 0x803, 0xffffffff, 28, 28) + g[16:]})
    case("absurd_dims", {ti: struct.pack(">IIII", 0x803, TRAIN_N, 0xffffffff, 0xffffffff) + g[16:]})
    case("absurd_ndim", {ti: struct.pack(">I", 0x8ff) + g[4:]})  # 255 dimensions declared
    case("labels_absurd_count", {tl: struct.pack(">II", 0x801, 0xffffffff) + good[tl][8:]})
    case("zero_images", {ti: struct.pack(">IIII", 0x803, 0, 28, 28),
                         tl: struct.pack(">II", 0x801, 0)})
    case("zero_size", {ti: struct.pack(">IIII", 0x803, TRAIN_N, 0, 0)})
    case("count_mismatch", {tl: idx_labels(tr_lbl[:-1])})
    case("test_size", {ei: idx_images(te_img[:, 4:24, 4:24].copy())})  # 20x20 against 28x28
    case("test_trunc", {ei: good[ei][:-5]})
    # gzip variants: the loader takes <name>.gz when <name> is absent.
    z = gz(g)
    case("gz_truncated", {ti + ".gz": z[:len(z) // 2]}, remove=(ti,))
    corrupt = bytearray(z)
    for k in range(40, 60):
        corrupt[len(z) // 2 + k] ^= 0x5a
    case("gz_corrupt", {ti + ".gz": bytes(corrupt)}, remove=(ti,))
    bad_size = bytearray(z)
    bad_size[-4:] = struct.pack("<I", 0xffffffff)  # the trailer's ISIZE: 4 GiB declared
    case("gz_isize", {ti + ".gz": bytes(bad_size)}, remove=(ti,))
    bad_crc = bytearray(z)
    bad_crc[-8] ^= 0xff
    case("gz_crc", {ti + ".gz": bytes(bad_crc)}, remove=(ti,))
    # A few hundred bytes of gzip whose IDX header declares 2^32-1 images of 28x28 (3 TB).
    case("gz_absurd", {ti + ".gz": gz(struct.pack(">IIII", 0x803, 0xffffffff, 28, 28) +
                                      bytes(100000))}, remove=(ti,))
    # Bomb-ish: 64 MiB of zeros (64 KiB compressed) after a header declaring 600 images.
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = c.compress(g) + b"".join(c.compress(bytes(1 << 20)) for _ in range(64)) + c.flush()
    case("gz_bomb", {ti + ".gz": bomb}, remove=(ti,))
    case("gz_text", {ti + ".gz": b"this is not gzip, nor IDX\n"}, remove=(ti,))
    case("dir", {ti: "dir"})
    case("missing", {}, remove=(tl,))
    case("unreadable", {ti: g})  # chmod 000 by run.sh
    bad = tr_lbl.copy()
    bad[123] = 200
    case("label_200", {tl: idx_labels(bad)})
    bad = te_lbl.copy()
    bad[7] = 10
    case("test_label_10", {el: idx_labels(bad)})

    # Images for heatmap and detect.
    im = os.path.join(t, "img")
    good1 = scene(tr_img[0:3])
    write(os.path.join(im, "good1.png"), png(160, 100, good1))
    write(os.path.join(im, "good2.png"), png(160, 100, scene(tr_img[3:6])))
    full = png(160, 100, good1)
    write(os.path.join(im, "empty.png"), b"")
    write(os.path.join(im, "trunc.png"), full[:len(full) // 2])
    write(os.path.join(im, "text.png"), b"not a picture, just text named .png\n")
    tiny_idat = zlib.compress(b"\0" * 64)
    write(os.path.join(im, "bomb.png"), png(100000, 100000, idat=tiny_idat))
    write(os.path.join(im, "bomb_under_limit.png"), png(20000, 20000, idat=tiny_idat))
    write(os.path.join(im, "zero.png"), png(0, 0, idat=tiny_idat))
    write(os.path.join(im, "bad_crc.png"), png(160, 100, good1, ihdr_crc_ok=False))
    write(os.path.join(im, "huge_sof.jpg"), jpeg_header_only(65535, 65535))
    write(os.path.join(im, "zero_sof.jpg"), jpeg_header_only(0, 0))
    try:
        from PIL import Image
        buf = io.BytesIO()
        Image.fromarray(good1).save(buf, "JPEG", quality=90)
        j = buf.getvalue()
        write(os.path.join(im, "trunc.jpg"), j[:len(j) // 3])
    except ImportError:
        pass  # run.sh skips the case
    os.makedirs(os.path.join(im, "dir.png"))

    # Filter-weight files for heatmap and detect (the 16-filter ones need the model: `models`).
    w = os.path.join(t, "wts")
    write(os.path.join(w, "empty.json"), b"")
    write(os.path.join(w, "not_json.json"), b"loss_rise = [1, 2, 3]\n")
    write(os.path.join(w, "wrong_types.json"), json.dumps(
        {"split": 3, "samples": "many", "channels": [16], "loss_rise": "high"}).encode())
    write(os.path.join(w, "array.json"), b"[1, 2, 3]\n")

    # Lists of images for detect --list.
    ls = os.path.join(t, "list")
    os.makedirs(os.path.join(ls, "dir.txt"))
    write(os.path.join(ls, "garbage.txt"),
          bytes(rng.getrandbits(8) for _ in range(4000)) + b"\0\n\0\xff\xfe\n")


def models(model, weights, t):
    m = open(model, "rb").read()
    d = os.path.join(t, "model")
    write(os.path.join(d, "empty.pt"), b"")
    write(os.path.join(d, "truncated.pt"), m[:len(m) // 2])
    write(os.path.join(d, "random.pt"), bytes(rng.getrandbits(8) for _ in range(len(m) // 8)))
    write(os.path.join(d, "json.pt"), open(weights, "rb").read())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", b"not a pickle")
        zf.writestr("readme.txt", "a zip, but not a LibTorch archive\n")
    write(os.path.join(d, "zip.pt"), buf.getvalue())
    mid = bytearray(m)
    mid[len(m) // 2] ^= 0xff
    write(os.path.join(d, "flip_mid.pt"), bytes(mid))
    end = bytearray(m)
    end[len(m) - 10] ^= 0xff
    write(os.path.join(d, "flip_end.pt"), bytes(end))
    os.makedirs(os.path.join(d, "dir.pt"))

    w = json.load(open(weights))
    shapes = dict(w)
    shapes["loss_rise"] = w["loss_rise"][:3]  # 3 of 16 filters
    write(os.path.join(t, "wts", "wrong_shape.json"), json.dumps(shapes).encode())
    # A self-consistent file for a model with 8 final filters: this model has 16.
    half = {k: v for k, v in w.items()}
    half["channels"] = 8
    for k in ("loss_rise", "error_rise", "mean_activation", "ccgap"):
        half[k] = w[k][:8]
    for k in ("class_loss_rise", "class_error_rise"):
        half[k] = [row[:8] for row in w[k]]
    if half.get("cam_weights"):
        half["cam_weights"] = [row[:8] for row in w["cam_weights"]]
    write(os.path.join(t, "wts", "other_filters.json"), json.dumps(half).encode())
    # Well-formed, right shapes, but numbers JSON cannot hold as finite doubles.
    inf = json.dumps(w).replace(str(w["loss_rise"][1]), "1e999", 1)
    write(os.path.join(t, "wts", "overflow.json"), inf.encode())


def ckpt(kind, path):
    b = open(path, "rb").read()
    if kind == "truncate":
        b = b[:len(b) * 2 // 3]
    elif kind == "flip":
        b = bytearray(b)
        b[len(b) // 2] ^= 0xff
        b = bytes(b)
    elif kind == "random":
        b = bytes(rng.getrandbits(8) for _ in range(len(b)))
    elif kind == "empty":
        b = b""
    else:
        sys.exit("gen.py ckpt: unknown kind " + kind)
    write(path, b)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"data": data, "models": models, "ckpt": ckpt}[cmd](*args)
