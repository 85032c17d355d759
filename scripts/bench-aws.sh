#!/usr/bin/env bash
# bench-aws.sh - the AWS front door beside the HTTP API and the disk, in one run.
#
#   scripts/bench-aws.sh [PICTURE]     (default: the first ../shared/corpus/jpeg-exif/*.jpg)
#
# 1. wrk (10 s, 32 connections, one thread; the HTTP peers' settings) on the 256 px thumbnail of PICTURE: first
#    through the HTTP API (GET /images/ID/thumbnails/256), then through a SigV4-presigned S3 GetObject URL (every
#    request checks a signature), three times each, alternating; the ratio of the medians.
# 2. `aws s3 cp` of a 200 MB JPEG into s3://uploads/ (multipart; until the CLI returns, i.e. the upload is checked
#    and stored as an original) beside `cp` of the same file on the same file system, 3 runs each, medians.
# Builds and uses a release picpipe in .build-aws-rel (or the binary PICPIPE_BENCH_BINARY names; a debug build is
# several times slower and not what the README's figures are), the AWS CLI in .build-venv (or
# PICPIPE_TEST_VENV), wrk and cjpeg (libjpeg-turbo-progs) from Debian. Not part of CI.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
picture="${1:-$(ls "$here"/../shared/corpus/jpeg-exif/*.jpg | head -n 1)}"
venv="${PICPIPE_TEST_VENV:-$here/.build-venv}"
aws="$venv/bin/aws"
[ -x "$aws" ] || { echo "no AWS CLI in $venv (python3 -m venv .build-venv && .build-venv/bin/pip install awscli)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
command -v cjpeg >/dev/null || { echo "cjpeg is missing (apt-get install libjpeg-turbo-progs)" >&2; exit 1; }

binary="${PICPIPE_BENCH_BINARY:-}"
if [ -z "$binary" ]; then
    (cd "$here" && swift build -c release --static-swift-stdlib --scratch-path .build-aws-rel --product picpipe >&2)
    binary="$here/.build-aws-rel/release/picpipe"
fi

work="$(mktemp -d)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http_port="$(free_port)"
aws_port="$(free_port)"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret AWS_DEFAULT_REGION=us-east-1
printf '[default]\ns3 =\n    signature_version = s3v4\n' > "$work/aws-config"
export AWS_CONFIG_FILE="$work/aws-config" AWS_SHARED_CREDENTIALS_FILE="$work/aws-config"
PICPIPE_LOG_LEVEL=warning PICPIPE_AWS_ACCESS_KEY_ID=bench PICPIPE_AWS_SECRET_ACCESS_KEY=bench-secret \
    "$binary" serve --store "$work/store" --listen "127.0.0.1:$http_port" --aws-listen "127.0.0.1:$aws_port" \
    2>"$work/serve.log" &
serve=$!
cleanup() { kill -TERM "$serve" 2>/dev/null || true; wait "$serve" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 200); do
    curl -fsS "http://127.0.0.1:$http_port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
S3="$aws --endpoint-url http://127.0.0.1:$aws_port"

id="$(curl -fsS -X POST -H 'Content-Type: image/jpeg' --data-binary "@$picture" "http://127.0.0.1:$http_port/images" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
http_url="http://127.0.0.1:$http_port/images/$id/thumbnails/256"
curl -fsS "$http_url" -o "$work/thumb.jpg"
key="$(cd "$work/store/thumbnails" && ls 256/*/"$id"* | head -n 1)"
s3_url="$($S3 s3 presign "s3://thumbnails/$key" --expires-in 3600)"
cmp "$work/thumb.jpg" <(curl -fsS "$s3_url") || { echo "the presigned URL does not give the same thumbnail" >&2; exit 1; }

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
if [ "${PICPIPE_BENCH_AWS_UPLOAD_ONLY:-}" != 1 ]; then
rate() { wrk -t1 -c32 -d10s "$1" | awk '/Requests\/sec/ {print $2}'; }
http_rates=(); s3_rates=()
for _ in 1 2 3; do
    http_rates+=("$(rate "$http_url")")
    s3_rates+=("$(rate "$s3_url")")
done
http_median="$(printf '%s\n' "${http_rates[@]}" | median)"
s3_median="$(printf '%s\n' "${s3_rates[@]}" | median)"
echo "thumbnail GET, requests/s: HTTP API ${http_rates[*]} (median $http_median); S3 presigned ${s3_rates[*]} (median $s3_median); S3/HTTP $(python3 -c "print(round($s3_median/$http_median, 2))")"

fi

# About 200 MB: a noise JPEG (incompressible: about 4 bytes a pixel at quality 100, no chroma subsampling), within
# the default limits (http.max_body_bytes 256 MiB, limits.max_pixels 100 M).
(printf 'P6\n8400 5800\n255\n'; head -c $((8400 * 5800 * 3)) /dev/urandom) | cjpeg -quality 100 -sample 1x1 > "$work/big.jpg"
size=$(stat -c %s "$work/big.jpg")
# The AWS CLI's own floor: the same `aws s3 cp` against a sink that reads and discards every body (no signature
# check, no hashing, no disk), so what remains is the client: reading the file, hashing and signing each part, HTTP.
sink_port="$(free_port)"
python3 "$here/scripts/bench-aws-sink.py" "$sink_port" &
sink=$!
trap 'kill "$sink" 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $sink_port))" 2>/dev/null && break
    sleep 0.1
done
seconds() { python3 -c "print(round($2 - $1, 3))"; }
cp_times=(); sink_times=(); s3_times=()
for run in 1 2 3; do
    echo "round $run: $(uptime)"
    start=$(date +%s.%N); cp "$work/big.jpg" "$work/copy-$run.jpg"; sync "$work/copy-$run.jpg"; end=$(date +%s.%N)
    cp_times+=("$(seconds "$start" "$end")")
    rm -f "$work/copy-$run.jpg"
    start=$(date +%s.%N)
    $aws --endpoint-url "http://127.0.0.1:$sink_port" s3 cp "$work/big.jpg" "s3://uploads/big-$run.jpg" --only-show-errors
    end=$(date +%s.%N)
    sink_times+=("$(seconds "$start" "$end")")
    start=$(date +%s.%N); $S3 s3 cp "$work/big.jpg" "s3://uploads/big-$run.jpg" --only-show-errors; end=$(date +%s.%N)
    s3_times+=("$(seconds "$start" "$end")")
    # The next round uploads new bytes (the JFIF header's density), so each is a new original, not a known one.
    printf "\\x$(printf '%02x' $((run + 1)))" | dd of="$work/big.jpg" bs=1 seek=15 conv=notrunc status=none
done
cp_median="$(printf '%s\n' "${cp_times[@]}" | median)"
sink_median="$(printf '%s\n' "${sink_times[@]}" | median)"
s3_median="$(printf '%s\n' "${s3_times[@]}" | median)"
ratio() { python3 -c "print(round($1 / $2, 3))"; }
echo "$((size / 1000000)) MB: cp ${cp_times[*]} s (median $cp_median); aws s3 cp to a discarding sink (the CLI's floor) ${sink_times[*]} s (median $sink_median); aws s3 cp to picpipe ${s3_times[*]} s (median $s3_median)"
echo "rate ratios: picpipe/cp $(ratio "$cp_median" "$s3_median"); sink/cp (the best any server can reach) $(ratio "$cp_median" "$sink_median"); picpipe/sink $(ratio "$sink_median" "$s3_median")"
echo "end: $(uptime)"
