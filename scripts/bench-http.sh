#!/usr/bin/env bash
# bench-http.sh - picpipe's thumbnail route against nginx serving a thumbnail of the same kind, in one run.
#
#   scripts/bench-http.sh [IMGDIR]     (default /tmp/bench-imgs; uses IMGDIR/jpeg12/*.jpg)
#
# Builds a release picpipe (own scratch path), starts `serve` on a temporary store and a free loopback port,
# uploads the first jpeg12 picture over HTTP, makes its 256 thumbnail with one GET, then runs
#   ../shared/bench/peers.sh --only http --add-url picpipe http://127.0.0.1:PORT/images/ID/thumbnails/256
# (wrk, 10 s, 32 connections, nginx on loopback in the same run) and stops serve.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
images="${1:-/tmp/bench-imgs}"
peers="${PEERS:-$here/../shared/bench/peers.sh}"
picture="$(ls "$images"/jpeg12/*.jpg | head -n 1)"
[ -f "$picture" ] || { echo "no pictures in $images/jpeg12 (run shared/bench/make-images.sh)" >&2; exit 1; }

cd "$here"
swift build -c release --scratch-path .build-http-rel --product picpipe >&2
binary="$here/.build-http-rel/release/picpipe"

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
PICPIPE_LOG_LEVEL=warning "$binary" serve --store "$work/store" --listen "127.0.0.1:$port" 2>"$work/serve.log" &
serve=$!
cleanup() { kill -TERM "$serve" 2>/dev/null || true; wait "$serve" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

for _ in $(seq 1 200); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
id="$(curl -fsS -X POST -H 'Content-Type: image/jpeg' --data-binary "@$picture" "http://127.0.0.1:$port/images" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
url="http://127.0.0.1:$port/images/$id/thumbnails/256"
bytes="$(curl -fsS "$url" | wc -c)"
echo "picpipe thumbnail: $url ($bytes bytes)" >&2

"$peers" --only http --add-url picpipe "$url" "$images"
