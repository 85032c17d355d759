#!/usr/bin/env bash
# Formats benchmark: picpipe's WebP/AVIF output and HEIC input beside vipsthumbnail, and the bytes WebP and AVIF
# save against JPEG q82 at matched SSIM (scripts/bench-formats.py says how). Not part of CI.
# Usage: scripts/bench-formats.sh [IMAGES_DIR (default /tmp/bench-imgs)] [--runs N] [--part bytes|speed|all]
# Needs vipsthumbnail (libvips-tools), heif-enc, dwebp, avifdec, ImageMagick and python3 with numpy.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES=${1:-/tmp/bench-imgs}; shift || true
SHARED=${SHARED:-../shared}
if [ ! -f "$IMAGES/SHA256SUMS" ]; then "$SHARED/bench/make-images.sh" -j2 --real "$SHARED/corpus/jpeg-exif" "$IMAGES"; fi
swift build -c release --static-swift-stdlib --scratch-path .build-release --product picpipe
exec python3 scripts/bench-formats.py "$PWD/.build-release/release/picpipe" "$IMAGES/jpeg12" "$@"
