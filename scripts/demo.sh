#!/usr/bin/env bash
# The README's first command: installs what is needed, fetches and verifies MNIST, builds,
# makes the Python package importable (`import adgap` in /usr/bin/python3), and runs the demo
# on defaults (output in runs/demo/). Extra arguments go to `adgap demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/fetch_mnist.sh
bash scripts/build.sh
bash scripts/install_python.sh  # `import adgap` in /usr/bin/python3
./build/adgap demo "$@"
