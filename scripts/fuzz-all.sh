#!/usr/bin/env bash
# Runs every fuzz harness for SECONDS each (scripts/fuzz.sh) and prints one table: executions, speed, coverage and
# findings per harness. Exit status 1 when any harness found something.
#
#   scripts/fuzz-all.sh SECONDS [harness...]
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] && [[ "$1" =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz-all.sh SECONDS [harness...]" >&2; exit 2; }
seconds=$1
shift
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(JPEGThumbnail PNGThumbnail WebPThumbnail GIFThumbnail HEIFThumbnail ExifMetadata MultipartUpload RequestParameters AWSSignature RawRequestHead)

summaries=()
found=0
for harness in "${harnesses[@]}"; do
    echo "== $harness (${seconds}s)" >&2
    line="$(./scripts/fuzz.sh "$harness" "$seconds" | tee /dev/stderr | grep '^FUZZ-SUMMARY' | tail -1)"
    [ -n "$line" ] || line="FUZZ-SUMMARY target=$harness seconds=$seconds execs=0 rate=0 cov=0 ft=0 corpus=0 crashes=? leaks=? timeouts=? ooms=? status=build-failed"
    summaries+=("$line")
    case "$line" in *status=0) ;; *) found=1 ;; esac
done

field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
printf '\n%-18s %12s %8s %6s %7s %7s %8s %6s %9s %5s\n' harness executions exec/s cov ft corpus crashes leaks timeouts ooms
for line in "${summaries[@]}"; do
    printf '%-18s %12s %8s %6s %7s %7s %8s %6s %9s %5s\n' "$(field "$line" target)" "$(field "$line" execs)" \
        "$(field "$line" rate)" "$(field "$line" cov)" "$(field "$line" ft)" "$(field "$line" corpus)" \
        "$(field "$line" crashes)" "$(field "$line" leaks)" "$(field "$line" timeouts)" "$(field "$line" ooms)"
done
exit $found
