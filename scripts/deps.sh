#!/usr/bin/env bash
# Installs the system packages bsnn's tests and demo need on Debian.
# As root it runs apt-get; otherwise it prints the exact command and fails.
# Usage: scripts/deps.sh [test|demo|all]   (default: all)
set -euo pipefail

want=${1:-all}
# qemu-user-static: arm64 tests (NEON) under emulation.
# flatbuffers-compiler: regenerate the model schema code and check it is current.
# ffmpeg: video inputs of bsnn-run and their tests.
# dataset-fashion-mnist: Fashion-MNIST (MNIST comes in the Go module GoMNIST).
pkgs=(qemu-user-static flatbuffers-compiler ffmpeg dataset-fashion-mnist)
if [[ $want == all || $want == pyref ]]; then
	# The PyTorch reference that fixtures are regenerated with (not needed by tests).
	pkgs+=(python3-torch python3-torchvision)
fi

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if ((${#missing[@]} == 0)); then
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "bsnn: missing Debian packages: ${missing[*]}" >&2
	echo "bsnn: install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "bsnn: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
