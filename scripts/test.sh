#!/usr/bin/env bash
# The README's second command (and CI's): installs what is needed, fetches MNIST, builds,
# and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/fetch_mnist.sh
bash scripts/build.sh
ctest --test-dir build --output-on-failure
