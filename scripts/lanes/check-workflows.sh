#!/usr/bin/env bash
# npm run lane:workflows — static checks of the delivery lanes, offline:
#   actionlint over .github/workflows (the Go tool, cached per machine by scripts/go-tools.sh),
#   check-jsonschema's vendored GitHub-workflow schema (PyPI, cached venv: scripts/lanes/py-tools.sh),
#   every `uses:` pinned by a 40-hex commit SHA with its version in a comment,
#   docker-compose.temporal.yml through `docker compose config` or `docker-compose config`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

actionlint="$(bash scripts/go-tools.sh --path actionlint)"
echo "[lanes] actionlint $("$actionlint" -version | head -1)"
"$actionlint" -no-color

bin="$(bash scripts/lanes/py-tools.sh)"
echo "[lanes] check-jsonschema (vendored github-workflows schema)"
"$bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml

echo "[lanes] every action pinned by commit SHA with its version in a comment"
bad="$(grep -nE '^\s*-?\s*uses:' .github/workflows/*.yml | grep -vE 'uses: [A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40} # v[0-9]+(\.[0-9]+)*$' || true)"
if [ -n "$bad" ]; then
  echo "FAIL: actions not pinned by SHA (with '# vX.Y.Z'):" >&2
  echo "$bad" >&2
  exit 1
fi

if [ -f docker-compose.temporal.yml ]; then
  if docker compose version >/dev/null 2>&1; then compose=(docker compose)
  elif command -v docker-compose >/dev/null 2>&1; then compose=(docker-compose)
  else echo "FAIL: neither 'docker compose' nor 'docker-compose' is installed (scripts/setup.sh installs docker-compose)" >&2; exit 1
  fi
  echo "[lanes] ${compose[*]} config docker-compose.temporal.yml"
  "${compose[@]}" -f docker-compose.temporal.yml config --quiet
fi
echo "[lanes] workflows ok"
