#!/usr/bin/env bash
# The README's second command (and CI's): installs what is needed, fetches MNIST, builds,
# and runs the whole test suite: the C++ tests (ctest), then the Python package's (pytest, on
# Debian's /usr/bin/python3 with the package from build/python).
#
# Usage: bash scripts/test.sh              # the above (build/)
#        bash scripts/test.sh --sanitize   # the C++ tests under ASan + UBSan (build-asan/)
#
# --sanitize builds the library, the CLI and the C++ tests with g++'s AddressSanitizer
# (with LeakSanitizer) and UndefinedBehaviorSanitizer into build-asan/ and runs ctest there,
# with the runtime options and third-party suppressions of scripts/sanitizers/. Any report
# fails the run. The Python tests are not run in this mode: /usr/bin/python3 and NumPy are
# not instrumented, and loading an ASan-built extension module into them needs the runtime
# LD_PRELOADed and reports the interpreter's own allocations, not adgap's.
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize() {
  bash scripts/deps.sh
  bash scripts/fetch_mnist.sh
  local flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
  # The tests are listed when ctest starts (PRE_TEST), not after each link: listing runs the
  # instrumented executables, which must do so with the sanitizer options below.
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DADGAP_BUILD_PYTHON=OFF -DCMAKE_CXX_COMPILER=g++ \
    -DCMAKE_CXX_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE=PRE_TEST >/dev/null
  cmake --build build-asan -j 2
  # shellcheck source=scripts/sanitizers/env.sh
  . scripts/sanitizers/env.sh
  ctest --test-dir build-asan --output-on-failure
}

case "${1:-}" in
  --sanitize)
    sanitize
    exit 0
    ;;
  "") ;;
  *)
    echo "usage: bash scripts/test.sh [--sanitize]" >&2
    exit 2
    ;;
esac

bash scripts/deps.sh
bash scripts/fetch_mnist.sh
bash scripts/build.sh
ctest --test-dir build --output-on-failure
PYTHONPATH="$PWD/build/python${PYTHONPATH:+:$PYTHONPATH}" \
  /usr/bin/python3 -m pytest python/tests -p no:cacheprovider -q -rs
