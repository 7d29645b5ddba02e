#!/usr/bin/env bash
# Crash-anywhere training: kills `adgap train` with SIGKILL at random moments (half of them the
# moment a temporary file appears, i.e. during a checkpoint, report or model write), resumes
# each time with --resume until the run finishes, and checks that the final model.safetensors is
# byte-identical to an uninterrupted run's, and that no temporary file is left behind.
#
#   bash tests/kill_resume/run.sh ADGAP_BINARY [TRIALS] [SEED]
#
# A run that finishes before its first kill is not counted and is redone.
# Data: the first 1,200 training and 200 test images of data/mnist (written to a scratch
# directory), 12 epochs of batch 100 on one thread: a run takes a couple of seconds, most of it
# in writes, so kills land in every phase.
set -euo pipefail
ADGAP=$(realpath "${1:?usage: run.sh ADGAP_BINARY [TRIALS] [SEED]}")
TRIALS=${2:-50}
RANDOM=${3:-1}
cd "$(dirname "$0")/../.."
MNIST=$PWD/data/mnist
WORK=$(mktemp -d "${TMPDIR:-/tmp}/adgap-kill.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

/usr/bin/python3 - "$MNIST" "$WORK/data" <<'PY'
import os, struct, sys
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst)
for split, n in (("train", 1200), ("t10k", 200)):
    for kind, dims in (("images-idx3-ubyte", 3), ("labels-idx1-ubyte", 1)):
        with open(f"{src}/{split}-{kind}", "rb") as f:
            head = f.read(4 + 4 * dims)
            shape = struct.unpack(">%dI" % dims, head[4:])
            per = 1
            for d in shape[1:]:
                per *= d
            body = f.read(n * per)
        with open(f"{dst}/{split}-{kind}", "wb") as f:
            f.write(head[:4] + struct.pack(">I", n) + head[8:] + body)
PY

ARGS=(train --data "$WORK/data" --epochs 12 --batch 100 --threads 1 --seed 3 --quiet)
train() {  # train OUT [--resume]
  "$ADGAP" "${ARGS[@]}" --out "$1" "${@:2}" >/dev/null 2>>"$WORK/stderr"
}

start=$(date +%s%3N)
train "$WORK/ref"
ref_ms=$(( $(date +%s%3N) - start ))
echo "uninterrupted run: $ref_ms ms"

identical=0 kills=0 in_write=0 trial=0 redone=0
while (( trial < TRIALS )); do
  trial=$((trial + 1))
  out="$WORK/t$trial"
  notes=""
  resumes=0
  # Up to three kills a trial, then a run to the end.
  for k in 1 2 3; do
    # A simple command in the background: $! is adgap itself (not a subshell around it).
    "$ADGAP" "${ARGS[@]}" --out "$out" --resume >/dev/null 2>>"$WORK/stderr" &
    pid=$!
    if (( (trial + k) % 2 == 0 )); then
      # Targeted: the moment a temporary file appears (a write in progress).
      deadline=$(( $(date +%s) + 20 ))
      while kill -0 "$pid" 2>/dev/null && ! compgen -G "$out/*.tmp.$pid" >/dev/null; do
        (( $(date +%s) < deadline )) || break
      done
    else
      ms=$(( (RANDOM * 32768 + RANDOM) % (ref_ms * 4 / 5) ))
      sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    fi
    if kill -9 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null || true
      kills=$((kills + 1))
      tmp=$(compgen -G "$out/*.tmp.$pid" | head -1 || true)
      if [[ -n "$tmp" ]]; then
        in_write=$((in_write + 1))
        notes+=" kill $k mid-write ($(basename "$tmp"))"
      else
        notes+=" kill $k"
      fi
    else
      wait "$pid" || { echo "FAIL trial $trial: train exited with an error"; cat "$WORK/stderr"; exit 1; }
      notes+=" (finished before kill $k)"
      break
    fi
    resumes=$((resumes + 1))
    (( RANDOM % 3 == 0 )) && break
  done
  if (( resumes == 0 )); then  # the run finished before the first kill: not a trial
    echo "(run $trial finished before it could be killed: not counted, redone)"
    trial=$((trial - 1)) redone=$((redone + 1))
    (( redone <= TRIALS )) || { echo "FAIL: runs keep finishing before the kill"; exit 1; }
    rm -rf "$out"
    continue
  fi
  train "$out" --resume || { echo "FAIL trial $trial: resume failed"; tail -3 "$WORK/stderr"; exit 1; }
  if cmp -s "$WORK/ref/model.safetensors" "$out/model.safetensors"; then
    identical=$((identical + 1))
    verdict=identical
  else
    verdict=DIFFERENT
  fi
  left=$(compgen -G "$out/*.tmp.*" || true)
  [[ -z "$left" ]] || verdict+=" (temporary files left: $left)"
  echo "trial $trial:$notes; resumed $resumes time(s); model.safetensors $verdict"
  rm -rf "$out"
done
echo "$identical of $TRIALS killed-and-resumed runs ended with a model.safetensors byte-identical to the uninterrupted run's ($kills kills, $in_write of them during a write)"
[[ $identical -eq $TRIALS ]]
