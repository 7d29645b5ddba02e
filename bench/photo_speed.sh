#!/usr/bin/env bash
# Detection time per photo with the defaults (adgap's own models, its reader and the first
# reader beside it when present), on two cores: the first six wallpapers of Debian's
# plasma-workspace-wallpapers (busy textures; one, EveningGlow, shows a few digits), each scaled to 1280x800 (1.02
# megapixels; the files named 1280x800.jpg hold 2560x1600 pixels), and the same six at their
# own 4.1 megapixels. Each photo alone in its own process (the time `adgap detect` reports for
# the photo, and the whole process's wall time with the start and the model loading), then
# all six in one run with the defaults. Writes docs/results/photo_speed.md.
# Usage: bench/photo_speed.sh [MODEL]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-models/model.safetensors}
[[ -x build/adgap ]] || bash scripts/build.sh
[[ -f "$model" ]] || { echo "bench/photo_speed.sh: $model: no model (models/ is in the repository; scripts/train_models.sh remakes it)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mapfile -t photos < <(ls /usr/share/wallpapers/*/contents/images/1280x800.jpg | sort | head -6)
[[ ${#photos[@]} -eq 6 ]] || { echo "bench/photo_speed.sh: plasma-workspace-wallpapers is missing (scripts/deps.sh installs it)" >&2; exit 1; }
/usr/bin/python3 - "$tmp" "${photos[@]}" <<'PY'
import sys, cv2, os
tmp, photos = sys.argv[1], sys.argv[2:]
for size in ("1mp", "4mp"):
    os.makedirs(f"{tmp}/{size}", exist_ok=True)
for i, p in enumerate(photos):
    name = p.split("/")[-4]
    img = cv2.imread(p)
    cv2.imwrite(f"{tmp}/4mp/{i}-{name}.png", img)
    cv2.imwrite(f"{tmp}/1mp/{i}-{name}.png",
                cv2.resize(img, (1280, 800), interpolation=cv2.INTER_AREA))
PY
run() {  # prints "<reported seconds> <wall seconds> <detections>" for one detect run
  local start end out
  start=$(date +%s.%N)
  out=$(./build/adgap detect --model "$model" --quiet --no-images --json "$tmp/out.json" "$@")
  end=$(date +%s.%N)
  /usr/bin/python3 -c "
import json, re, sys
t = float(re.search(r'failed, ([0-9.]+) s', sys.argv[1]).group(1))
n = sum(len(i.get('detections', [])) for i in json.load(open('$tmp/out.json'))['images'])
print(f'{t:.2f} {float(sys.argv[3]) - float(sys.argv[2]):.2f} {n}')" "$out" "$start" "$end"
}
{
  echo "| size | photo | detect (s) | process wall (s) | detections |"
  echo "|---|---|---:|---:|---:|"
  for size in 1mp 4mp; do
    for f in "$tmp/$size"/*.png; do
      read -r t w n < <(run "$f")
      echo "| $size | $(basename "$f" .png) | $t | $w | $n |"
    done
  done
  for size in 1mp 4mp; do
    read -r t w n < <(run "$tmp/$size"/*.png)
    echo "| $size | all six in one run | $t | $w | $n |"
  done
} > "$tmp/table.md"
{
  echo "# Detection time per photo"
  echo
  echo "\`bench/photo_speed.sh\` on $(nproc) cores, $(date -u +%Y-%m-%d). Model $model, defaults"
  echo "(reader and first reader beside the model when present). 'detect': the time \`adgap detect\`"
  echo "reports (decoding, detection, writing the JSON); 'process wall': the whole command, with"
  echo "the process start and the model loading."
  echo "Photos: the first six of plasma-workspace-wallpapers' 1280x800.jpg files (2560x1600"
  echo "pixels: '4mp'), and the same scaled to 1280x800 ('1mp'). Only EveningGlow shows digits"
  echo "(three, annotated in bench/real_photos.json); every other detection is a false alarm. Each"
  echo "photo alone includes the first call's warm-up (about 0.5 s); 'all six in one run' is one"
  echo "\`adgap detect\` over the six with its defaults (two workers on two cores)."
  echo
  cat "$tmp/table.md"
} > docs/results/photo_speed.md.tmp
mv docs/results/photo_speed.md.tmp docs/results/photo_speed.md
cat docs/results/photo_speed.md
