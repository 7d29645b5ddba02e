#!/usr/bin/env bash
# Remakes adgap's own models, models/, from MNIST and Debian's packages alone:
#   model.safetensors, weights.json   the paper's network (Table 1, Adam, batch 300, 10 epochs,
#                                     seed 0) and its filter weights (paper Eq. 1, with the CAM
#                                     baseline's classifier)
#   reader/model.safetensors          the reader (16-32-128-84, digits + "not a digit"), two
#                                     rounds of crops mined on benchmark v2's train split
#   reader/first/, verifier/, letters/  the first reader, the verifier, the letter reader
# Trains into runs/models/ (a killed run leaves models/ as it was; run again to start over),
# then replaces models/ and writes models/MANIFEST.json: each file's SHA-256 and size, the
# commands, the commit and the seed. The benchmark figures in the manifest are added by
# bench/models_bench.sh, measured with exactly these files.
# Time on two cores: the whole recipe took 33 minutes on two AVX-512 cores (adgap's own
# kernels; then with 10 verifier epochs); on a 2-core AMD EPYC without AVX-512 (LibTorch's layers, one thread, the other core
# busy) its parts took: the paper's network 2.5 min, round 1 of the reader 41 min (mining 11,
# 10 epochs 30), round 2 about 62 min (mining 17, 10 epochs 45), the verifier 58 min (mining 13,
# 3 epochs of 15; it mines 481,444 crops); the letter reader's time was not recorded
# (models/MANIFEST.json says what was run). The verifier trains 3 epochs: on 60 v2 tune scenes
# its first and third epochs gave the same reading F1 (0.860, 0.856).
# Usage: bash scripts/train_models.sh [--threads N]   (N: intra-op threads, default 0 = one per core)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=0
if [[ ${1:-} == --threads ]]; then threads=${2:?--threads needs a number}; fi
bash scripts/deps.sh
bash scripts/fetch_mnist.sh
bash scripts/build.sh

work=runs/models
rm -rf "$work"
A=./build/adgap
cmds=(
  "train --out $work --seed 0 --threads $threads"
  "weights --model $work/model.safetensors --cam --threads $threads"
  "train-reader --model $work/model.safetensors --widths 16,32,128,84 --rounds 2 --first-stage --verifier --verifier-epochs 3 --letters --threads $threads"
)
start=$(date +%s)
for c in "${cmds[@]}"; do
  echo "== adgap $c"
  # shellcheck disable=SC2086  # each command's words
  $A $c
done
seconds=$(($(date +%s) - start))

new=models.new
rm -rf "$new"
files=(model.safetensors weights.json reader/model.safetensors reader/first/model.safetensors
       reader/verifier/model.safetensors reader/letters/model.safetensors)
for f in "${files[@]}"; do
  mkdir -p "$new/$(dirname "$f")"
  cp "$work/$f" "$new/$f"
done
[[ -f models/README.md ]] && cp models/README.md "$new/README.md"
args=()
for c in "${cmds[@]}"; do args+=(--command "adgap $c"); done
/usr/bin/python3 scripts/models_manifest.py "$new" --seed 0 --seconds "$seconds" "${args[@]}"
rm -rf models.old
[[ -d models ]] && mv models models.old
mv "$new" models
rm -rf models.old
echo "models/: remade in $seconds s (models/MANIFEST.json)"
