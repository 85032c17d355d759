#!/usr/bin/env bash
# bench-auth.sh - what checking credentials and usage plans cost the thumbnail route (wrk, in one run).
#
#   scripts/bench-auth.sh [PICPIPE_BINARY] [SECONDS] [ROUNDS]   (default .build/debug/picpipe, 5 s, 3 rounds)
#
# Starts the test OIDC issuer (scripts/oidc-test-issuer.py, PyJWT in .build-venv) and two serves with
# protect_reads on (so every GET is checked and the route runs): one without usage plans, one whose plan admits
# everything (rate and burst 1e9, so the limiter runs on every request and never refuses). Uploads one picture,
# makes its 256 thumbnail, then, ROUNDS times, runs wrk (2 threads, 32 connections, SECONDS each) on:
#   key    GET thumbnail with an API key                  (serve without plans)
#   jwt    GET thumbnail with an RS256 JWT                (serve without plans)
#   plan   GET thumbnail with the API key, limiter on     (serve with the plan)
# and prints each run's requests/s, the medians, jwt/key and plan/key.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
binary="$(realpath "${1:-$here/.build/debug/picpipe}")"
seconds="${2:-5}"
rounds="${3:-3}"
python="$here/.build-venv/bin/python"
picture="$(ls "$here"/../shared/corpus/jpeg-exif/*.jpg 2>/dev/null | head -n 1 || true)"
[ -n "$picture" ] || picture="$here/Fixtures/fuzz/JPEGThumbnail/accepted-shrink-8.jpg"
key="bench-key-0123456789abcdef"

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

"$python" "$here/scripts/oidc-test-issuer.py" "$work/issuer.port" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$work/issuer.port" ] && break; sleep 0.1; done
issuer="http://127.0.0.1:$(cat "$work/issuer.port")"
token="$(curl -fsS -X POST "$issuer/mint" -d '{"claims": {"scope": "images:read"}, "expires_in": 3600}')"

# Starts a serve in this shell (not a subshell, so cleanup can stop it) and sets $address once it listens.
start_serve() { # NAME PLAN_YAML
    local name=$1 plan=$2
    cat > "$work/$name.yaml" <<YAML
http:
  api_keys: [$key]
  protect_reads: true
auth:
  usage_plan: $plan
  oidc: {issuer: "$issuer", audience: picpipe-api}
YAML
    PICPIPE_CONFIG="$work/$name.yaml" PICPIPE_LOG_LEVEL=info PICPIPE_LISTEN=127.0.0.1:0 \
        "$binary" serve --store "$work/$name-store" > "$work/$name.log" 2>&1 < /dev/null &
    pids+=($!)
    for _ in $(seq 1 600); do grep -q "http listening" "$work/$name.log" && break; sleep 0.1; done
    address="$(grep -o '127.0.0.1:[0-9]*' "$work/$name.log" | tail -1)"
    [ -n "$address" ] || { echo "serve ($name) did not start:" >&2; cat "$work/$name.log" >&2; exit 1; }
}
start_serve plain '{rate: 0}'
plain="$address"
start_serve planned '{rate: 1000000000, burst: 1000000000}'
planned="$address"

thumbnail() { # ADDRESS
    local id
    id="$(curl -fsS -X POST -H "Authorization: Bearer $key" -H 'Content-Type: image/jpeg' --data-binary "@$picture" \
        "http://$1/images" | "$python" -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
    curl -fsS -o /dev/null -H "Authorization: Bearer $key" "http://$1/images/$id/thumbnails/256"
    echo "http://$1/images/$id/thumbnails/256"
}
plain_url="$(thumbnail "$plain")"
planned_url="$(thumbnail "$planned")"
curl -fsS -o /dev/null -H "Authorization: Bearer $token" "$plain_url"   # the JWKS fetched before measuring

measure() { # URL CREDENTIAL
    wrk -t2 -c32 -d"${seconds}s" -H "Authorization: Bearer $2" "$1" | awk '/Requests\/sec/ {print $2}'
}
declare -a keys jwts plans
for round in $(seq 1 "$rounds"); do
    keys+=("$(measure "$plain_url" "$key")")
    jwts+=("$(measure "$plain_url" "$token")")
    plans+=("$(measure "$planned_url" "$key")")
    echo "round $round: key ${keys[-1]}  jwt ${jwts[-1]}  plan ${plans[-1]} requests/s  (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
k="$(median "${keys[@]}")"; j="$(median "${jwts[@]}")"; p="$(median "${plans[@]}")"
echo "binary $binary, wrk -t2 -c32 -d${seconds}s, $rounds rounds, load average $(cut -d' ' -f1-3 /proc/loadavg), medians (requests/s):"
echo "  API key          $k"
echo "  RS256 JWT        $j   jwt/key  $(awk -v a="$j" -v b="$k" 'BEGIN {printf "%.3f", a/b}')"
echo "  key + limiter    $p   plan/key $(awk -v a="$p" -v b="$k" 'BEGIN {printf "%.3f", a/b}')"
grep -q "429" "$work/planned.log" && echo "warning: the plan refused requests" >&2 || true
