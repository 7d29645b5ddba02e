#!/usr/bin/env bash
# The README's second command (and CI's): installs what is needed, fetches MNIST, builds,
# and runs the whole test suite: the C++ tests (ctest), then the Python package's (pytest, on
# Debian's /usr/bin/python3 with the package from build/python).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/fetch_mnist.sh
bash scripts/build.sh
ctest --test-dir build --output-on-failure
PYTHONPATH="$PWD/build/python${PYTHONPATH:+:$PYTHONPATH}" \
  /usr/bin/python3 -m pytest python/tests -p no:cacheprovider -q -rs
