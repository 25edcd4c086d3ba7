#!/usr/bin/env bash
# Under act in host mode (-P ubuntu-latest=-self-hosted) a job starts in an empty folder of act's cache and
# actions/checkout (a GitHub-hosted action) is skipped: this lays out the workspace instead — a clone of
# LANE_SOURCE at GITHUB_SHA, with LANE_SOURCE's node_modules hard-linked in (npm ci needs the network). Only
# the workflows' `if: ${{ env.ACT }}` step calls it.
set -euo pipefail
: "${LANE_SOURCE:?act runs need --env LANE_SOURCE=<the checkout act runs from>}"
case "$PWD" in
  */hostexecutor*) ;;
  *) echo "act-workspace: refusing to lay out a workspace outside act's host executor ($PWD)" >&2; exit 1 ;;
esac
# act reuses the folder between runs of a job: start clean.
find . -mindepth 1 -maxdepth 1 -exec rm -rf {} +
git clone --quiet --shared --no-checkout "$LANE_SOURCE" .
git checkout --quiet --detach "${GITHUB_SHA:-HEAD}"
# A real folder, not a symlink: bundles resolve modules by real path, and a link out of the workspace would
# change their bytes (tests/unit/registry-bundle.test.ts). Hard links when on one file system, else a copy.
cp -al "$LANE_SOURCE/node_modules" node_modules 2>/dev/null || cp -a "$LANE_SOURCE/node_modules" node_modules
echo "act-workspace: $(git rev-parse --short HEAD) from $LANE_SOURCE"
