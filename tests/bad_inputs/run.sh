#!/usr/bin/env bash
# The bad-input battery (issue "Hardening"): hostile IDX files, images, models, filter-weight
# files, checkpoints and image lists, generated at run time in a temporary directory, run
# through train, train --resume, eval, weights, heatmap and detect.
#
#   bash tests/bad_inputs/run.sh build/adgap        (ADGAP_MNIST=DIR: MNIST elsewhere)
#
# The project standard, checked for every case: a non-zero exit status below 128 (an error,
# not a signal), exactly one line on stderr and it names the offending file, the output
# directory as it was (no new file, every file there before byte for byte the same) and no
# *.tmp.* file left anywhere. detect's batches are the exception the CLI documents: an image
# that cannot be read costs that image, exit status 3, and the JSON document (`allow=`) still
# lists every image, the good ones with their results.
#
# Each case is one line of the table at the end: name | expectations | command.
#   names=PATH      the file the stderr line must name
#   status=N        this exit status exactly (default: any of 1..127)
#   allow=F[,F]     files in the output directory the command may write (detect's JSON)
#   good=IMG[,IMG]  images whose results must come out (in the JSON, and <stem>.detect.png)
#   ckpt=KIND       the output directory holds a trained run whose checkpoint.safetensors is damaged
#   skip_root       skipped when run as root (permissions do not stop root reading)
# The command runs with OUT set to the case's output directory, seeded with a trained run's
# files (model.safetensors, checkpoint.safetensors, eval.json, weights.json, ...) and a detections.json.
# Prints one line per case and "N of M refused cleanly"; exits 1 if any case failed, 77 if
# MNIST is missing (ctest's SKIP_RETURN_CODE), 2 if the battery could not be set up.
set -u

