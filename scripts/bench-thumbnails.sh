#!/usr/bin/env bash
# Thumbnail benchmark: picpipe batch beside vipsthumbnail, Pillow, ImageMagick and djpeg, same files, same run.
# Usage: scripts/bench-thumbnails.sh [IMAGES_DIR] [extra peers.sh options...]
# Needs the peers (see ../shared/bench/README.md) and the image set (made here when missing). Not part of CI.
# Then the progressive set: the jpeg12 photos through `jpegtran -progressive` (libjpeg-turbo-progs), in
# IMAGES_DIR-progressive, measured as its own run (peers.sh names a folder of loose files "all").
# SCRATCH (default .build-release) is the release build's scratch folder.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES=${1:-/tmp/bench-imgs}; shift || true
SHARED=${SHARED:-../shared}
SCRATCH=${SCRATCH:-.build-release}
if [ ! -f "$IMAGES/SHA256SUMS" ]; then "$SHARED/bench/make-images.sh" -j2 --real "$SHARED/corpus/jpeg-exif" "$IMAGES"; fi
PROGRESSIVE="$IMAGES-progressive"
if [ ! -d "$PROGRESSIVE" ] || [ "$(ls "$PROGRESSIVE" | wc -l)" -ne "$(ls "$IMAGES/jpeg12" | wc -l)" ]; then
  mkdir -p "$PROGRESSIVE"
  for file in "$IMAGES"/jpeg12/*.jpg; do
    jpegtran -progressive -copy all -outfile "$PROGRESSIVE/$(basename "$file")" "$file"
  done
fi
swift build -c release --static-swift-stdlib --scratch-path "$SCRATCH" --product picpipe
export BIN=$PWD/$SCRATCH/release/picpipe
# One worker, like the peers (--threads 1); then -j 2 for the scaling figure.
PICPIPE=(--add picpipe '"$BIN" batch "$IN_DIR" --store "$OUT_DIR" -j 1 --sizes "$SIZE" --quality "$QUALITY" -q'
  --add picpipe-j2 '"$BIN" batch "$IN_DIR" --store "$OUT_DIR" -j 2 --sizes "$SIZE" --quality "$QUALITY" -q')
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# picpipe-libjpeg-entropy: the same binary with libjpeg-turbo's Huffman decoder, as before picpipe's own (session 16).
"$SHARED/bench/peers.sh" --only thumb "${PICPIPE[@]}" \
  --add picpipe-libjpeg-entropy 'PICPIPE_BENCH_JPEG_LIBJPEG_ENTROPY=1 "$BIN" batch "$IN_DIR" --store "$OUT_DIR" -j 1 --sizes "$SIZE" --quality "$QUALITY" -q' \
  "$@" "$IMAGES"
echo "== progressive jpeg12 ($PROGRESSIVE); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# picpipe-all-scans: the same binary reading every scan, as before the early stop (the "today" figure).
"$SHARED/bench/peers.sh" --only thumb "${PICPIPE[@]}" \
  --add picpipe-all-scans 'PICPIPE_BENCH_JPEG_ALL_SCANS=1 "$BIN" batch "$IN_DIR" --store "$OUT_DIR" -j 1 --sizes "$SIZE" --quality "$QUALITY" -q' \
  "$@" "$PROGRESSIVE"
