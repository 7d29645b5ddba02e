#!/usr/bin/env bash
# Scale-out on Dask: adgap.dask.detect_paths over the same images on a LocalCluster of one
# worker process and of two, one thread each (set_num_threads(1) in each worker), alternating,
# ROUNDS rounds (default 3). Each cluster is started and every worker has loaded the model
# before the clock starts; the time is detect_paths' (scheduling, detection, gathering in
# order). Checks the results equal a serial run's. Writes docs/results/dask_scale.md.
# Usage: bench/dask_scale.sh [ROUNDS] [MODEL]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
model=${2:-models/model.safetensors}
N_SCENES=24 source bench/python_images.sh
/usr/bin/python3 bench/dask_scale.py "$model" "$tmp" "$rounds"
