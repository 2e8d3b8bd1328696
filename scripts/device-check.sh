#!/usr/bin/env bash
# Device check: on a machine with a CUDA GPU, run every model-backed recipe and transform on
# tiny random models in float32 and float16, compare them with the CPU run, and print batched
# vs one-at-a-time throughput ratios (see scripts/device_check.py). Without a GPU it says so
# and exits 0. Not part of `make test`.
#
#   scripts/device-check.sh                  # on a CUDA machine
#   scripts/device-check.sh --device cpu     # the same comparisons on the CPU (checks the script)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
export CROSSAUG_NO_PROGRESS=1
exec "$PYTHON" scripts/device_check.py "$@"
