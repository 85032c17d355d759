#!/usr/bin/env bash
# A throw-away PostgreSQL 15 server for the tests: initdb into a temporary folder as the `postgres` user, a free
# port on 127.0.0.1 and a socket folder, one database `picpipe_test`. Run as root (initdb refuses root itself).
#
#   eval "$(scripts/test-postgres.sh start)"   # starts it; prints `export PICPIPE_TEST_DATABASE_URL=...` and
#                                               # `export PICPIPE_TEST_POSTGRES_DIR=...` for the shell to eval
#   eval "$(scripts/test-postgres.sh start --durable)"   # the same with fsync on (benchmarks: SQLite fsyncs too)
#   scripts/test-postgres.sh stop [DIR]         # stops it and removes its folder (DIR: $PICPIPE_TEST_POSTGRES_DIR)
#   scripts/test-postgres.sh restart [DIR]      # restarts it (every session ends), same port
#
# Binaries: $PICPIPE_TEST_POSTGRES_BIN, else /usr/lib/postgresql/15/bin (Debian's `postgresql` package).
set -euo pipefail

bin="${PICPIPE_TEST_POSTGRES_BIN:-/usr/lib/postgresql/15/bin}"
as_postgres() {
    if [ "$(id -un)" = postgres ]; then sh -c "$1"; else su postgres -s /bin/sh -c "$1"; fi
}

start() {
    local durable=off
    if [ "${1:-}" = --durable ]; then durable=on; fi
    if [ ! -x "$bin/initdb" ]; then
        echo "test-postgres: $bin/initdb not found; install Debian's postgresql (apt-get install postgresql)" >&2
        exit 1
    fi
    local dir port
    dir="$(mktemp -d /tmp/picpipe-pg.XXXXXX)"
    # mktemp makes it root-only; the server runs as postgres.
    chmod 755 "$dir"
    mkdir -p "$dir/data" "$dir/socket"
    chown -R postgres "$dir"
    port="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    as_postgres "'$bin/initdb' -D '$dir/data' -A trust -U postgres --no-sync > '$dir/initdb.log' 2>&1"
    # fsync off: a test server that is thrown away needs no durability, and the tests run faster. --durable keeps
    # PostgreSQL's default (fsync on), for benchmarks that compare with SQLite.
    echo "-p $port -k '$dir/socket' -c listen_addresses=127.0.0.1 -c fsync=$durable -c max_connections=200" > "$dir/options"
    as_postgres "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"$(cat "$dir/options")\" start > /dev/null"
    "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c "CREATE DATABASE picpipe_test" > /dev/null
    echo "$port" > "$dir/port"
    echo "export PICPIPE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/picpipe_test"
    echo "export PICPIPE_TEST_POSTGRES_DIR=$dir"
}

stop() {
    local dir="${1:-${PICPIPE_TEST_POSTGRES_DIR:-}}"
    if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then
        echo "test-postgres: no server folder given (argument or PICPIPE_TEST_POSTGRES_DIR)" >&2
        exit 1
    fi
    as_postgres "'$bin/pg_ctl' -D '$dir/data' -m immediate -w stop > /dev/null 2>&1" || true
    rm -rf "$dir"
}

restart() {
    local dir="${1:-${PICPIPE_TEST_POSTGRES_DIR:-}}"
    as_postgres "'$bin/pg_ctl' -D '$dir/data' -m fast -w -o \"$(cat "$dir/options")\" restart > /dev/null"
}

case "${1:-}" in
    start) start "${2:-}" ;;
    restart) restart "${2:-}" ;;
    stop) stop "${2:-}" ;;
    *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
