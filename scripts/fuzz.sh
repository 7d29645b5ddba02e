#!/usr/bin/env bash
# Fuzzes one of adgap's file parsers with libFuzzer (clang, address and undefined-behaviour
# sanitizers): fuzz/<target>.cpp, built in build-fuzz/ from fuzz/CMakeLists.txt.
#
# Usage: bash scripts/fuzz.sh TARGET SECONDS [libFuzzer args...]
#        bash scripts/fuzz.sh all SECONDS [libFuzzer args...]   (each target in turn)
# Targets: idx image model checkpoint weights_json annotations jsonl.
#
# Each run starts from a fresh copy of the committed seeds (fuzz/corpus/TARGET and
# fuzz/regressions/TARGET) in build-fuzz/corpus/TARGET, where new inputs go; fuzz/ is never
# written. Crash, timeout and out-of-memory inputs go to build-fuzz/findings/TARGET/, the full
# log to build-fuzz/logs/TARGET.log. Prints libFuzzer's final statistics; exits non-zero on a
# finding. Installs clang, libFuzzer's runtime and adgap's libraries when missing (Debian 12).
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(idx image model checkpoint weights_json annotations jsonl)
usage() {
  echo "usage: bash scripts/fuzz.sh TARGET|all SECONDS [libFuzzer args...]" >&2
  echo "targets: ${targets[*]}" >&2
  exit 2
}
[[ $# -ge 2 ]] || usage
target=$1
seconds=$2
shift 2
[[ $seconds =~ ^[0-9]+$ ]] || usage
if [[ $target != all && ! " ${targets[*]} " =~ " $target " ]]; then usage; fi

# Largest input per target (-max_len): the model seeds hold a trained Table 1 model (430 KB).
declare -A max_len=([idx]=16384 [image]=65536 [model]=500000 [checkpoint]=65536
                    [weights_json]=65536 [annotations]=65536 [jsonl]=65536)
timeout_s=30    # one input slower than this is a finding
rss_limit_mb=2048

[[ $target == all ]] && run=("${targets[@]}") || run=("$target")

# Tools and libraries, then the build; ADGAP_FUZZ_NO_BUILD=1 runs build-fuzz/ as it is.
build() {
  missing=()
  command -v clang++ >/dev/null || missing+=(clang)
  # libFuzzer's runtime, clang's OpenMP (LibTorch's inline parallel loops), and
  # llvm-symbolizer for readable sanitizer reports.
  for p in libclang-rt-14-dev libomp-14-dev llvm-14; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "fuzz: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  bash scripts/deps.sh

  # Build (niced, two jobs: the machines are shared).
  if [[ ! -f build-fuzz/build.ninja ]]; then
    nice -n 10 cmake -S fuzz -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++
  fi
  nice -n 10 cmake --build build-fuzz -j2 --target "${run[@]/#/fuzz_}"
}
[[ ${ADGAP_FUZZ_NO_BUILD:-0} == 1 ]] || build

# A leak in LibTorch's archive reader (fuzz/lsan.supp says which) is not reported; undefined
# behaviour is reported with its stack.
export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# adgap accepts images of up to 2^30 pixels by design (gigabytes from a small file, over the
# fuzzer's memory limit): OpenCV's decoders are held to 2^24 here. OpenCV reads this when it is
# loaded, so it cannot be set from inside the targets.
export OPENCV_IO_MAX_IMAGE_PIXELS=16777216

fuzz_one() {
  local t=$1
  shift
  local work=build-fuzz/corpus/$t findings=build-fuzz/findings/$t log=build-fuzz/logs/$t.log
  rm -rf "$work"
  mkdir -p "$work" "$findings" build-fuzz/logs
  cp fuzz/corpus/"$t"/* "$work"/
  if [[ -d fuzz/regressions/$t ]] && compgen -G "fuzz/regressions/$t/*" >/dev/null; then
    cp fuzz/regressions/"$t"/* "$work"/
  fi
  echo "fuzz: $t for ${seconds} s on $(ls "$work" | wc -l) seeds (log: $log)"
  local rc=0
  nice -n 10 build-fuzz/fuzz_"$t" -max_total_time="$seconds" -max_len="${max_len[$t]}" \
    -timeout="$timeout_s" -rss_limit_mb="$rss_limit_mb" -print_final_stats=1 \
    -artifact_prefix="$findings/" "$@" "$work" >"$log" 2>&1 || rc=$?
  # The last status line (executions, cov:, ft:, corpus, exec/s) and the final statistics.
  grep -E '^#[0-9]+' "$log" | tail -n 1
  grep -E '^(stat::|Done [0-9]+ runs)' "$log" || true
  echo "fuzz: $t: corpus $(ls "$work" | wc -l) files, $(cat "$work"/* | wc -c) bytes"
  if ((rc == 72)); then  # libFuzzer's -interrupted_exitcode: stopped by a signal, no finding
    echo "fuzz: $t: interrupted" >&2
    return "$rc"
  elif ((rc != 0)); then
    echo "fuzz: $t: FINDING (exit $rc); report below, inputs in $findings/" >&2
    grep -n -E 'ERROR|SUMMARY|runtime error|Test unit written|^    #[0-9]' "$log" | head -n 40 >&2
    return "$rc"
  fi
}

status=0
for t in "${run[@]}"; do
  fuzz_one "$t" "$@" || status=1
done
exit $status
