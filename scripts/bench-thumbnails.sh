#!/usr/bin/env bash
# Thumbnail benchmark: picpipe batch beside vipsthumbnail, Pillow, ImageMagick and djpeg, same files, same run.
# Usage: scripts/bench-thumbnails.sh [IMAGES_DIR] [extra peers.sh options...]
# Needs the peers (see ../shared/bench/README.md) and the image set (made here when missing). Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES=${1:-/tmp/bench-imgs}; shift || true
SHARED=${SHARED:-../shared}
if [ ! -f "$IMAGES/SHA256SUMS" ]; then "$SHARED/bench/make-images.sh" -j2 --real "$SHARED/corpus/jpeg-exif" "$IMAGES"; fi
swift build -c release --scratch-path .build-release --product picpipe
export BIN=$PWD/.build-release/release/picpipe
# One worker, like the peers (--threads 1); then -j 2 for the scaling figure.
"$SHARED/bench/peers.sh" --only thumb \
  --add picpipe '"$BIN" batch "$IN_DIR" --store "$OUT_DIR" -j 1 --sizes "$SIZE" --quality "$QUALITY" -q' \
  --add picpipe-j2 '"$BIN" batch "$IN_DIR" --store "$OUT_DIR" -j 2 --sizes "$SIZE" --quality "$QUALITY" -q' \
  "$@" "$IMAGES"
