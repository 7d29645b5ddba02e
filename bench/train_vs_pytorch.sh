#!/usr/bin/env bash
# Training speed and accuracy of adgap against the same recipe in Debian's python3-torch,
# run side by side in one command on the same machine (the only honest speed figure on a
# shared machine is a ratio). Usage: bench/train_vs_pytorch.sh [EPOCHS] [SEED]
# Writes docs/results/train_vs_pytorch.json and prints a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-2}
seed=${2:-0}
dpkg-query -W -f='${Status}' python3-torch 2>/dev/null | grep -q "ok installed" ||
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch; }
bash scripts/fetch_mnist.sh >/dev/null
[[ -x build/adgap ]] || bash scripts/build.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export OPENBLAS_NUM_THREADS=1  # the same BLAS setting adgap applies to itself

echo "python3-torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), $epochs epochs, seed $seed"
/usr/bin/python3 bench/reference_train.py --epochs "$epochs" --seed "$seed" --threads 2 | tee "$out/py.log"
./build/adgap train --epochs "$epochs" --seed "$seed" --threads 2 --out "$out/adgap" 2>&1 |
  grep -E '^epoch|threads'

/usr/bin/python3 - "$out/py.log" "$out/adgap/train.json" <<'PY'
import json, os, sys
py = [json.loads(l) for l in open(sys.argv[1]) if '"summary"' in l][0]
ad = json.load(open(sys.argv[2]))
ips = sum(e["images_per_second"] for e in ad["epochs"]) / len(ad["epochs"])
res = {"epochs": len(ad["epochs"]),
       "adgap_images_per_second": ips,
       "pytorch_images_per_second": py["images_per_second"],
       "speed_ratio_adgap_over_pytorch": ips / py["images_per_second"],
       "adgap_test_accuracy": ad["epochs"][-1]["test_accuracy"],
       "pytorch_test_accuracy": py["test_accuracy"]}
os.makedirs("docs/results", exist_ok=True)
with open("docs/results/train_vs_pytorch.json", "w") as f:
    json.dump(res, f, indent=2)
print(f"adgap {ips:.0f} img/s vs python3-torch {py['images_per_second']:.0f} img/s: "
      f"ratio {res['speed_ratio_adgap_over_pytorch']:.2f}; test accuracy "
      f"{100*res['adgap_test_accuracy']:.2f} % vs {100*res['pytorch_test_accuracy']:.2f} %")
PY
