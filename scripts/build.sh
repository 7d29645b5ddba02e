#!/usr/bin/env bash
# Configures and builds adgap (Release) into build/. Two jobs: each LibTorch translation unit
# needs about a gigabyte of memory to compile.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j 2
