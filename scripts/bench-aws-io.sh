#!/usr/bin/env bash
# bench-aws-io.sh - what serve reads, writes and computes for one `aws s3 cp` of a big picture (no clock involved:
# byte counts from /proc/PID/io, CPU seconds from /proc/PID/stat), so builds and loaded machines compare.
#
#   scripts/bench-aws-io.sh BINARY PICTURE
#
# Starts BINARY serve on a fresh store, uploads PICTURE with the AWS CLI in .build-venv (or PICPIPE_TEST_VENV),
# prints serve's rchar/wchar/write_bytes (MB) and CPU before and after the upload returns. Not part of CI.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
binary="$1"; picture="$2"
aws="${PICPIPE_TEST_VENV:-$here/.build-venv}/bin/aws"
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret AWS_DEFAULT_REGION=us-east-1
printf '[default]\ns3 =\n    signature_version = s3v4\n' > "$work/aws-config"
export AWS_CONFIG_FILE="$work/aws-config" AWS_SHARED_CREDENTIALS_FILE="$work/aws-config"
PICPIPE_LOG_LEVEL=warning PICPIPE_AWS_ACCESS_KEY_ID=bench PICPIPE_AWS_SECRET_ACCESS_KEY=bench-secret \
    "$binary" serve --store "$work/store" --listen 127.0.0.1:0 --aws-listen "127.0.0.1:$port" 2>"$work/serve.log" &
serve=$!
trap 'kill "$serve" 2>/dev/null || true; wait "$serve" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.2; done
io() {
    awk '/^(rchar|wchar|write_bytes)/ {printf "%s %d MB, ", $1, $2 / 1000000}' "/proc/$serve/io"
    awk '{printf "cpu %.2f s\n", ($14 + $15) / 100}' "/proc/$serve/stat"
}
echo "before: $(io)"
start=$(date +%s.%N)
"$aws" --endpoint-url "http://127.0.0.1:$port" s3 cp "$picture" s3://uploads/big.jpg --only-show-errors
end=$(date +%s.%N)
echo "after the upload ($(python3 -c "print(round($end - $start, 1))") s; $(uptime | sed 's/.*load/load/')): $(io)"
