#!/usr/bin/env bash
# API conformance: schemathesis (PyPI) against the live /openapi.json of a real `picpipe serve`, every operation,
# without a key, with one (protect_reads on), and from a web page's origin (http.cors_origins: every answer varies
# by Origin), stateful links included. Exit 0 only when schemathesis finds nothing: no 5xx, no response outside the
# document, no undocumented status code.
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
        --suppress-health-check all --seed 1 "$@")
}

status=0
start_serve open
run open "$address" || status=1
printf 'http:\n  api_keys: [conformance-key]\n  protect_reads: true\n' > "$work/keyed.yaml"
start_serve keyed PICPIPE_CONFIG="$work/keyed.yaml"
run keyed "$address" --header "Authorization: Bearer conformance-key" || status=1
printf 'http:\n  cors_origins: [https://app.example.com]\n' > "$work/cors.yaml"
start_serve cors PICPIPE_CONFIG="$work/cors.yaml"
run cors "$address" --header "Origin: https://app.example.com" || status=1
exit $status
