#!/usr/bin/env bash
# The batch check of `adgap detect`: N generated scenes (default 1000) with BROKEN unreadable
# files among them (default 10), in one `detect --list` run. Checks N results, BROKEN error
# records and exit status 3, and that each result equals the image run alone (a sample of 20,
# each in its own process). Then the per-image speed against a reference build of adgap
# (REF_BIN, e.g. the previous commit's build/adgap), both run side by side on the same N
# images, alternating, three rounds each; and whether the reference's results are the same.
# Usage: bench/batch_detect.sh [N] [BROKEN] [REF_BIN]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
broken=${2:-10}
ref=${3:-}
model=${MODEL:-models/model.safetensors}
[[ -x build/adgap ]] || bash scripts/build.sh
[[ -f "$model" ]] || ./build/adgap demo >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

./build/adgap scenes --count "$n" --seed 7000000 --out "$tmp/img" >/dev/null
ls "$tmp"/img/scene-*.png | sort > "$tmp/good.txt"
# The list: the good images with BROKEN bad files spread through it (truncated PNGs, text,
# missing files).
/usr/bin/python3 - "$tmp" "$broken" <<'PY'
import os, sys
tmp, broken = sys.argv[1], int(sys.argv[2])
good = open(f"{tmp}/good.txt").read().split()
out, step = [], max(1, len(good) // max(1, broken))
bad = 0
for i, p in enumerate(good):
    out.append(p)
    if bad < broken and i % step == step // 2:
        b = f"{tmp}/img/bad-{bad}.png"
        if bad % 3 == 0:
            open(b, "wb").write(open(p, "rb").read()[:200])  # cut short
        elif bad % 3 == 1:
            open(b, "w").write("not an image\n")
        # else: the file does not exist
        out.append(b)
        bad += 1
open(f"{tmp}/list.txt", "w").write("\n".join(out) + "\n")
PY

set +e
./build/adgap detect --model "$model" --list "$tmp/list.txt" --jsonl "$tmp/batch.jsonl" \
  --json "$tmp/batch.json" --out "$tmp/out" 2> "$tmp/stderr.txt" >/dev/null
code=$?
set -e
# Each of a sample of 20 images (good and bad) alone, in its own process.
: > "$tmp/alone.jsonl"
/usr/bin/python3 -c "
import sys; lines = open('$tmp/list.txt').read().split()
step = max(1, len(lines) // 20)
print('\n'.join(lines[::step][:20]))" > "$tmp/sample.txt"
while read -r p; do
  ./build/adgap detect --model "$model" --quiet --no-images --jsonl "$tmp/one.jsonl" \
    --json "$tmp/one.json" "$p" >/dev/null 2>&1 || true
  cat "$tmp/one.jsonl" >> "$tmp/alone.jsonl"
done < "$tmp/sample.txt"
/usr/bin/python3 - "$tmp" "$n" "$broken" "$code" <<'PY'
import json, sys
tmp, n, broken, code = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = [json.loads(l) for l in open(f"{tmp}/batch.jsonl")]
ok = [r for r in rows if "error" not in r]
err = [r for r in rows if "error" in r]
doc = json.load(open(f"{tmp}/batch.json"))
by_path = {r["path"]: r for r in rows}
alone = [json.loads(l) for l in open(f"{tmp}/alone.jsonl")]
same = sum(by_path[a["path"]] == a for a in alone)
stderr_errors = sum(1 for l in open(f"{tmp}/stderr.txt") if l.startswith("adgap detect: "))
print(f"batch: {len(rows)} records ({len(ok)} results, {len(err)} errors), exit status {code}, "
      f"{len(doc['images'])} images in --json, {stderr_errors} error lines on stderr")
print(f"batch: {same} of {len(alone)} sampled images equal to the image run alone")
good = len(ok) == n and len(err) == broken and code == 3 and same == len(alone) \
    and stderr_errors == broken and len(doc["images"]) == n + broken
print("batch: " + ("PASS" if good else "FAIL"))
sys.exit(0 if good else 1)
PY

[[ -n "$ref" ]] || { echo "speed: no reference binary given (third argument)"; exit 0; }
# Speed: the same N good images, each binary writing its JSON and detection PNGs as it does by
# default; wall time per image, three alternating rounds, the median of each.
args=(--model "$model" --out "$tmp/sp")
declare -a t_new t_ref
for round in 1 2 3; do
  s=$EPOCHREALTIME
  "$ref" detect "${args[@]}" --json "$tmp/ref.json" $(cat "$tmp/good.txt") >/dev/null 2>&1
  t_ref+=("$s:$EPOCHREALTIME")
  s=$EPOCHREALTIME
  ./build/adgap detect "${args[@]}" --quiet --json "$tmp/new.json" --list "$tmp/good.txt" \
    >/dev/null 2>&1
  t_new+=("$s:$EPOCHREALTIME")
done
/usr/bin/python3 - "$tmp" "$n" "${t_ref[*]}" "${t_new[*]}" <<'PY'
import json, statistics, sys
tmp, n = sys.argv[1], int(sys.argv[2])
def spans(arg):
    return sorted(round(float(b) - float(a), 2) for a, b in (p.split(":") for p in arg.split()))
t_ref, t_new = spans(sys.argv[3]), spans(sys.argv[4])
r, w = statistics.median(t_ref), statistics.median(t_new)
def digits_only(i):  # a reference from before numbers existed has detections only
    return {k: v for k, v in i.items() if k != "numbers"}
ref = {i["path"]: digits_only(i) for i in json.load(open(f"{tmp}/ref.json"))["images"]}
new = {i["path"]: digits_only(i) for i in json.load(open(f"{tmp}/new.json"))["images"]}
same = sum(ref[p] == new.get(p) for p in ref)
print(f"speed: reference {r / n * 1000:.1f} ms/image, this build {w / n * 1000:.1f} ms/image "
      f"(medians of 3 rounds: {t_ref} vs {t_new} s); ratio reference/this {r / w:.2f}")
print(f"speed: {same} of {len(ref)} images with the same results in both")
PY
