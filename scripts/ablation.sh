#!/usr/bin/env bash
# Runs the Fashion-MNIST AGMM ablation (issue 4, item 7) with bsnn-train study:
# variants {no AGMM SGD, AGMM SGD, no AGMM Adam, AGMM Adam, no AGMM SGD with
# the binary layers' learning rate scaled by AGMM's measured gradient factor}
# × 3 seeds, the same budget each. Every run saves its results when it
# finishes; run the script again (same arguments) to resume after Ctrl-C.
#
# Usage: scripts/ablation.sh [DIR] [extra bsnn-train study flags...]
#   DIR defaults to runs/ablation. Examples:
#   scripts/ablation.sh runs/ablation -epochs 10 -threads 2
#   scripts/ablation.sh runs/quick -epochs 1 -train-n 2000 -test-n 1000 -seeds 1
#   scripts/ablation.sh runs/ablation -summary-only
# Results: DIR/summary.md, DIR/summary.csv, DIR/study-*.png, DIR/VARIANT/seedN/.
set -euo pipefail

cd "$(dirname "$0")/.."
dir=${1:-runs/ablation}
shift || true
mkdir -p "$dir"
go build -o "$dir/bsnn-train" ./tools/bsnn-train
exec "$dir/bsnn-train" study -dir "$dir" -data fashion -epochs 5 -seeds 1,2,3 "$@"
