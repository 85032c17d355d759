#!/usr/bin/env bash
# The progressive early stop by itself, without a Swift release build: CJPEGShims compiled with cc beside a small
# harness (scripts/bench/progressive-decode.c) decodes each file stopping early and reading every scan, interleaved,
# ROUNDS times; prints CPU ms per file, the ratio and the lowest PSNR between the two.
# Usage: scripts/bench-progressive-decode.sh [DIR (default /tmp/bench-imgs-progressive)] [ROUNDS (default 3)]
# Needs gcc and libjpeg-dev. The set is made by scripts/bench-thumbnails.sh (jpegtran -progressive of jpeg12).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-/tmp/bench-imgs-progressive}
ROUNDS=${2:-3}
BIN=$(mktemp -d)/progressive-decode
trap 'rm -rf "$(dirname "$BIN")"' EXIT
cc -O2 -ISources/CJPEGShims/include scripts/bench/progressive-decode.c Sources/CJPEGShims/CJPEGShims.c \
  $(pkg-config --cflags --libs libjpeg) -lm -o "$BIN"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for denominator in 8; do
  for round in $(seq "$ROUNDS"); do "$BIN" "$denominator" "$DIR"/*.jpg; done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
