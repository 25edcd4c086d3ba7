#!/usr/bin/env bash
# npm run lane:diff-coverage — the fast lane's diff-coverage gate: the changed lines since LANE_BASE (a commit;
# the PR's base in CI, default origin/main) must be at least 90% covered by the unit lane's Cobertura report.
#
#   LANE_BASE=main npm run lane:diff-coverage
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# LANE_REPO: another checkout to judge (the unit test of this gate uses a scratch repository).
cd "${LANE_REPO:-$HERE/../..}"
REPORT="${LANE_COVERAGE:-.lanes/coverage/cobertura-coverage.xml}"
BASE="${LANE_BASE:-origin/main}"
FAIL_UNDER="${LANE_FAIL_UNDER:-90}"
[ -s "$REPORT" ] || { echo "diff-coverage: $REPORT is missing; run 'npm run lane:unit' first" >&2; exit 1; }
git rev-parse --verify --quiet "$BASE^{commit}" >/dev/null || {
  echo "diff-coverage: base '$BASE' is not a commit here (fetch it, or set LANE_BASE)" >&2
  exit 1
}
BIN="$(bash "$HERE/py-tools.sh")"
exec "$BIN/diff-cover" "$REPORT" --compare-branch="$BASE" --fail-under="$FAIL_UNDER" \
  --include 'src/**' 'activities/**' 'workflows/**' 'bin/**'
