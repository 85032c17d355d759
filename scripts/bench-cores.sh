#!/usr/bin/env bash
# How far two cores go: `picpipe batch -j 2` against `-j 1`, and, in the same run, the machine's own ceiling for the
# same work: the djpeg -scale 1/8 decode floor run as one loop over the files against two loops over half each.
# A ratio of picpipe's under the floor's is picpipe's to close; the floor's own ratio is what the machine (shared
# caches, memory bandwidth, a virtual CPU's sibling) allows any program.
#
#   scripts/bench-cores.sh [IMAGES_DIR] [extra peers.sh options, e.g. -r 5 --sets jpeg12,jpeg24]
#
# Needs the peers of ../shared/bench/peers.sh (hyperfine, time, libjpeg-turbo-progs) and the image set
# (../shared/bench/make-images.sh). BIN is the binary (default: a release build in SCRATCH, .build-release).
# Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES=${1:-/tmp/bench-imgs}; shift || true
SHARED=${SHARED:-../shared}
if [ -z "${BIN:-}" ]; then
    SCRATCH=${SCRATCH:-.build-release}
    swift build -c release --static-swift-stdlib --scratch-path "$SCRATCH" --product picpipe
    BIN=$PWD/$SCRATCH/release/picpipe
fi
export BIN
# djpeg-x2: peers.sh's own djpeg-1/8 loop (decode only, to /dev/null), with the list split in two halves, each
# decoded by its own loop, both at once. peers.sh notes "made 0 of N files" beside it: it writes no thumbnails.
DJPEG_LOOP='while IFS= read -r f; do djpeg -scale 1/8 -outfile /dev/null "$f" || exit 1; done'
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$SHARED/bench/peers.sh" --only thumb --tools djpeg-1/8 --sets jpeg12 \
    --add picpipe-j1 '"$BIN" batch "$IN_DIR" --store "$OUT_DIR" -j 1 --sizes "$SIZE" --quality "$QUALITY" -q' \
    --add picpipe-j2 '"$BIN" batch "$IN_DIR" --store "$OUT_DIR" -j 2 --sizes "$SIZE" --quality "$QUALITY" -q' \
    --add djpeg-x2 "n=\$(wc -l < \"\$FILE_LIST\"); head -n \$((n / 2)) \"\$FILE_LIST\" | { $DJPEG_LOOP; } &
tail -n +\$((n / 2 + 1)) \"\$FILE_LIST\" | { $DJPEG_LOOP; }; wait" \
    "$@" "$IMAGES"
