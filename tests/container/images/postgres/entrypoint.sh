#!/bin/bash
# First start: initdb with POSTGRES_USER and the password of POSTGRES_PASSWORD_FILE, then
# POSTGRES_DB; every start: postgres listening on all addresses (PGPORT, default 5432).
set -euo pipefail
if [[ "${1:-}" != postgres ]]; then
    exec "$@"
fi
shift
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
    [[ -r "${POSTGRES_PASSWORD_FILE:-}" ]] || {
        echo "entrypoint: POSTGRES_PASSWORD_FILE not readable" >&2
        exit 1
    }
    initdb --username="$user" --pwfile="$POSTGRES_PASSWORD_FILE" --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -k /var/run/postgresql" start >/dev/null
    if [[ "$db" != postgres ]]; then
        createdb -h /var/run/postgresql -U "$user" "$db"
    fi
    pg_ctl -D "$PGDATA" -w -m fast stop >/dev/null
fi
exec postgres -c listen_addresses='*' -k /var/run/postgresql "$@"
