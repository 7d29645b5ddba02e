#!/usr/bin/env bash
# The benchmark figures of adgap's own models (models/), measured with exactly those files (no
# --model: the files a new user gets) and recorded in models/MANIFEST.json: benchmark v2
# (`adgap bench-loc`, its eval split, phone-size scenes, the text condition, the real photos of
# bench/real_photos.json and the digit-free photos of bench/photos_digit_free.json;
# docs/results/bench_v2.{md,json}).
# Usage: bash bench/models_bench.sh   (after scripts/build.sh; about 15 minutes on two cores)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --bench   # the digit-free set's photos
[[ -x build/adgap ]] || bash scripts/build.sh
/usr/bin/python3 scripts/models_manifest.py models --check
env -u ADGAP_MODEL ./build/adgap bench-loc --methods adgap,adgap-paper --methods-count 10 \
  --out docs/results
/usr/bin/python3 scripts/models_manifest.py models --benchmark bench_v2=docs/results/bench_v2.json
