#!/usr/bin/env bash
# Remakes the fuzz seed corpora, fuzz/corpus/<target>/, from real files (and hand-written JSONL
# results): a model and a
# checkpoint trained by `adgap train` on 600 MNIST images, small "lenet-wide" model and
# checkpoint files from adgap's own writers (build-fuzz/adgap_fuzz_make_seeds), filter weights
# from `adgap weights`, the first MNIST images and labels (raw and gzip), images encoded from an
# MNIST digit and a crop of a photo, and bench/real_photos.json with its photos replaced by
# those small images.
# Usage: bash fuzz/make_seeds.sh   (needs build/adgap, data/mnist, and the fuzz build:
# scripts/fuzz.sh configures it; ninja -C build-fuzz adgap_fuzz_make_seeds builds the writer).
set -euo pipefail
cd "$(dirname "$0")/.."

cli=build/adgap
writer=build-fuzz/adgap_fuzz_make_seeds
[[ -x $cli ]] || { echo "make_seeds: $cli missing (bash scripts/build.sh)" >&2; exit 1; }
if [[ ! -f data/mnist/train-images-idx3-ubyte ]]; then
  echo "make_seeds: data/mnist missing (bash scripts/fetch_mnist.sh)" >&2
  exit 1
fi
if [[ ! -f build-fuzz/build.ninja ]]; then
  nice -n 10 cmake -S fuzz -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ >/dev/null
fi
nice -n 10 ninja -C build-fuzz -j2 adgap_fuzz_make_seeds >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "make_seeds: training a tiny model (600 images, 1 epoch)"
nice -n 10 "$cli" train --data data/mnist --out "$tmp/train" --epochs 1 --limit 600 --batch 100 \
  --threads 1 --quiet >/dev/null
nice -n 10 "$cli" weights --model "$tmp/train/model.safetensors" --data data/mnist --limit 300 \
  --threads 1 --out "$tmp/weights.json" >/dev/null
nice -n 10 "$cli" weights --model "$tmp/train/model.safetensors" --data data/mnist --limit 300 \
  --threads 1 --cam --out "$tmp/weights-cam.json" >/dev/null
ASAN_OPTIONS=detect_leaks=0 nice -n 10 "$writer" "$tmp"

/usr/bin/python3 - "$tmp" <<'PY'
import gzip, json, os, shutil, struct, sys, zlib

import cv2
import numpy as np

tmp = sys.argv[1]
corpus = "fuzz/corpus"


def put(target, name, data):
    os.makedirs(f"{corpus}/{target}", exist_ok=True)
    with open(f"{corpus}/{target}/{name}", "wb") as f:
        f.write(data)


for t in ("idx", "image", "model", "checkpoint", "weights_json", "annotations", "jsonl"):
    shutil.rmtree(f"{corpus}/{t}", ignore_errors=True)

# idx: first byte = mode (bit 0 labels, bit 1 gzip-compress the rest in the target).
with open("data/mnist/train-images-idx3-ubyte", "rb") as f:
    images = f.read(16 + 3 * 784)
with open("data/mnist/train-labels-idx1-ubyte", "rb") as f:
    labels = f.read(8 + 3)
images3 = struct.pack(">IIII", 0x803, 3, 28, 28) + images[16:]
labels3 = struct.pack(">II", 0x801, 3) + labels[8:]
tiny = struct.pack(">IIII", 0x803, 2, 2, 3) + bytes(range(12))
empty = struct.pack(">IIII", 0x803, 0, 28, 28)
put("idx", "images-3.idx", b"\x00" + images3)
put("idx", "labels-3.idx", b"\x01" + labels3)
put("idx", "images-2x3-tiny.idx", b"\x00" + tiny)
put("idx", "images-empty.idx", b"\x00" + empty)
put("idx", "images-3-compress.idx", b"\x02" + images3)
put("idx", "labels-3-compress.idx", b"\x03" + labels3)
put("idx", "images-3.idx.gz", b"\x00" + gzip.compress(images3, mtime=0))
put("idx", "labels-3.idx.gz", b"\x01" + gzip.compress(labels3, mtime=0))

# image: an MNIST digit (light on dark, as the product's photos are read) in the formats
# OpenCV decodes, and a crop of a real photo with printed digits.
digit = np.frombuffer(images3[16 : 16 + 784], np.uint8).reshape(28, 28)
colour = cv2.merge([digit, 255 - digit, digit // 2])
rgba = cv2.merge([digit, digit, 255 - digit, np.full_like(digit, 200)])
enc = lambda ext, img, *p: cv2.imencode(ext, img, list(p))[1].tobytes()
put("image", "digit-gray.png", enc(".png", digit))
put("image", "digit-bgr.png", enc(".png", colour))
put("image", "digit-rgba.png", enc(".png", rgba))
put("image", "digit-16bit.png", enc(".png", digit.astype(np.uint16) * 257))
put("image", "digit-gray.jpg", enc(".jpg", digit, cv2.IMWRITE_JPEG_QUALITY, 90))
put("image", "digit-bgr-progressive.jpg", enc(".jpg", colour, cv2.IMWRITE_JPEG_PROGRESSIVE, 1))
put("image", "digit.bmp", enc(".bmp", digit))
put("image", "digit.ppm", enc(".ppm", colour))
put("image", "digit.tiff", enc(".tiff", colour))
put("image", "digit.webp", enc(".webp", colour))
photo = "/usr/share/doc/opencv-doc/examples/data/sudoku.png"
if os.path.exists(photo):
    crop = cv2.imread(photo)[90:130, 215:255]
    put("image", "sudoku-crop.png", enc(".png", crop))
    put("image", "sudoku-crop.jpg", enc(".jpg", crop))


# model, checkpoint: first byte odd = the file as written, even = the target recomputes the
# file's checksum (fuzz_util.h, safetensors_input), so that mutations reach the header checks.
def archive_seeds(target, name, path):
    with open(path, "rb") as f:
        data = f.read()
    put(target, f"{name}-as-written", b"\x01" + data)
    put(target, f"{name}-resealed-by-target", b"\x00" + data)


archive_seeds("model", "trained-table1", f"{tmp}/train/model.safetensors")
archive_seeds("model", "small-wide", f"{tmp}/model-small.safetensors")
archive_seeds("checkpoint", "small-wide", f"{tmp}/checkpoint-small.safetensors")
archive_seeds("checkpoint", "small-wide-fresh", f"{tmp}/checkpoint-small-fresh.safetensors")

# weights_json: as `adgap weights` writes it, with and without the CAM baseline.
for name in ("weights.json", "weights-cam.json"):
    with open(f"{tmp}/{name}", "rb") as f:
        put("weights_json", name, f.read())

# annotations: bench/real_photos.json with its photos (large, from Debian packages) replaced by
# the small image seeds, and two minimal files (odd and even sizes: the target reads the
# negatives list for odd-sized inputs).
photos = [f"{corpus}/image/{n}" for n in sorted(os.listdir(f"{corpus}/image"))]
with open("bench/real_photos.json") as f:
    real = json.load(f)
i = 0
for key in ("photos", "negatives"):
    for p in real.get(key, []):
        p["path"] = photos[i % len(photos)]
        i += 1
put("annotations", "real-photos-small.json", json.dumps(real, indent=1).encode())
mini = {
    "photos": [{"path": f"{corpus}/image/digit-gray.png",
                "digits": [{"box": [4, 3, 20, 22], "label": 5}], "ignore": [[0, 0, 3, 3]]}],
    "negatives": [{"path": f"{corpus}/image/digit-gray.jpg"}],
}
text = json.dumps(mini)
put("annotations", "minimal-even.json", (text + ("" if len(text) % 2 == 0 else " ")).encode())
put("annotations", "minimal-odd.json", (text + (" " if len(text) % 2 == 0 else "")).encode())

# jsonl: results as `adgap detect --jsonl` writes them (one per line), a failed image, a line
# cut short (a killed run), and a file whose second line is not a result.
ok = json.dumps({"path": "a.png", "width": 40, "height": 30,
                 "detections": [{"box": [1, 2, 10, 12], "label": 3, "score": 0.97},
                                {"box": [12, 2, 10, 12], "label": 1, "score": 0.91}],
                 "numbers": [{"box": [1, 2, 21, 12], "text": "31", "digits": [0, 1],
                              "score": 0.91}]}, separators=(",", ":"))
failed = json.dumps({"path": "b.png", "error": "not an image"}, separators=(",", ":"))
put("jsonl", "two-results.jsonl", (ok + "\n" + failed + "\n").encode())
put("jsonl", "cut-short.jsonl", (failed + "\n" + ok[:50]).encode())
put("jsonl", "stops-at-junk.jsonl", (ok + "\nnot json\n" + failed + "\n").encode())
# A number read with the image carries its separators.
dotted = json.loads(ok)
dotted["numbers"][0]["separators"] = "3.1"
put("jsonl", "with-separators.jsonl", (json.dumps(dotted, separators=(",", ":")) + "\n").encode())

for t in sorted(os.listdir(corpus)):
    files = os.listdir(f"{corpus}/{t}")
    size = sum(os.path.getsize(f"{corpus}/{t}/{n}") for n in files)
    print(f"make_seeds: fuzz/corpus/{t}: {len(files)} files, {size} bytes")
PY
