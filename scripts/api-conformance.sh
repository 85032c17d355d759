#!/usr/bin/env bash
# API conformance: schemathesis (PyPI) against the live /openapi.json of a real `picpipe serve`, every operation,
# without a key, with one (protect_reads on), and from a web page's origin (http.cors_origins: every answer varies
# by Origin), its stateful phase included (links inferred from the Location of POST and PUT answers). Each serve
# first stores pictures under the ids scripts/schemathesis.toml gives schemathesis for {id}, and makes the sizes it
# gives for {size}, so the metadata and thumbnail routes are reached, not answered 404. Exit 0 only when
# schemathesis finds nothing (no 5xx, no response outside the document, no undocumented status code) and every run
# had 2xx answers from the metadata and thumbnail routes.
#   scripts/api-conformance.sh [PICPIPE_BINARY] [MAX_EXAMPLES]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
binary=$(realpath "${1:-.build/debug/picpipe}")
examples=${2:-40}
venv=$(realpath -m "${PICPIPE_TEST_VENV:-.build-venv}")
if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'schemathesis>=4,<5'
fi
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# The pictures each serve stores first: a PNG written here, and its JPEG, WebP and AVIF made by `picpipe thumbnail`.
mkdir -p "$work/pictures"
python3 - "$work/pictures/picture.png" <<'PY'
import struct, sys, zlib
width, height = 120, 80
rows = b"".join(b"\0" + bytes(v for x in range(width) for v in (x * 2, y * 3, 128)) for y in range(height))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
for format in jpeg webp avif; do
    "$binary" thumbnail "$work/pictures/picture.png" -o "$work/pictures/picture.$format" --size 100 > /dev/null
done

# Stores the pictures under the ids of scripts/schemathesis.toml's `ids` dictionary (conformance-png, ...).
seed() { # ADDRESS [curl options...]
    local address=$1; shift
    for format in png jpeg webp avif; do
        curl -sf -o /dev/null -X PUT -H "Content-Type: image/$format" --data-binary "@$work/pictures/picture.$format" \
            "$@" "http://$address/images/conformance-$format"
    done
}

# The configuration every serve starts from: the sizes of the toml's `sizes` dictionary.
sizes='thumbnails:\n  sizes: [64, 256]\n'

# Starts a serve in this shell (not a subshell, so cleanup can stop it) and sets $address once it listens.
start_serve() { # NAME, extra env...
    local name=$1; shift
    mkdir -p "$work/$name"
    env PICPIPE_LISTEN=127.0.0.1:0 PICPIPE_LOG_LEVEL=info "$@" "$binary" serve --store "$work/$name/store" \
        > "$work/$name/serve.log" 2>&1 < /dev/null &
    pids+=($!)
    for _ in $(seq 1 600); do
        if grep -q "http listening" "$work/$name/serve.log"; then break; fi
        sleep 0.1
    done
    address=$(grep -o '127.0.0.1:[0-9]*' "$work/$name/serve.log" | tail -1)
    if [ -z "$address" ]; then
        echo "api-conformance: serve ($name) did not start:" >&2
        cat "$work/$name/serve.log" >&2
        exit 1
    fi
}

run() { # NAME ADDRESS [schemathesis options...]
    local name=$1 address=$2; shift 2
    echo "== schemathesis: $name (http://$address)"
    # From the scratch folder: schemathesis keeps a .schemathesis/ cache where it runs.
    (cd "$work" && "$venv/bin/schemathesis" --config-file "$repo/scripts/schemathesis.toml" run \
        "http://$address/openapi.json" --url "http://$address" \
        --checks all --max-examples "$examples" --phases examples,coverage,fuzzing,stateful \
        --suppress-health-check all --seed 1 --report json --report-json-path "$work/$name.json" "$@")
}

# Prints how many 2xx answers (schemathesis's "accepted") the metadata and thumbnail routes gave in a run, and fails
# when one gave none: with random ids and sizes they answer 404 to almost everything (until session 32 they did, and
# a passing run said little about them).
reached() { # NAME
    python3 - "$1" "$work/$1.json" <<'PY'
import json, sys
name, report = sys.argv[1], sys.argv[2]
rates = json.load(open(report)).get("valid_rates", {})
routes = ["GET /images/{id}/metadata", "GET /images/{id}/thumbnails/{size}"]
accepted = {route: sum(phase.get("accepted", 0) for phase in rates.get(route, {}).values()) for route in routes}
print(f"  reached ({name}): " + ", ".join(f"{route} {count}" for route, count in accepted.items()))
sys.exit(0 if all(accepted.values()) else 1)
PY
}

status=0
printf "$sizes" > "$work/open.yaml"
start_serve open PICPIPE_CONFIG="$work/open.yaml"
seed "$address"
run open "$address" || status=1
reached open || status=1
printf "${sizes}http:\n  api_keys: [conformance-key]\n  protect_reads: true\n" > "$work/keyed.yaml"
start_serve keyed PICPIPE_CONFIG="$work/keyed.yaml"
seed "$address" -H "Authorization: Bearer conformance-key"
run keyed "$address" --header "Authorization: Bearer conformance-key" || status=1
reached keyed || status=1
printf "${sizes}http:\n  cors_origins: [https://app.example.com]\n" > "$work/cors.yaml"
start_serve cors PICPIPE_CONFIG="$work/cors.yaml"
seed "$address"
run cors "$address" --header "Origin: https://app.example.com" || status=1
reached cors || status=1
exit $status
