#!/usr/bin/env bash
# Runs the on-device fine-tuning scenario (issue 4, item 8) with bsnn-train
# scenario: take the MNIST model (MODEL, or train one into DIR/base, resumable),
# make a shifted MNIST domain (digits rotated by 30° by default), fine-tune on
# 2,000 images for 2 epochs at batch 4 in a child process, and report the shifted test accuracy
# before and after, the wall time and the peak RSS.
#
# Usage: scripts/finetune-scenario.sh [DIR] [extra bsnn-train scenario flags...]
#   DIR defaults to runs/scenario. Examples:
#   scripts/finetune-scenario.sh runs/scenario -model mnist.bsnn
#   scripts/finetune-scenario.sh runs/scenario -shift invert -threads 1
#   scripts/finetune-scenario.sh runs/quick -base-epochs 1 -n 500 -epochs 1 -test-n 2000
# Results: DIR/scenario.md, DIR/scenario.json, DIR/finetune/, DIR/finetuned.bsnn.
set -euo pipefail

cd "$(dirname "$0")/.."
dir=${1:-runs/scenario}
shift || true
mkdir -p "$dir"
go build -o "$dir/bsnn-train" ./tools/bsnn-train
exec "$dir/bsnn-train" scenario -dir "$dir" "$@"
