#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for quill's tests: its own data folder, its
# own port on 127.0.0.1, no system service, nothing left behind.
#
#   eval "$(scripts/pg-test-cluster.sh start)"   # prints export lines; sets
#                                                # QUILL_TEST_POSTGRES_URL and
#                                                # QUILL_TEST_POSTGRES_DIR
#   go test -race ./...
#   scripts/pg-test-cluster.sh destroy "$QUILL_TEST_POSTGRES_DIR"
#
#   start [DIR]    create a cluster in DIR (default: a new temporary folder)
#                  unless it has one, start it, print the export lines
#   stop DIR       stop it (pg_ctl stop -m fast); start DIR starts it again
#                  on the same port
#   crash DIR      stop it the hard way (pg_ctl stop -m immediate: every
#                  backend quits at once, recovery runs on the next start)
#   destroy DIR    stop it if running and delete DIR
#
# It needs Debian's postgresql package (apt-get install postgresql) or any
# PostgreSQL whose initdb and pg_ctl are on PATH. initdb refuses to run as
# root, so as root the cluster belongs to the postgres user (created by the
# Debian package; created here if missing). The cluster trusts every local
# connection on 127.0.0.1: it is for tests only, and listens nowhere else.
set -euo pipefail

die() { echo "pg-test-cluster: $*" >&2; exit 1; }

bindir() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return
  fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/initdb" ] || die "initdb not found: install PostgreSQL (Debian: apt-get install postgresql)"
  echo "$d"
}

BIN=$(bindir)
OWNER=""
if [ "$(id -u)" = 0 ]; then
  OWNER=postgres
  if ! id "$OWNER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$OWNER"
  fi
fi

# as runs a command as the cluster's owner.
as() {
  if [ -n "$OWNER" ]; then
    runuser -u "$OWNER" -- "$@"
  else
    "$@"
  fi
}

# free_port prints a port on 127.0.0.1 that nothing listens on, below the
# range the kernel hands out to outgoing connections (whose local ports
# would collide with a listener's).
free_port() {
  local port low=32768
  if [ -r /proc/sys/net/ipv4/ip_local_port_range ]; then
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range
  fi
  [ "$low" -gt 11000 ] || low=65535
  for _ in $(seq 1 100); do
    port=$((10000 + RANDOM % (low - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  die "no free port found"
}

# pg_start starts the cluster in $1 on the port in $1/port.
pg_start() {
  as "$BIN/pg_ctl" -D "$1/data" -l "$1/postgres.log" -o "-p $(cat "$1/port")" -w -t 60 start >/dev/null
}

pg_start_failed() {
  tail -n 20 "$1/postgres.log" >&2 || true
  die "pg_ctl start failed; see $1/postgres.log"
}

cmd=${1:-}
dir=${2:-}
case "$cmd" in
start)
  if [ -z "$dir" ]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/quill-pg.XXXXXX")
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    [ -n "$OWNER" ] && chown "$OWNER" "$dir"
    as "$BIN/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    # Listen on loopback only, sockets in the cluster's own folder. fsync off:
    # this data is thrown away, and a crash of PostgreSQL (not of the
    # machine) loses no committed transaction without it.
    as tee -a "$dir/data/postgresql.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 300
fsync = off
full_page_writes = off
log_min_messages = warning
EOF
    # A port found free may be taken before the server binds it: try others.
    for attempt in 1 2 3 4 5; do
      free_port >"$dir/port"
      rm -f "$dir/postgres.log"
      if pg_start "$dir"; then
        break
      fi
      if [ "$attempt" = 5 ] || ! grep -q "Address already in use" "$dir/postgres.log"; then
        pg_start_failed "$dir"
      fi
    done
  else
    # Started again: on the same port, which its clients know.
    pg_start "$dir" || pg_start_failed "$dir"
  fi
  port=$(cat "$dir/port")
  echo "export QUILL_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable'"
  echo "export QUILL_TEST_POSTGRES_DIR='$dir'"
  ;;
stop | crash)
  [ -n "$dir" ] && [ -f "$dir/data/PG_VERSION" ] || die "usage: $0 $cmd DIR (a folder made by start)"
  mode=fast
  [ "$cmd" = crash ] && mode=immediate
  as "$BIN/pg_ctl" -D "$dir/data" -m "$mode" -w -t 60 stop >/dev/null
  ;;
destroy)
  [ -n "$dir" ] || die "usage: $0 destroy DIR"
  if [ -f "$dir/data/postmaster.pid" ]; then
    as "$BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null 2>&1 || true
  fi
  [ -f "$dir/data/PG_VERSION" ] || [ ! -e "$dir" ] || die "$dir is not a cluster made by start; not deleting it"
  rm -rf "$dir"
  ;;
*)
  sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac
