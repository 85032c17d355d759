#!/usr/bin/env bash
# bench-http.sh - picpipe's thumbnail route against nginx serving the very same thumbnail file, in one run.
#
#   scripts/bench-http.sh [IMGDIR]     (default /tmp/bench-imgs; uses the first IMGDIR/jpeg12/*.jpg)
#
# Starts `serve` on a temporary store and a free loopback port, uploads the picture, makes its 256 thumbnail with
# one GET, copies that thumbnail's bytes into an nginx root (1 worker, sendfile, open_file_cache: nginx at its
# fastest for a static file), then for 32 and 256 connections, with keep-alive and with `Connection: close`, runs
# wrk (1 thread, WRK_SECONDS each, default 10) ROUNDS times (default 3), nginx and picpipe alternating, and prints
# each one's median requests/s and p99 and the ratios picpipe/nginx. Same serving threads on both sides:
# PICPIPE_EVENT_LOOPS=1 (picpipe's default is one per core) against nginx's 1 worker (NGINX_WORKERS, default 1).
# Uses a release picpipe built in .build-http-rel, or PICPIPE_BENCH_BINARY. Needs nginx (nginx-light) and wrk.
# Not part of CI.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
images="${1:-/tmp/bench-imgs}"
rounds="${ROUNDS:-3}"
seconds="${WRK_SECONDS:-10}"
picture="$(ls "$images"/jpeg12/*.jpg 2>/dev/null | head -n 1 || true)"
[ -n "$picture" ] || picture="$(ls "$here"/../shared/corpus/jpeg-exif/*.jpg | head -n 1)"
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }
nginx="$(command -v nginx || echo /usr/sbin/nginx)"
[ -x "$nginx" ] || { echo "nginx is missing (apt-get install nginx-light)" >&2; exit 1; }

binary="${PICPIPE_BENCH_BINARY:-}"
if [ -z "$binary" ]; then
    (cd "$here" && swift build -c release --static-swift-stdlib --scratch-path .build-http-rel --product picpipe >&2)
    binary="$here/.build-http-rel/release/picpipe"
fi

work="$(mktemp -d)"
chmod 755 "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

port="$(free_port)"
PICPIPE_LOG_LEVEL=warning "$binary" serve --store "$work/store" --listen "127.0.0.1:$port" 2>"$work/serve.log" &
pids+=($!)
for _ in $(seq 1 200); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.05
done
id="$(curl -fsS -X POST -H 'Content-Type: image/jpeg' --data-binary "@$picture" "http://127.0.0.1:$port/images" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
url="http://127.0.0.1:$port/images/$id/thumbnails/256"
mkdir -p "$work/nginx/www" "$work/nginx/tmp" "$work/nginx/logs"
curl -fsS "$url" -o "$work/nginx/www/thumb.jpg"
chmod -R a+rX "$work/nginx"
bytes="$(stat -c %s "$work/nginx/www/thumb.jpg")"

nginx_port="$(free_port)"
nginx_workers="${NGINX_WORKERS:-1}"
cat > "$work/nginx/nginx.conf" <<EOF
worker_processes $nginx_workers;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_timeout 65; keepalive_requests 1000000;
  open_file_cache max=100 inactive=60s;
  client_body_temp_path $work/nginx/tmp/body; proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi; uwsgi_temp_path $work/nginx/tmp/uwsgi; scgi_temp_path $work/nginx/tmp/scgi;
  types { image/jpeg jpg; }
  server { listen 127.0.0.1:$nginx_port backlog=4096; root $work/nginx/www; location / { } }
}
EOF
"$nginx" -p "$work/nginx" -e "$work/nginx/logs/error.log" -c "$work/nginx/nginx.conf" -g 'daemon off;' \
    >"$work/nginx/logs/stdout.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$nginx_port/thumb.jpg" -o /dev/null 2>/dev/null && break; sleep 0.05; done
cmp -s <(curl -fsS "http://127.0.0.1:$nginx_port/thumb.jpg") "$work/nginx/www/thumb.jpg" \
    || { echo "nginx does not serve the thumbnail" >&2; exit 1; }
echo "thumbnail $bytes bytes; picpipe $url; nginx http://127.0.0.1:$nginx_port/thumb.jpg; wrk -t1 ${seconds}s, $rounds rounds; picpipe event loops ${PICPIPE_EVENT_LOOPS:-one per core} (PICPIPE_EVENT_LOOPS), nginx $nginx_workers worker(s) (NGINX_WORKERS); load $(cut -d' ' -f1-3 /proc/loadavg)"

# wrk_once URL CONNS KEEPALIVE(yes|no) -> "requests/s p99_ms errors"
wrk_once() {
    local extra=() out
    [ "$3" = no ] && extra=(-H "Connection: close")
    out="$(wrk -t1 -c"$2" -d"${seconds}s" --latency "${extra[@]}" "$1" 2>&1)"
    awk '
        /^Requests\/sec:/ { rps = $2 }
        $1 == "99%" { v = $2; u = v; sub(/[a-z]+$/, "", v); sub(/^[0-9.]+/, "", u)
                      p99 = v * ((u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : 1) }
        /Non-2xx|Socket errors/ { errors = errors $0 " " }
        END { printf "%s %s %s\n", rps, p99, (errors == "" ? "-" : "errors") }' <<<"$out"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for conns in 32 256; do
    for keepalive in yes no; do
        n_rps=(); n_p99=(); p_rps=(); p_p99=(); note=""
        for round in $(seq 1 "$rounds"); do
            read -r r p e <<<"$(wrk_once "http://127.0.0.1:$nginx_port/thumb.jpg" "$conns" "$keepalive")"
            n_rps+=("$r"); n_p99+=("$p"); [ "$e" = "-" ] || note="$note nginx:$e"
            read -r r p e <<<"$(wrk_once "$url" "$conns" "$keepalive")"
            p_rps+=("$r"); p_p99+=("$p"); [ "$e" = "-" ] || note="$note picpipe:$e"
        done
        nr="$(printf '%s\n' "${n_rps[@]}" | median)"; np="$(printf '%s\n' "${n_p99[@]}" | median)"
        pr="$(printf '%s\n' "${p_rps[@]}" | median)"; pp="$(printf '%s\n' "${p_p99[@]}" | median)"
        printf '%3s connections, keep-alive %-3s: nginx %9.0f req/s p99 %6.2f ms | picpipe %9.0f req/s p99 %6.2f ms | req/s %.2fx, p99 %.2fx%s\n' \
            "$conns" "$keepalive" "$nr" "$np" "$pr" "$pp" "$(echo "$pr / $nr" | bc -l)" "$(echo "$pp / $np" | bc -l)" "$note"
        echo "    rounds (req/s): nginx ${n_rps[*]} | picpipe ${p_rps[*]}"
        echo "    rounds (p99 ms): nginx ${n_p99[*]} | picpipe ${p_p99[*]}"
    done
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