if [[ $# -ne 1 || ! -x $1 ]]; then
  echo "usage: $0 ADGAP_BINARY" >&2
  exit 2
fi
A=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MNIST=${ADGAP_MNIST:-$ROOT/data/mnist}
PY=/usr/bin/python3  # Debian's, with numpy (PIL optional: without it trunc.jpg is skipped)
[[ -x $PY ]] || PY=python3
if [[ ! -e $MNIST/train-images-idx3-ubyte && ! -e $MNIST/train-images-idx3-ubyte.gz ]]; then
  echo "skipped: no MNIST in $MNIST (scripts/fetch_mnist.sh fetches it)"
  exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/adgap-bad-inputs.XXXXXX")
cleanup() { chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
# shellcheck disable=SC2034  # used by the table's commands, through eval
I=$T/idx IMG=$T/img MOD=$T/model WTS_DIR=$T/wts LIST=$T/list RUN=$T/run

die() { echo "setup failed: $*" >&2; exit 2; }
"$PY" "$HERE/gen.py" data "$MNIST" "$T" || die "gen.py data"
chmod 000 "$I/unreadable/train-images-idx3-ubyte"
printf '%s\n' "$IMG/good1.png" "$IMG/missing.png" "$IMG/good2.png" > "$LIST/mixed.txt"
# A real model, checkpoint and weights file, trained here on the 600-image split (seconds).
"$A" train --data "$I/base" --out "$RUN" --epochs 1 --limit 600 --batch 100 --threads 1 \
  --quiet > "$T/setup.log" 2>&1 || die "train (see $T/setup.log)"
"$A" weights --model "$RUN/model.safetensors" --data "$I/base" --limit 600 --threads 1 \
  --out "$RUN/weights.json" >> "$T/setup.log" 2>&1 || die "weights"
echo '{"previous": "detections"}' > "$RUN/detections.json"
"$PY" "$HERE/gen.py" models "$RUN/model.safetensors" "$RUN/weights.json" "$T" || die "gen.py models"
M=$RUN/model.safetensors W=$RUN/weights.json

# The subcommands with this battery's settings (small, one thread); MODEL, WTS, DATA override.
TRAIN() { "$A" train --data "${DATA:-$I/base}" --out "$OUT" --epochs 1 --limit 600 --batch 100 \
  --threads 1 --quiet "$@"; }
RESUME() { "$A" train --data "$I/base" --out "$OUT" --epochs 2 --limit 600 --batch 100 \
  --threads 1 --quiet --resume "$@"; }
EVAL() { "$A" eval --model "${MODEL:-$M}" --data "${DATA:-$I/base}" --json "$OUT/eval.json" \
  --threads 1 "$@"; }
WEIGHTS() { "$A" weights --model "${MODEL:-$M}" --data "${DATA:-$I/base}" --limit 100 \
  --out "$OUT/weights.json" --threads 1 "$@"; }
HEATMAP() { "$A" heatmap --model "${MODEL:-$M}" --weights "${WTS:-$W}" --reader none \
  --out "$OUT" --threads 1 "$@"; }
DETECT() { "$A" detect --model "${MODEL:-$M}" --weights "${WTS:-$W}" --reader none \
  --out "$OUT" --threads 1 --workers 1 --scales 1 --quiet "$@"; }

# sha256 of every file under $1 but the allowed ones, as "hash  ./path" lines.
snapshot() {
  local skip=() f
  for f in "${allow[@]}"; do skip+=(-not -path "./$f"); done
  (cd "$1" && find . \( -type f -o -type l \) "${skip[@]}" -print0 | sort -z |
    xargs -0 -r sha256sum)
}

# JSON document $1 (detect's): an {"path", "error"} entry for $2, results for each of $3...
check_json() {
  "$PY" - "$@" <<'EOF'
import json, sys
doc, bad, good = sys.argv[1], sys.argv[2], sys.argv[3:]
try:
    entries = {e.get("path"): e for e in json.load(open(doc))["images"]}
except Exception as e:
    sys.exit("JSON unreadable: %s" % e)
problems = []
if "error" not in entries.get(bad, {}):
    problems.append("no error entry for " + bad)
for g in good:
    if g not in entries or "error" in entries[g] or "detections" not in entries[g]:
        problems.append("no result for " + g)
if problems:
    sys.exit("; ".join(problems))
EOF
}

passed=0 total=0 skipped=0 failed_names=()
run_case() {
  local name=$1 exp=$2 cmd=$3
  OUT=$T/out/$name
  local names="" status="" good=() ckpt="" skip_root="" tok
  allow=()
  mkdir -p "$OUT" && cp -p "$RUN"/* "$OUT"/
  for tok in $(eval "echo $exp"); do
    case $tok in
      names=*) names=${tok#names=} ;;
      status=*) status=${tok#status=} ;;
      allow=*) IFS=, read -r -a allow <<< "${tok#allow=}" ;;
      good=*) IFS=, read -r -a good <<< "${tok#good=}" ;;
      ckpt=*) ckpt=${tok#ckpt=} ;;
      skip_root) skip_root=1 ;;
      *) echo "bad expectation '$tok' in case $name" >&2; exit 2 ;;
    esac
  done
  local g stem
  for g in "${good[@]}"; do  # the good images' overlays are results, not leftovers
    stem=${g##*/}
    allow+=("${stem%.*}.detect.png")
  done
  if [[ -n $skip_root && $(id -u) -eq 0 ]]; then
    echo "skip  $name (running as root: permissions do not stop root reading)"
    skipped=$((skipped + 1)); rm -rf "$OUT"; return
  fi
  if [[ $names == "$IMG/trunc.jpg" && ! -e $names ]]; then
    echo "skip  $name (no PIL to write a real JPEG)"
    skipped=$((skipped + 1)); rm -rf "$OUT"; return
  fi
  [[ -n $ckpt ]] && "$PY" "$HERE/gen.py" ckpt "$ckpt" "$OUT/checkpoint.safetensors"
  total=$((total + 1))
  local before after rc problems=()
  before=$(snapshot "$OUT")
  (eval "$cmd") > "$T/stdout" 2> "$T/stderr" < /dev/null
  rc=$?
  after=$(snapshot "$OUT")
  local lines first
  lines=$(awk 'END { print NR }' "$T/stderr")
  first=$(head -n 1 "$T/stderr")
  if [[ -n $status ]]; then
    [[ $rc -eq $status ]] || problems+=("exit status $rc, expected $status")
  elif [[ $rc -eq 0 ]]; then
    problems+=("exit status 0 (accepted)")
  elif [[ $rc -ge 128 ]]; then
    problems+=("exit status $rc (killed by signal $((rc - 128)))")
  fi
  [[ $lines -eq 1 ]] || problems+=("$lines lines on stderr")
  if [[ $lines -ge 1 ]] && ! grep -qF -- "$names" "$T/stderr"; then
    problems+=("stderr does not name $names")
  fi
  if [[ $before != "$after" ]]; then
    local d
    d=$(diff <(echo "$before") <(echo "$after") | awk '/^[<>]/ { print $3 }' | sort -u |
      sed 's|^\./||' | head -n 6 | tr '\n' ' ')
    problems+=("output directory changed: ${d% }")
  fi
  local tmps
  tmps=$(find "$T" -name '*.tmp.*' 2>/dev/null | sed "s|^$T/||" | head -n 3 | tr '\n' ' ')
  [[ -z $tmps ]] || problems+=("temporary files left: ${tmps% }")
  if [[ ${#allow[@]} -gt 0 && -f $OUT/${allow[0]} && ${allow[0]} == *.json ]]; then
    local why
    why=$(check_json "$OUT/${allow[0]}" "$names" "${good[@]}" 2>&1) || problems+=("$why")
  elif [[ ${#allow[@]} -gt 0 ]]; then
    problems+=("no $OUT/${allow[0]}")
  fi
  for g in "${good[@]}"; do
    stem=${g##*/}
    [[ -f $OUT/${stem%.*}.detect.png ]] || problems+=("no ${stem%.*}.detect.png")
  done
  # The line as printed: the temporary directory shortened to $T.
  first=${first//$T/\$T}
  if [[ ${#problems[@]} -eq 0 ]]; then
    passed=$((passed + 1))
    echo "ok    $name: $first"
  else
    failed_names+=("$name")
    local p
    p=$(printf '%s; ' "${problems[@]}")
    echo "FAIL  $name: ${p%; } | stderr: $first"
  fi
  chmod -R u+rwx "$OUT" 2>/dev/null
  rm -rf "$OUT"
  find "$T" -name '*.tmp.*' -exec rm -rf {} + 2>/dev/null  # one case's leftovers, not the next's
}

# name | expectations | command
TABLE=$(cat <<'EOF'
idx_trunc_header         | names=$I/trunc_header/train-images-idx3-ubyte        | DATA=$I/trunc_header TRAIN
idx_short_header         | names=$I/short_header/train-images-idx3-ubyte        | DATA=$I/short_header TRAIN
idx_trunc_payload        | names=$I/trunc_payload/train-images-idx3-ubyte       | DATA=$I/trunc_payload TRAIN
idx_trailing_data        | names=$I/trailing/train-images-idx3-ubyte            | DATA=$I/trailing TRAIN
idx_wrong_magic          | names=$I/wrong_magic/train-images-idx3-ubyte         | DATA=$I/wrong_magic TRAIN
idx_wrong_magic_labels   | names=$I/wrong_magic_labels/train-labels-idx1-ubyte  | DATA=$I/wrong_magic_labels TRAIN
idx_absurd_count         | names=$I/absurd_count/train-images-idx3-ubyte        | DATA=$I/absurd_count TRAIN
idx_absurd_dims          | names=$I/absurd_dims/train-images-idx3-ubyte         | DATA=$I/absurd_dims TRAIN
idx_absurd_ndim          | names=$I/absurd_ndim/train-images-idx3-ubyte         | DATA=$I/absurd_ndim TRAIN
idx_labels_absurd_count  | names=$I/labels_absurd_count/train-labels-idx1-ubyte | DATA=$I/labels_absurd_count TRAIN
idx_zero_images          | names=$I/zero_images/train-images-idx3-ubyte         | DATA=$I/zero_images TRAIN
idx_zero_size            | names=$I/zero_size/train-images-idx3-ubyte           | DATA=$I/zero_size TRAIN
idx_count_mismatch       | names=$I/count_mismatch/train-labels-idx1-ubyte      | DATA=$I/count_mismatch TRAIN
idx_test_other_size      | names=$I/test_size/t10k-images-idx3-ubyte            | DATA=$I/test_size TRAIN
idx_test_truncated       | names=$I/test_trunc/t10k-images-idx3-ubyte           | DATA=$I/test_trunc TRAIN
idx_gz_truncated         | names=$I/gz_truncated/train-images-idx3-ubyte.gz     | DATA=$I/gz_truncated TRAIN
idx_gz_corrupt           | names=$I/gz_corrupt/train-images-idx3-ubyte.gz       | DATA=$I/gz_corrupt TRAIN
idx_gz_bad_isize         | names=$I/gz_isize/train-images-idx3-ubyte.gz         | DATA=$I/gz_isize TRAIN
idx_gz_bad_crc           | names=$I/gz_crc/train-images-idx3-ubyte.gz           | DATA=$I/gz_crc TRAIN
idx_gz_absurd_header     | names=$I/gz_absurd/train-images-idx3-ubyte.gz        | DATA=$I/gz_absurd TRAIN
idx_gz_bomb_64MiB        | names=$I/gz_bomb/train-images-idx3-ubyte.gz          | DATA=$I/gz_bomb TRAIN
idx_gz_not_gzip          | names=$I/gz_text/train-images-idx3-ubyte.gz          | DATA=$I/gz_text TRAIN
idx_directory            | names=$I/dir/train-images-idx3-ubyte                 | DATA=$I/dir TRAIN
idx_missing_labels       | names=$I/missing/train-labels-idx1-ubyte             | DATA=$I/missing TRAIN
idx_unreadable           | names=$I/unreadable/train-images-idx3-ubyte skip_root | DATA=$I/unreadable TRAIN
train_label_200          | names=$I/label_200/train-labels-idx1-ubyte           | DATA=$I/label_200 TRAIN
train_test_label_10      | names=$I/test_label_10/t10k-labels-idx1-ubyte        | DATA=$I/test_label_10 TRAIN
eval_test_label_10       | names=$I/test_label_10/t10k-labels-idx1-ubyte        | DATA=$I/test_label_10 EVAL
eval_test_other_size     | names=$I/test_size/t10k-images-idx3-ubyte            | DATA=$I/test_size EVAL
eval_test_truncated      | names=$I/test_trunc/t10k-images-idx3-ubyte           | DATA=$I/test_trunc EVAL
eval_train_gz_corrupt    | names=$I/gz_corrupt/train-images-idx3-ubyte.gz       | DATA=$I/gz_corrupt EVAL --split train
eval_train_missing_labels | names=$I/missing/train-labels-idx1-ubyte            | DATA=$I/missing EVAL --split train
weights_trunc_payload    | names=$I/trunc_payload/train-images-idx3-ubyte       | DATA=$I/trunc_payload WEIGHTS
weights_label_200        | names=$I/label_200/train-labels-idx1-ubyte           | DATA=$I/label_200 WEIGHTS
weights_zero_images      | names=$I/zero_images/train-images-idx3-ubyte         | DATA=$I/zero_images WEIGHTS
heatmap_empty_file       | names=$IMG/empty.png            | HEATMAP $IMG/empty.png
heatmap_truncated_png    | names=$IMG/trunc.png            | HEATMAP $IMG/trunc.png
heatmap_truncated_jpeg   | names=$IMG/trunc.jpg            | HEATMAP $IMG/trunc.jpg
heatmap_text_as_png      | names=$IMG/text.png             | HEATMAP $IMG/text.png
heatmap_png_bomb         | names=$IMG/bomb.png             | HEATMAP $IMG/bomb.png
heatmap_png_bomb_20k     | names=$IMG/bomb_under_limit.png | HEATMAP $IMG/bomb_under_limit.png
heatmap_png_0x0          | names=$IMG/zero.png             | HEATMAP $IMG/zero.png
heatmap_png_bad_crc      | names=$IMG/bad_crc.png          | HEATMAP $IMG/bad_crc.png
heatmap_jpeg_huge_sof    | names=$IMG/huge_sof.jpg         | HEATMAP $IMG/huge_sof.jpg
heatmap_jpeg_0x0_sof     | names=$IMG/zero_sof.jpg         | HEATMAP $IMG/zero_sof.jpg
heatmap_directory        | names=$IMG/dir.png              | HEATMAP $IMG/dir.png
heatmap_missing          | names=$IMG/missing.png          | HEATMAP $IMG/missing.png
heatmap_good_then_bad    | names=$IMG/trunc.png            | HEATMAP $IMG/good1.png $IMG/trunc.png
detect_empty_file        | names=$IMG/empty.png status=3 allow=detections.json            | DETECT $IMG/empty.png
detect_truncated_png     | names=$IMG/trunc.png status=3 allow=detections.json            | DETECT $IMG/trunc.png
detect_truncated_jpeg    | names=$IMG/trunc.jpg status=3 allow=detections.json            | DETECT $IMG/trunc.jpg
detect_png_bad_crc       | names=$IMG/bad_crc.png status=3 allow=detections.json          | DETECT $IMG/bad_crc.png
detect_jpeg_huge_sof     | names=$IMG/huge_sof.jpg status=3 allow=detections.json         | DETECT $IMG/huge_sof.jpg
detect_directory         | names=$IMG/dir.png status=3 allow=detections.json              | DETECT $IMG/dir.png
detect_batch_bad_png     | names=$IMG/trunc.png status=3 allow=detections.json good=$IMG/good1.png,$IMG/good2.png | DETECT $IMG/good1.png $IMG/trunc.png $IMG/good2.png
detect_batch_bomb        | names=$IMG/bomb.png status=3 allow=detections.json good=$IMG/good1.png,$IMG/good2.png  | DETECT $IMG/good1.png $IMG/bomb.png $IMG/good2.png
detect_batch_list        | names=$IMG/missing.png status=3 allow=detections.json good=$IMG/good1.png,$IMG/good2.png | DETECT --list $LIST/mixed.txt
detect_batch_jsonl       | names=$IMG/text.png status=3 allow=detections.json,d.jsonl good=$IMG/good1.png,$IMG/good2.png | DETECT --jsonl $OUT/d.jsonl $IMG/good1.png $IMG/text.png $IMG/good2.png
list_missing             | names=$LIST/missing.txt  | DETECT --list $LIST/missing.txt
list_directory           | names=$LIST/dir.txt      | DETECT --list $LIST/dir.txt
list_binary_garbage      | names=$LIST/garbage.txt  | DETECT --list $LIST/garbage.txt
eval_model_empty         | names=$MOD/empty.pt      | MODEL=$MOD/empty.pt EVAL
eval_model_truncated     | names=$MOD/truncated.pt  | MODEL=$MOD/truncated.pt EVAL
eval_model_random        | names=$MOD/random.pt     | MODEL=$MOD/random.pt EVAL
eval_model_json          | names=$MOD/json.pt       | MODEL=$MOD/json.pt EVAL
eval_model_zip           | names=$MOD/zip.pt        | MODEL=$MOD/zip.pt EVAL
eval_model_flip_middle   | names=$MOD/flip_mid.pt   | MODEL=$MOD/flip_mid.pt EVAL
eval_model_flip_end      | names=$MOD/flip_end.pt   | MODEL=$MOD/flip_end.pt EVAL
eval_model_directory     | names=$MOD/dir.pt        | MODEL=$MOD/dir.pt EVAL
eval_model_missing       | names=$MOD/missing.pt    | MODEL=$MOD/missing.pt EVAL
weights_model_truncated  | names=$MOD/truncated.pt  | MODEL=$MOD/truncated.pt WEIGHTS
weights_model_zip        | names=$MOD/zip.pt        | MODEL=$MOD/zip.pt WEIGHTS
weights_model_flip_middle | names=$MOD/flip_mid.pt  | MODEL=$MOD/flip_mid.pt WEIGHTS
heatmap_model_empty      | names=$MOD/empty.pt      | MODEL=$MOD/empty.pt HEATMAP $IMG/good1.png
heatmap_model_random     | names=$MOD/random.pt     | MODEL=$MOD/random.pt HEATMAP $IMG/good1.png
heatmap_model_flip_middle | names=$MOD/flip_mid.pt  | MODEL=$MOD/flip_mid.pt HEATMAP $IMG/good1.png
detect_model_empty       | names=$MOD/empty.pt      | MODEL=$MOD/empty.pt DETECT $IMG/good1.png
detect_model_zip         | names=$MOD/zip.pt        | MODEL=$MOD/zip.pt DETECT $IMG/good1.png
detect_model_flip_middle | names=$MOD/flip_mid.pt   | MODEL=$MOD/flip_mid.pt DETECT $IMG/good1.png
detect_reader_random     | names=$MOD/random.pt     | DETECT --reader $MOD/random.pt $IMG/good1.png
heatmap_weights_empty    | names=$WTS_DIR/empty.json         | WTS=$WTS_DIR/empty.json HEATMAP $IMG/good1.png
heatmap_weights_not_json | names=$WTS_DIR/not_json.json      | WTS=$WTS_DIR/not_json.json HEATMAP $IMG/good1.png
heatmap_weights_wrong_types | names=$WTS_DIR/wrong_types.json | WTS=$WTS_DIR/wrong_types.json HEATMAP $IMG/good1.png
heatmap_weights_array    | names=$WTS_DIR/array.json         | WTS=$WTS_DIR/array.json HEATMAP $IMG/good1.png
heatmap_weights_wrong_shape | names=$WTS_DIR/wrong_shape.json | WTS=$WTS_DIR/wrong_shape.json HEATMAP $IMG/good1.png
heatmap_weights_8_filters | names=$WTS_DIR/other_filters.json | WTS=$WTS_DIR/other_filters.json HEATMAP $IMG/good1.png
heatmap_weights_overflow | names=$WTS_DIR/overflow.json      | WTS=$WTS_DIR/overflow.json HEATMAP $IMG/good1.png
heatmap_weights_missing  | names=$WTS_DIR/missing.json       | WTS=$WTS_DIR/missing.json HEATMAP $IMG/good1.png
detect_weights_empty     | names=$WTS_DIR/empty.json         | WTS=$WTS_DIR/empty.json DETECT $IMG/good1.png
detect_weights_wrong_shape | names=$WTS_DIR/wrong_shape.json | WTS=$WTS_DIR/wrong_shape.json DETECT $IMG/good1.png
detect_weights_8_filters | names=$WTS_DIR/other_filters.json | WTS=$WTS_DIR/other_filters.json DETECT $IMG/good1.png
resume_ckpt_truncated    | names=$OUT/checkpoint.safetensors ckpt=truncate | RESUME
resume_ckpt_flipped_byte | names=$OUT/checkpoint.safetensors ckpt=flip     | RESUME
resume_ckpt_random       | names=$OUT/checkpoint.safetensors ckpt=random   | RESUME
resume_ckpt_empty        | names=$OUT/checkpoint.safetensors ckpt=empty    | RESUME
EOF
)

while IFS='|' read -r name exp cmd; do
  name=$(echo $name)
  [[ -z $name || $name == \#* ]] && continue
  run_case "$name" "$exp" "$cmd"
done <<< "$TABLE"

echo "$passed of $total refused cleanly$([[ $skipped -gt 0 ]] && echo " ($skipped skipped)")"
if [[ ${#failed_names[@]} -gt 0 ]]; then
  echo "failed: ${failed_names[*]}"
  exit 1
fi
