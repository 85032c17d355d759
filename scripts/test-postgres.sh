#!/usr/bin/env bash
# A throw-away PostgreSQL 15 server for the tests: initdb into a temporary folder as the `postgres` user, a free
# port on 127.0.0.1 and a socket folder, one database `picpipe_test`. Run as root (initdb refuses root itself).
#
#   eval "$(scripts/test-postgres.sh start)"   # starts it; prints `export PICPIPE_TEST_DATABASE_URL=...` and
#                                               # `export PICPIPE_TEST_POSTGRES_DIR=...` for the shell to eval
#   eval "$(scripts/test-postgres.sh start --durable)"   # the same with fsync on (benchmarks: SQLite fsyncs too)
#   eval "$(scripts/test-postgres.sh start --tls)"   # TCP only over TLS (hostssl), its certificate for `localhost`
#                                               # signed by a throw-away CA: also prints PICPIPE_TEST_POSTGRES_CA
#                                               # and PICPIPE_TEST_POSTGRES_CLIENT (a folder with client.crt,
#                                               # client.key and client.encrypted.key, passphrase picpipe-test, for
#                                               # the role certuser, which logs in by certificate); the role
#                                               # eitheruser may also connect without TLS
#   scripts/test-postgres.sh stop [DIR]         # stops it and removes its folder (DIR: $PICPIPE_TEST_POSTGRES_DIR)
#   scripts/test-postgres.sh restart [DIR]      # restarts it (every session ends), same port
#
# Binaries: $PICPIPE_TEST_POSTGRES_BIN, else /usr/lib/postgresql/15/bin (Debian's `postgresql` package).
set -euo pipefail

bin="${PICPIPE_TEST_POSTGRES_BIN:-/usr/lib/postgresql/15/bin}"
as_postgres() {
    if [ "$(id -un)" = postgres ]; then sh -c "$1"; else su postgres -s /bin/sh -c "$1"; fi
}

# Runs a command that leaves the server running with no descriptor of ours but 0-2: the server would otherwise keep
# what its starter inherited open for its whole life (a caller's pipe or socket that waits for end-of-file: Swift
# Foundation's Process learns that its child exited from such a socket). In a subshell: bash reads this script
# through one of them.
detached() {
    (
        for fd in /proc/$BASHPID/fd/*; do
            fd="${fd##*/}"
            if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
        done
        "$@"
    )
}

start() {
    local durable=off tls=no
    for option in "$@"; do
        case "$option" in
            --durable) durable=on ;;
            --tls) tls=yes ;;
            *) echo "test-postgres: unknown option $option" >&2; exit 2 ;;
        esac
    done
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
    if [ "$tls" = yes ]; then
        # A CA of its own and a server certificate for the name localhost only (not 127.0.0.1: verify-full against
        # the address must fail); TCP connections without TLS are refused (hostssl), the socket stays plain.
        local tlsdir="$dir/tls"
        mkdir -p "$tlsdir"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=picpipe test CA" \
            -keyout "$tlsdir/ca.key" -out "$tlsdir/ca.crt" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$tlsdir/server.key" \
            -out "$tlsdir/server.csr" 2>/dev/null
        printf 'subjectAltName=DNS:localhost\n' > "$tlsdir/san.ext"
        openssl x509 -req -in "$tlsdir/server.csr" -CA "$tlsdir/ca.crt" -CAkey "$tlsdir/ca.key" -CAcreateserial \
            -days 2 -extfile "$tlsdir/san.ext" -out "$tlsdir/server.crt" 2>/dev/null
        # A client certificate for the role certuser (its common name), which may log in only with it.
        mkdir -p "$dir/client"
        openssl req -newkey rsa:2048 -nodes -subj "/CN=certuser" -keyout "$dir/client/client.key" \
            -out "$tlsdir/client.csr" 2>/dev/null
        openssl x509 -req -in "$tlsdir/client.csr" -CA "$tlsdir/ca.crt" -CAkey "$tlsdir/ca.key" -CAcreateserial \
            -days 2 -out "$dir/client/client.crt" 2>/dev/null
        # The same key encrypted (PKCS#8, AES-256), for sslpassword.
        openssl pkey -in "$dir/client/client.key" -aes256 -passout pass:picpipe-test \
            -out "$dir/client/client.encrypted.key" 2>/dev/null
        chmod 600 "$dir/client/client.key" "$dir/client/client.encrypted.key"
        chown -R postgres "$tlsdir"
        chmod 600 "$tlsdir/server.key" "$tlsdir/ca.key"
        chmod 644 "$tlsdir/ca.crt"
        sed -i 's/^host /hostssl /' "$dir/data/pg_hba.conf"
        sed -i '1i hostssl all certuser 127.0.0.1/32 cert\nhostssl all certuser ::1/128 cert' "$dir/data/pg_hba.conf"
        # The role eitheruser may also connect plain (sslmode=allow then stays plain; prefer encrypts).
        sed -i '1i host all eitheruser 127.0.0.1/32 trust\nhost all eitheruser ::1/128 trust' "$dir/data/pg_hba.conf"
        echo " -c ssl=on -c ssl_cert_file='$tlsdir/server.crt' -c ssl_key_file='$tlsdir/server.key'" >> "$dir/options"
        echo " -c ssl_ca_file='$tlsdir/ca.crt'" >> "$dir/options"
        sed -i -e ':a' -e 'N' -e '$!ba' -e 's/\n//g' "$dir/options"
    fi
    detached as_postgres "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"$(cat "$dir/options")\" start > /dev/null"
    "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c "CREATE DATABASE picpipe_test" > /dev/null
    if [ "$tls" = yes ]; then
        "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c "CREATE ROLE certuser LOGIN SUPERUSER" > /dev/null
        "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c "CREATE ROLE eitheruser LOGIN" > /dev/null
    fi
    echo "$port" > "$dir/port"
    echo "export PICPIPE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/picpipe_test"
    echo "export PICPIPE_TEST_POSTGRES_DIR=$dir"
    if [ "$tls" = yes ]; then
        echo "export PICPIPE_TEST_POSTGRES_CA=$dir/tls/ca.crt"
        echo "export PICPIPE_TEST_POSTGRES_CLIENT=$dir/client"
    fi
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
    detached as_postgres "'$bin/pg_ctl' -D '$dir/data' -m fast -w -o \"$(cat "$dir/options")\" restart > /dev/null"
}

case "${1:-}" in
    start) shift; start "$@" ;;
    restart) restart "${2:-}" ;;
    stop) stop "${2:-}" ;;
    *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
