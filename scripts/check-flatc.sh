#!/usr/bin/env bash
# Keeps model/internal/fb (committed, generated) in step with
# model/schema/bsnn.fbs.
#
#   scripts/check-flatc.sh       regenerate into a temp dir, fail on any diff (CI)
#   scripts/check-flatc.sh -w    regenerate in place (what `go generate ./model/` runs)
#
# The code is made by Debian's flatc (package flatbuffers-compiler) and then
# gofmt'ed, so `gofmt -l` stays clean. model/internal/fb/GENERATED records the
# flatc version and the schema's SHA-256. With a different flatc version the
# generated text may legitimately differ, so the check then falls back to the
# schema hash (stale code is still caught) and says so.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
schema="$root/model/schema/bsnn.fbs"
dest="$root/model/internal"

if ! command -v flatc >/dev/null; then
	echo "check-flatc: flatc not found; install it with: sudo apt-get install -y flatbuffers-compiler" >&2
	exit 1
fi
gofmt="$(go env GOROOT)/bin/gofmt"
flatc_version=$(flatc --version | awk '{print $NF}')
schema_sum=$(sha256sum <"$schema" | cut -d' ' -f1)

# gen DIR: writes DIR/fb.
gen() {
	rm -rf "$1/fb"
	mkdir -p "$1"
	flatc --go --go-namespace fb -o "$1" "$schema"
	"$gofmt" -w "$1/fb"
	printf '# Written by scripts/check-flatc.sh from model/schema/bsnn.fbs. DO NOT EDIT.\nflatc %s\nschema-sha256 %s\n' \
		"$flatc_version" "$schema_sum" >"$1/fb/GENERATED"
}

if [[ ${1:-} == -w ]]; then
	gen "$dest"
	exit 0
fi
if [[ $# -ne 0 ]]; then
	echo "usage: scripts/check-flatc.sh [-w]" >&2
	exit 2
fi

stamp="$dest/fb/GENERATED"
if [[ ! -f $stamp ]]; then
	echo "check-flatc: $stamp is missing; run: go generate ./model/" >&2
	exit 1
fi
committed_version=$(awk '$1 == "flatc" {print $2}' "$stamp")
if [[ $committed_version != "$flatc_version" ]]; then
	committed_sum=$(awk '$1 == "schema-sha256" {print $2}' "$stamp")
	echo "check-flatc: warning: committed code was made by flatc $committed_version, this is flatc $flatc_version;" \
		"checking the schema hash only" >&2
	if [[ $committed_sum != "$schema_sum" ]]; then
		echo "check-flatc: model/schema/bsnn.fbs changed since model/internal/fb was generated; run: go generate ./model/" >&2
		exit 1
	fi
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gen "$tmp"
if ! diff -ru "$dest/fb" "$tmp/fb"; then
	echo "check-flatc: model/internal/fb is stale; run: go generate ./model/" >&2
	exit 1
fi
