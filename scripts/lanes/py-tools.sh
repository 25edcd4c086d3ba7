#!/usr/bin/env bash
# The PyPI tools the lanes use, at exact versions, in one virtualenv cached per machine beside the Go tools.
#
#   bash scripts/lanes/py-tools.sh                   # create or reuse the venv, print its bin folder
#
# diff-cover: the fast lane's diff-coverage gate (Cobertura XML from vitest + the git diff).
# check-jsonschema: validates .github/workflows/*.yml against its vendored GitHub-workflow schema (offline).
# The venv is rebuilt when the pins below change (the pin list is stamped inside it).
set -euo pipefail

TOOLS_DIR="${WORLDLOOP_TOOLS_DIR:-$HOME/.cache/worldloop/tools}"
VENV="$TOOLS_DIR/venv-lanes"
PINS="diff-cover==11.0.1 check-jsonschema==0.39.0"

if [ -x "$VENV/bin/diff-cover" ] && [ -x "$VENV/bin/check-jsonschema" ] && [ "$(cat "$VENV/pins" 2>/dev/null)" = "$PINS" ]; then
  echo "$VENV/bin"
  exit 0
fi
command -v python3 >/dev/null 2>&1 || { echo "py-tools: python3 (>= 3.9, with venv) is needed" >&2; exit 1; }
echo "py-tools: installing $PINS into $VENV" >&2
rm -rf "$VENV.tmp"
python3 -m venv "$VENV.tmp" >&2
# shellcheck disable=SC2086
"$VENV.tmp/bin/pip" install --quiet --disable-pip-version-check $PINS >&2
echo "$PINS" > "$VENV.tmp/pins"
rm -rf "$VENV"
mv "$VENV.tmp" "$VENV"
# A venv records its own path in its scripts; it was built under .tmp, so rebuild the entry points in place.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps $PINS >&2
echo "$VENV/bin"
