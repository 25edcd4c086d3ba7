#!/usr/bin/env bash
# A real Temporal cluster for the scale-out tests and for trying the outgrown configuration on one machine
# (docs/scale-out.md): Temporal server 1.29.1 on Debian's PostgreSQL, one process per service — frontend,
# history, matching, worker — plus a second frontend, history and matching.
#
#   bash scripts/cluster.sh start     # initdb + schema on first start; prints TEMPORAL_ADDRESS=…
#   bash scripts/cluster.sh status    # each process and the frontends' health
#   bash scripts/cluster.sh stop      # stops Temporal and PostgreSQL (data kept)
#   bash scripts/cluster.sh destroy   # stop and remove the data
#   bash scripts/cluster.sh kill <process>    # SIGKILL one process (fault tests): frontend-1, history-2, …
#   bash scripts/cluster.sh revive <process>  # start that process again
#
# Settings (environment): WORLDLOOP_CLUSTER_DIR (default $WORLDLOOP_STATE_DIR/cluster), WORLDLOOP_CLUSTER_IP
# (the address every service binds and advertises; default 127.0.0.1 — a bridge address for workers in other
# network namespaces), WORLDLOOP_CLUSTER_PORT_BASE (default 17650; uses base … base+16). The binaries come from
# scripts/go-tools.sh (temporal-server, temporal-sql-tool), PostgreSQL from apt (`postgresql`), run as the
# `postgres` user on its own data folder, port and socket folder: never the system cluster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

STATE_DIR="${WORLDLOOP_STATE_DIR:-$HOME/.worldloop}"
DIR="${WORLDLOOP_CLUSTER_DIR:-$STATE_DIR/cluster}"
IP="${WORLDLOOP_CLUSTER_IP:-127.0.0.1}"
BASE="${WORLDLOOP_CLUSTER_PORT_BASE:-17650}"
PG_PORT=$((BASE))
PG_USER=temporal
PG_PASSWORD=temporal-cluster
TEMPORAL_VERSION=v1.29.1
PROCESSES="frontend-1 frontend-2 history-1 history-2 matching-1 matching-2 worker-1"

say() { printf '[cluster] %s\n' "$*"; }
die() {
  printf '[cluster] error: %s\n' "$*" >&2
  exit 1
}

# name → "service grpc-port membership-port (http-port)"; every process gets its own ports.
ports_of() {
  case "$1" in
    frontend-1) echo "frontend $((BASE + 1)) $((BASE + 2)) $((BASE + 3))" ;;
    frontend-2) echo "frontend $((BASE + 4)) $((BASE + 5)) $((BASE + 6))" ;;
    history-1) echo "history $((BASE + 7)) $((BASE + 8))" ;;
    history-2) echo "history $((BASE + 9)) $((BASE + 10))" ;;
    matching-1) echo "matching $((BASE + 11)) $((BASE + 12))" ;;
    matching-2) echo "matching $((BASE + 13)) $((BASE + 14))" ;;
    worker-1) echo "worker $((BASE + 15)) $((BASE + 16))" ;;
    *) return 1 ;;
  esac
}

pg_bin() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$d" ] || die "PostgreSQL is not installed: as root on Debian, apt-get install postgresql"
  echo "$d"
}

# PostgreSQL refuses to run as root: run it as the `postgres` system user (from the Debian package).
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
pid_of() { cat "$DIR/pids/$1.pid" 2>/dev/null || true; }

schema_dir() {
  local mod
  mod="$(go env GOMODCACHE)/go.temporal.io/server@$TEMPORAL_VERSION"
  if [ ! -d "$mod/schema" ]; then
    (cd "$(mktemp -d)" && GOFLAGS=-mod=mod GOSUMDB=off go mod download "go.temporal.io/server@$TEMPORAL_VERSION") >&2
  fi
  echo "$mod/schema/postgresql/v12"
}

start_postgres() {
  local bin
  bin="$(pg_bin)"
  mkdir -p "$DIR/pg-run" "$DIR/logs"
  # The postgres user must be able to reach its folders (a mktemp folder is 0700).
  if [ "$(id -u)" = 0 ]; then chmod o+x "$DIR" && chown postgres "$DIR/pg-run"; fi
  if [ ! -s "$DIR/pg/PG_VERSION" ]; then
    say "initdb $DIR/pg"
    mkdir -p "$DIR/pg"
    if [ "$(id -u)" = 0 ]; then chown postgres "$DIR/pg"; fi
    as_pg "$bin/initdb" -D "$DIR/pg" -U postgres --auth=trust -E UTF8 >"$DIR/logs/initdb.log" 2>&1 ||
      die "initdb failed; see $DIR/logs/initdb.log"
  fi
  # Temporal connects over TCP on the cluster address (a bridge address, not only loopback), by password.
  local hba="host all $PG_USER $IP/32 scram-sha-256"
  grep -qxF "$hba" "$DIR/pg/pg_hba.conf" || echo "$hba" >>"$DIR/pg/pg_hba.conf"
  if as_pg "$bin/pg_ctl" -D "$DIR/pg" status >/dev/null 2>&1; then return; fi
  touch "$DIR/logs/postgres.log"
  if [ "$(id -u)" = 0 ]; then chown postgres "$DIR/logs/postgres.log"; fi
  as_pg "$bin/pg_ctl" -D "$DIR/pg" -l "$DIR/logs/postgres.log" -w -t 60 \
    -o "-p $PG_PORT -k $DIR/pg-run -c listen_addresses=$IP -c max_connections=300 -c fsync=off" start >/dev/null ||
    die "PostgreSQL did not start; see $DIR/logs/postgres.log"
}

setup_schema() {
  [ -f "$DIR/.schema-done" ] && return
  local bin sql schema
  bin="$(pg_bin)"
  sql="$(bash scripts/go-tools.sh --path temporal-sql-tool)"
  schema="$(schema_dir)"
  as_pg "$bin/psql" -h "$DIR/pg-run" -p "$PG_PORT" -U postgres -q -c \
    "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN CREATE ROLE $PG_USER LOGIN SUPERUSER PASSWORD '$PG_PASSWORD'; END IF; END \$\$;" >/dev/null
  local common=(--plugin postgres12 --endpoint "$IP" --port "$PG_PORT" --user "$PG_USER" --password "$PG_PASSWORD")
  local db
  for db in temporal temporal_visibility; do
    "$sql" "${common[@]}" --database "$db" create-database >>"$DIR/logs/schema.log" 2>&1 || true
  done
  "$sql" "${common[@]}" --database temporal setup-schema -v 0.0 >>"$DIR/logs/schema.log" 2>&1 &&
    "$sql" "${common[@]}" --database temporal update-schema -d "$schema/temporal/versioned" >>"$DIR/logs/schema.log" 2>&1 &&
    "$sql" "${common[@]}" --database temporal_visibility setup-schema -v 0.0 >>"$DIR/logs/schema.log" 2>&1 &&
    "$sql" "${common[@]}" --database temporal_visibility update-schema -d "$schema/visibility/versioned" >>"$DIR/logs/schema.log" 2>&1 ||
    die "schema setup failed; see $DIR/logs/schema.log"
  touch "$DIR/.schema-done"
  say "schema $TEMPORAL_VERSION installed in PostgreSQL on $IP:$PG_PORT"
}

datastore() {
  cat <<EOF
      sql:
        pluginName: "postgres12"
        databaseName: "$1"
        connectAddr: "$IP:$PG_PORT"
        connectProtocol: "tcp"
        user: "$PG_USER"
        password: "$PG_PASSWORD"
        maxConns: $2
        maxIdleConns: $2
        maxConnLifetime: "1h"
EOF
}

# One config file per process (`config/<name>.yaml`, selected with --env <name>): only its own service's
# ports differ. Membership goes through PostgreSQL, so the processes find each other by themselves.
render_config() {
  local name="$1" service grpc member http
  read -r service grpc member http < <(ports_of "$name")
  mkdir -p "$DIR/config/dynamicconfig"
  : >"$DIR/config/dynamicconfig/cluster.yaml"
  {
    cat <<EOF
log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: 8
  datastores:
    default:
$(datastore temporal 20)
    visibility:
$(datastore temporal_visibility 4)
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "$IP"
services:
EOF
    # Every service must be listed (the membership monitor tracks only listed ones); this process runs only
    # its own, on its own ports; the others are placeholders with their first instance's ports.
    local svc g m h
    for svc in frontend history matching worker; do
      if [ "$svc" = "$service" ]; then
        g=$grpc m=$member h=${http:-}
      else
        read -r _ g m h < <(ports_of "$svc-1")
      fi
      printf '  %s:\n    rpc:\n      grpcPort: %s\n      membershipPort: %s\n      bindOnIP: "%s"\n' "$svc" "$g" "$m" "$IP"
      if [ -n "${h:-}" ]; then printf '      httpPort: %s\n' "$h"; fi
    done
    cat <<EOF
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "$IP:$((BASE + 1))"
dcRedirectionPolicy:
  policy: "noop"
dynamicConfigClient:
  filepath: "$DIR/config/dynamicconfig/cluster.yaml"
  pollInterval: "10s"
EOF
  } >"$DIR/config/$name.yaml"
}

start_process() {
  local name="$1" service bin pid
  ports_of "$name" >/dev/null || die "unknown process '$name' (known: $PROCESSES)"
  pid="$(pid_of "$name")"
  if pid_alive "$pid"; then return; fi
  read -r service _ < <(ports_of "$name")
  bin="$(bash scripts/go-tools.sh --path temporal-server)"
  render_config "$name"
  mkdir -p "$DIR/pids" "$DIR/logs"
  # setsid: the process outlives this script and its terminal; the pid file is how stop finds it.
  setsid "$bin" --root "$DIR" --config config --env "$name" --allow-no-auth start --service "$service" \
    >>"$DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/pids/$name.pid"
}

frontend_address() { echo "$IP:$((BASE + 1))"; }

wait_healthy() {
  local temporal deadline=$((SECONDS + ${1:-120})) addr name
  # The Temporal CLI setup.sh caches (or one on PATH).
  temporal="${WORLDLOOP_TOOLS_DIR:-$HOME/.cache/worldloop/tools}/bin/temporal"
  [ -x "$temporal" ] || temporal="$(command -v temporal)" || die "the Temporal CLI is missing: run bash scripts/setup.sh"
  for addr in "$IP:$((BASE + 1))" "$IP:$((BASE + 4))"; do
    until "$temporal" operator cluster health --address "$addr" >/dev/null 2>&1; do
      [ $SECONDS -lt $deadline ] || die "the frontend at $addr is not healthy; see $DIR/logs/"
      for name in $PROCESSES; do
        pid_alive "$(pid_of "$name")" || die "$name exited; see $DIR/logs/$name.log"
      done
      sleep 0.3
    done
  done
}

cmd_start() {
  local t0=$SECONDS name
  mkdir -p "$DIR"
  start_postgres
  setup_schema
  for name in $PROCESSES; do start_process "$name"; done
  wait_healthy 180
  # The default namespace and worldloop's search attributes (what the dev server creates by itself).
  node --import tsx scripts/cluster-namespace.ts "$(frontend_address)" >>"$DIR/logs/namespace.log" 2>&1 ||
    die "registering the namespace failed; see $DIR/logs/namespace.log"
  say "healthy in $((SECONDS - t0))s: $(echo "$PROCESSES" | wc -w) Temporal processes on PostgreSQL $IP:$PG_PORT"
  echo "TEMPORAL_ADDRESS=$(frontend_address)"
}

cmd_stop() {
  local name pid
  for name in $PROCESSES; do
    pid="$(pid_of "$name")"
    if pid_alive "$pid"; then kill "$pid" 2>/dev/null || true; fi
  done
  for name in $PROCESSES; do
    pid="$(pid_of "$name")"
    for _ in $(seq 1 50); do pid_alive "$pid" || break; sleep 0.2; done
    if pid_alive "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
    rm -f "$DIR/pids/$name.pid"
  done
  if [ -s "$DIR/pg/PG_VERSION" ]; then
    as_pg "$(pg_bin)/pg_ctl" -D "$DIR/pg" -m fast -w stop >/dev/null 2>&1 || true
  fi
  say "stopped"
}

cmd_status() {
  local name pid rc=0 rss
  for name in $PROCESSES; do
    pid="$(pid_of "$name")"
    if pid_alive "$pid"; then
      rss="$(awk '/VmRSS/ { print int($2 / 1024) " MiB" }' "/proc/$pid/status" 2>/dev/null)"
      printf '%-11s pid %-7s %s  %s\n' "$name" "$pid" "up" "$rss"
    else
      printf '%-11s %s\n' "$name" "down"
      rc=1
    fi
  done
  if as_pg "$(pg_bin)/pg_ctl" -D "$DIR/pg" status >/dev/null 2>&1; then echo "postgres    up ($IP:$PG_PORT)"; else
    echo "postgres    down"
    rc=1
  fi
  echo "TEMPORAL_ADDRESS=$(frontend_address) (second frontend $IP:$((BASE + 4)))"
  return "$rc"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  destroy)
    cmd_stop
    rm -rf "$DIR"
    say "removed $DIR"
    ;;
  kill)
    [ $# -eq 2 ] || die "usage: cluster.sh kill <process>"
    pid="$(pid_of "$2")"
    pid_alive "$pid" || die "$2 is not running"
    kill -9 "$pid"
    say "killed $2 (pid $pid)"
    ;;
  revive)
    [ $# -eq 2 ] || die "usage: cluster.sh revive <process>"
    start_process "$2"
    say "started $2 (pid $(pid_of "$2"))"
    ;;
  *)
    echo "usage: cluster.sh start|stop|status|destroy|kill <process>|revive <process>" >&2
    exit 2
    ;;
esac
