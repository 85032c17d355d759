#!/usr/bin/env bash
# Metadata benchmark: picpipe metadata (default, and with --hash to fill sha256) beside exiftool, exiv2, exif, exifread and
# a bare C loop over libexif, on the same page-cached JPEG list, in the same run.
# Usage: scripts/bench-metadata.sh [IMAGES_DIR] [extra peers.sh options...]
# Needs the peers (see ../shared/bench/README.md) and the image set (made here when missing). Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES=${1:-/tmp/bench-imgs}; shift || true
SHARED=${SHARED:-../shared}
if [ ! -f "$IMAGES/SHA256SUMS" ]; then "$SHARED/bench/make-images.sh" -j2 --real "$SHARED/corpus/jpeg-exif" "$IMAGES"; fi
swift build -c release --static-swift-stdlib --scratch-path .build-meta-rel --product picpipe
export BIN=$PWD/.build-meta-rel/release/picpipe
"$SHARED/bench/peers.sh" --only meta \
  --add-meta picpipe 'xargs -d "\n" -a "$FILE_LIST" "$BIN" metadata > /dev/null' \
  --add-meta picpipe-hash 'xargs -d "\n" -a "$FILE_LIST" "$BIN" metadata --hash > /dev/null' \
  "$@" "$IMAGES"
