#!/usr/bin/env bash
# Build the Go-written test tools once per machine, at exact versions, into the tools cache.
#
#   bash scripts/go-tools.sh minio temporal-server temporal-sql-tool cosign actionlint act
#   bash scripts/go-tools.sh --path cosign        # print the cached binary's path (builds it if missing)
#
# Each tool is `go install`ed from the Go module proxy (GOSUMDB=off: the checksum database is unreachable
# here). A cached binary is reused only if the module version recorded inside it (`go version -m`) is the
# pinned one, so bumping a pin below rebuilds it. Builds run one at a time: on 2 cores two parallel Go
# builds are not faster and can run the machine out of memory for MinIO.
set -euo pipefail

TOOLS_DIR="${WORLDLOOP_TOOLS_DIR:-$HOME/.cache/worldloop/tools}"

# name → "package@version module" (the module is what `go version -m` reports as `mod`).
pin_of() {
  case "$1" in
    minio) echo "github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c github.com/minio/minio" ;;
    temporal-server) echo "go.temporal.io/server/cmd/server@v1.29.1 go.temporal.io/server" ;;
    temporal-sql-tool) echo "go.temporal.io/server/cmd/tools/sql@v1.29.1 go.temporal.io/server" ;;
    cosign) echo "github.com/sigstore/cosign/v3/cmd/cosign@v3.1.3 github.com/sigstore/cosign/v3" ;;
    actionlint) echo "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12 github.com/rhysd/actionlint" ;;
    act) echo "github.com/nektos/act@v0.2.89 github.com/nektos/act" ;;
    *) return 1 ;;
  esac
}

cached_version() {
  go version -m "$1" 2>/dev/null | awk -v m="$2" '$1 == "mod" && $2 == m { print $3 }'
}

ensure() {
  local name="$1" spec pkg module version bin
  spec="$(pin_of "$name")" || {
    echo "go-tools: unknown tool '$name' (known: minio temporal-server temporal-sql-tool cosign actionlint act)" >&2
    exit 2
  }
  pkg="${spec%% *}" module="${spec##* }" version="${pkg##*@}" bin="$TOOLS_DIR/bin/$name"
  if [ -x "$bin" ] && [ "$(cached_version "$bin" "$module")" = "$version" ]; then
    [ -n "${PRINT_PATH:-}" ] || echo "go-tools: $name $version (cached) $bin" >&2
    return 0
  fi
  command -v go >/dev/null 2>&1 || {
    echo "go-tools: Go is needed to build $name ($pkg); install Go >= 1.24 and run this again." >&2
    exit 1
  }
  echo "go-tools: building $name from $pkg (minutes when cold)" >&2
  local t0=$SECONDS tmp
  tmp="$(mktemp -d "$TOOLS_DIR/build.XXXXXX")"
  # GOBIN per build: several tools are all called `server`/`sql` by go install; rename into place atomically.
  if ! GOSUMDB=off GOFLAGS=-buildvcs=false GOBIN="$tmp" go install "$pkg" >&2; then
    rm -rf "$tmp"
    echo "go-tools: go install $pkg failed; see the output above." >&2
    exit 1
  fi
  mv -f "$tmp"/* "$bin"
  rm -rf "$tmp"
  echo "go-tools: built $name $version in $((SECONDS - t0))s" >&2
}

mkdir -p "$TOOLS_DIR/bin"
if [ "${1:-}" = "--path" ]; then
  shift
  [ $# -eq 1 ] || { echo "usage: go-tools.sh --path <tool>" >&2; exit 2; }
  PRINT_PATH=1 ensure "$1"
  echo "$TOOLS_DIR/bin/$1"
  exit 0
fi
[ $# -gt 0 ] || { echo "usage: go-tools.sh <tool>... | --path <tool>" >&2; exit 2; }
for tool in "$@"; do ensure "$tool"; done
