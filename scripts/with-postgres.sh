#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL server: a fresh cluster in a temporary
# directory, on a free loopback port, stopped and deleted when the command ends (even on
# failure or Ctrl-C). The command sees its address in VMAFX_TEST_POSTGRES
# (postgres://vmafx@127.0.0.1:PORT/postgres); tests make one database each in it.
#   scripts/with-postgres.sh cargo test --workspace
#   PG_FSYNC=on scripts/with-postgres.sh ...     durable commits (benchmarks)
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [[ -z $bin ]]; then
  echo "with-postgres: PostgreSQL is not installed; run 'make setup-test' (apt-get install postgresql)" >&2
  exit 1
fi
dir=$(mktemp -d /tmp/vmafx-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg=()
if [[ $(id -u) == 0 ]]; then
  # PostgreSQL refuses to run as root: run it as the postgres user the package made.
  chown postgres "$dir"
  as_pg=(runuser -u postgres --)
fi
stop() {
  "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
"${as_pg[@]}" "$bin/initdb" -D "$dir/data" -U vmafx --auth=trust -N -E UTF8 >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
"${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
  "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-off} -c max_connections=400 -c shared_buffers=256MB" \
  start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
export VMAFX_TEST_POSTGRES="postgres://vmafx@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL on 127.0.0.1:$port (fsync=${PG_FSYNC:-off}), data in $dir" >&2
"$@"
