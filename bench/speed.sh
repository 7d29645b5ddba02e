#!/usr/bin/env bash
# adgap against the same work in Debian's python3-torch, side by side on this machine, in
# turn (adgap, its LibTorch-kernel variant where there is one, python3-torch; RUNS rounds;
# medians): training one epoch, filter importance (`adgap weights`) over the 60,000 training
# images, paper-mode heatmaps of a 1- and a 16-megapixel photo, and `detect` on six 1-MP
# photos (adgap's own kernel against LibTorch's, as python3-torch has no detector). Whole
# processes, wall time and peak RSS (GNU time); training also in images per second as each
# program measures its epoch, and also with LibTorch's layers (`train --libtorch-kernels`).
# Writes docs/results/speed.md and speed.json.
# Usage: bench/speed.sh [RUNS]  (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
need=()
dpkg-query -W -f='${Status}' python3-torch 2>/dev/null | grep -q "ok installed" || need+=(python3-torch)
command -v /usr/bin/time >/dev/null || need+=(time)
if ((${#need[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
bash scripts/fetch_mnist.sh >/dev/null
[[ -x build/adgap ]] || bash scripts/build.sh
mapfile -t photos < <(ls /usr/share/wallpapers/*/contents/images/1280x800.jpg | sort | head -6)
[[ ${#photos[@]} -eq 6 ]] || { echo "bench/speed.sh: plasma-workspace-wallpapers is missing (scripts/deps.sh installs it)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OPENBLAS_NUM_THREADS=1  # the BLAS setting adgap applies to itself, for both
mkdir -p "$tmp/photos"
/usr/bin/python3 - "$tmp" "${photos[@]}" <<'PY'
import sys, cv2
tmp, photos = sys.argv[1], sys.argv[2:]
img = cv2.imread(photos[0])  # EveningGlow, 2560x1600
cv2.imwrite(f"{tmp}/1mp.jpg", cv2.resize(img, (1250, 800), interpolation=cv2.INTER_AREA),
            [cv2.IMWRITE_JPEG_QUALITY, 95])
cv2.imwrite(f"{tmp}/16mp.jpg", cv2.resize(img, (5000, 3200), interpolation=cv2.INTER_CUBIC),
            [cv2.IMWRITE_JPEG_QUALITY, 95])
for i, p in enumerate(photos):
    cv2.imwrite(f"{tmp}/photos/{i}.png",
                cv2.resize(cv2.imread(p), (1280, 800), interpolation=cv2.INTER_AREA))
PY
# The model the rows use: one epoch of adgap's training (the first training row's), and its
# weights from the first weights row.
./build/adgap train --epochs 1 --threads 2 --out "$tmp/model" >/dev/null 2>&1
./build/adgap weights --model "$tmp/model/model.pt" --threads 2 >/dev/null

timed() {  # timed NAME VARIANT COMMAND...: one whole-process run, appended to results.txt
  local name=$1 variant=$2
  shift 2
  /usr/bin/time -f "%e %M" -o "$tmp/time.txt" "$@" >"$tmp/stdout.txt" 2>&1 ||
    { echo "bench/speed.sh: $name ($variant) failed:" >&2; tail -5 "$tmp/stdout.txt" >&2; exit 1; }
  local extra=""
  case "$name/$variant" in
    train/adgap | train/adgap-libtorch-kernels) extra=$(/usr/bin/python3 -c "import json; print(json.load(open('$tmp/t/train.json'))['epochs'][0]['images_per_second'])") ;;
    train/python3-torch) extra=$(grep -m1 '"images_per_second"' "$tmp/stdout.txt" | /usr/bin/python3 -c "import json, sys; print(json.loads(sys.stdin.readline())['images_per_second'])") ;;
  esac
  echo "$name $variant $(cat "$tmp/time.txt") $extra" >> "$tmp/results.txt"
}

m="--model $tmp/model/model.pt --threads 2"
for r in $(seq "$runs"); do
  echo "round $r of $runs"
  rm -rf "$tmp/t"
  timed train adgap ./build/adgap train --epochs 1 --threads 2 --out "$tmp/t"
  rm -rf "$tmp/t"
  timed train adgap-libtorch-kernels ./build/adgap train --libtorch-kernels --epochs 1 --threads 2 --out "$tmp/t"
  rm -rf "$tmp/t"
  timed train python3-torch /usr/bin/python3 bench/reference_train.py --epochs 1 --threads 2
  timed weights adgap ./build/adgap weights $m --out "$tmp/w.json"
  timed weights python3-torch /usr/bin/python3 bench/reference_speed.py weights --threads 2
  for size in 1mp 16mp; do
    timed "heatmap-$size" adgap ./build/adgap heatmap $m --out "$tmp/maps" "$tmp/$size.jpg"
    timed "heatmap-$size" adgap-libtorch-kernels ./build/adgap heatmap $m --libtorch-kernels \
      --out "$tmp/maps" "$tmp/$size.jpg"
    timed "heatmap-$size" python3-torch /usr/bin/python3 bench/reference_speed.py heatmap \
      "$tmp/$size.jpg" --threads 2 --out "$tmp/maps"
  done
  timed detect-6x1mp adgap ./build/adgap detect $m --quiet --no-images --out "$tmp/det" "$tmp"/photos/*.png
  timed detect-6x1mp adgap-libtorch-kernels ./build/adgap detect $m --libtorch-kernels --quiet \
    --no-images --out "$tmp/det" "$tmp"/photos/*.png
done

mkdir -p docs/results
/usr/bin/python3 - "$tmp/results.txt" "$runs" "$(/usr/bin/python3 -c 'import torch; print(torch.__version__)')" <<'PY'
import json, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
runs, torch_version = int(sys.argv[2]), sys.argv[3]
res = {}
for r in rows:
    d = res.setdefault(r[0], {}).setdefault(r[1], {"seconds": [], "rss_mb": [], "images_per_second": []})
    d["seconds"].append(float(r[2]))
    d["rss_mb"].append(float(r[3]) / 1024)
    if len(r) > 4:
        d["images_per_second"].append(float(r[4]))
for task in res.values():
    for v in task.values():
        for k in list(v):
            v["median_" + k] = statistics.median(v[k]) if v[k] else None
work = {"train": ("training, one epoch of 60,000 images", None),
        "weights": ("weights, 60,000 training images", None),
        "heatmap-1mp": ("heatmap, paper mode, 1 MP photo (1250x800)", 1.0),
        "heatmap-16mp": ("heatmap, paper mode, 16 MP photo (5000x3200)", 16.0),
        "detect-6x1mp": ("detect, six 1-MP photos in one run", None)}
lines = [
    f"Side by side on this machine (two cores), {runs} rounds, medians; whole processes (start, "
    f"loading and writing included), wall time and peak RSS. python3-torch {torch_version}. "
    "Ratio: the reference's time over adgap's (above 1: adgap is faster); for training, "
    "adgap's images per second over the other's, each as the program measures its epoch. "
    "Detect has no python3-torch counterpart: its reference is adgap with LibTorch's kernels.",
    "",
    "| work | program | seconds | peak RSS (MB) | rate | ratio |",
    "|---|---|---:|---:|---:|---:|"]
for key, (label, mp) in work.items():
    t = res.get(key, {})
    ours = t.get("adgap")
    ref = t.get("python3-torch") or t.get("adgap-libtorch-kernels")
    for prog in ("adgap", "adgap-libtorch-kernels", "python3-torch"):
        if prog not in t:
            continue
        v = t[prog]
        s = v["median_seconds"]
        if key == "train":
            rate = f"{v['median_images_per_second']:.0f} img/s"
            ratio = (f"{ours['median_images_per_second'] / v['median_images_per_second']:.2f}x"
                     if prog != "adgap" else "")
        else:
            rate = f"{mp / s:.2f} MP/s" if mp else ""
            ratio = f"{s / ours['median_seconds']:.2f}x" if prog != "adgap" else ""
        lines.append(f"| {label} | {prog} | {s:.2f} | {v['median_rss_mb']:.0f} | {rate} | {ratio} |")
open("docs/results/speed.md", "w").write("\n".join(lines) + "\n")
json.dump(res, open("docs/results/speed.json", "w"), indent=1)
print("\n".join(lines))
PY
