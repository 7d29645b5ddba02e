#!/usr/bin/env bash
# The issue's accuracy bar: trains the paper's defaults (10 epochs, batch 300, Adam) for each
# seed given (default 0 1 2) and reports test accuracy, seconds per epoch and images per
# second. Writes docs/results/accuracy_seeds.{json,md}. Usage: bench/accuracy_seeds.sh [SEED...]
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=("$@")
((${#seeds[@]})) || seeds=(0 1 2)
bash scripts/fetch_mnist.sh >/dev/null
[[ -x build/adgap ]] || bash scripts/build.sh
for s in "${seeds[@]}"; do
  echo "seed $s"
  ./build/adgap train --seed "$s" --out "runs/seed-$s" --quiet 2>&1 | grep -E '^test accuracy|^mean over'
done
/usr/bin/python3 - "${seeds[@]}" <<'PY'
import json, sys
rows = []
for s in sys.argv[1:]:
    t = json.load(open(f"runs/seed-{s}/train.json"))
    ev = json.load(open(f"runs/seed-{s}/eval.json"))
    ep = t["epochs"]
    rows.append({"seed": int(s), "test_accuracy": ev["accuracy"],
                 "seconds_per_epoch": sum(e["seconds"] for e in ep) / len(ep),
                 "images_per_second": sum(e["images_per_second"] for e in ep) / len(ep)})
accs = [r["test_accuracy"] for r in rows]
res = {"runs": rows, "mean_test_accuracy": sum(accs) / len(accs), "min_test_accuracy": min(accs)}
json.dump(res, open("docs/results/accuracy_seeds.json", "w"), indent=2)
md = ["| seed | test accuracy | s / epoch | images / s |", "|---:|---:|---:|---:|"]
md += [f"| {r['seed']} | {100*r['test_accuracy']:.2f} % | {r['seconds_per_epoch']:.1f} | "
       f"{r['images_per_second']:.0f} |" for r in rows]
md.append(f"| mean | {100*res['mean_test_accuracy']:.2f} % | | |")
open("docs/results/accuracy_seeds.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
