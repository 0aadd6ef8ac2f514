#!/usr/bin/env bash
# A private PostgreSQL server for the tests: Debian's packages, a cluster in its own folder,
# listening on 127.0.0.1 only, with a test user and database. Idempotent.
# (Variables for it avoid the PAINMON_ prefix: those are settings.)
#
#   tools/start-postgres.sh [start]   install if missing, init once, start if stopped
#   tools/start-postgres.sh stop      stop it (the forwarding tests stop and restart it)
#   tools/start-postgres.sh env       print `export ...` lines for TEST_POSTGRES_URL, PGPASSFILE
#
# The password is random, made at init, and kept in a 0600 pgpass file inside the cluster's
# folder (libpq reads it through PGPASSFILE): it is never in the repository or a URL.
set -euo pipefail
DIR=${PGTEST_DIR:-/tmp/painmon-pgtest}
PORT=${PGTEST_PORT:-55432}
USER_NAME=painmon
DB_NAME=painmon_test
DATA=$DIR/data
PASSFILE=$DIR/pgpass
LOG=$DIR/server.log

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

install() {
  [ -n "$(bindir)" ] && [ -x "$(bindir)/pg_ctl" ] && return 0
  command -v apt-get >/dev/null || { echo "install PostgreSQL (server) first" >&2; exit 1; }
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # No default cluster: Debian would otherwise start one of its own on port 5432.
  $sudo apt-get install -y -qq --no-install-recommends postgresql-common >/dev/null
  $sudo sed -i 's/^#\?\s*create_main_cluster.*/create_main_cluster = false/' \
    /etc/postgresql-common/createcluster.conf
  $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
}

# The server refuses to run as root: as root, run it as the `postgres` user the package made.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg() { as_owner "$(bindir)/$1" "${@:2}"; }

running() { [ -d "$DATA" ] && pg pg_ctl -D "$DATA" status >/dev/null 2>&1; }

init() {
  [ -f "$DATA/PG_VERSION" ] && return 0
  mkdir -p "$DIR"
  chmod 700 "$DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$DIR"
  local password
  password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  as_owner sh -c "umask 077 && printf '%s\n' '$password' > '$DIR/init-password'"
  pg initdb -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
     --pwfile="$DIR/init-password" -E UTF8 >/dev/null
  as_owner rm -f "$DIR/init-password"
  cat >>"$DATA/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
fsync = off
EOF
  [ "$(id -u)" -eq 0 ] && chown postgres: "$DATA/postgresql.conf"
  start_server
  pg psql -h "$DIR" -p "$PORT" -U postgres -q -v ON_ERROR_STOP=1 \
     -c "CREATE ROLE $USER_NAME LOGIN CREATEDB PASSWORD '$password'" \
     -c "CREATE DATABASE $DB_NAME OWNER $USER_NAME" >/dev/null
  (umask 077 && printf '127.0.0.1:%s:*:%s:%s\n' "$PORT" "$USER_NAME" "$password" > "$PASSFILE")
}

start_server() {
  running && return 0
  pg pg_ctl -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null
}

case "${1:-start}" in
  start) install; init; start_server ;;
  stop) running && pg pg_ctl -D "$DATA" -m fast -w stop >/dev/null || true ;;
  env)
    echo "export TEST_POSTGRES_URL=postgresql+psycopg://$USER_NAME@127.0.0.1:$PORT/$DB_NAME"
    echo "export PGPASSFILE=$PASSFILE" ;;
  *) echo "usage: $0 [start|stop|env]" >&2; exit 2 ;;
esac
