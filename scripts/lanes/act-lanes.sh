#!/usr/bin/env bash
# Runs lanes end to end with act in host mode (-P ubuntu-latest=-self-hosted), as .ci/run does:
#   bash scripts/lanes/act-lanes.sh [replay] [fast-lane] [build-and-pin]     (default: all three)
#
# GitHub-hosted actions are skipped under act (`if: ${{ !env.ACT }}`); act still reads each one's action.yml
# before the job starts, so each is mapped (--local-repository) to an empty composite action that never
# runs. The workspace is a clone of the checkout (scripts/lanes/act-workspace.sh).
#
# build-and-pin runs against a scratch clone whose registry entries point at a private namespace of the
# local OCI registry (127.0.0.1:5000/lanes-ci/…), so the pins change and `worldloop pin --pr` must open ONE
# pull request on the loopback GitHub fake; a second run with the same change pushes nothing and sends no
# write to GitHub; after the pull request is merged, a third run changes nothing at all.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
REPO="$PWD"
lanes=("$@")
[ ${#lanes[@]} -gt 0 ] || lanes=(replay fast-lane build-and-pin)
ACT="$(bash scripts/go-tools.sh --path act)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/wl-act-lanes.XXXXXX")"
FAKE_PID=""
cleanup() {
  # The fake runs in its own process group (npx → tsx → node): end the whole group, nothing else.
  [ -z "$FAKE_PID" ] || kill -- "-$FAKE_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

STUB="$WORK/skipped-action"
mkdir -p "$STUB"
printf 'name: skipped under act\ndescription: stands in for a GitHub-hosted action that act skips\nruns:\n  using: composite\n  steps: []\n' >"$STUB/action.yml"
local_repos=()
while read -r ref; do local_repos+=(--local-repository "$ref=$STUB"); done < <(
  grep -hoE 'uses: [A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+@[0-9a-f]{40}' .github/workflows/*.yml | sed 's/^uses: //' | sort -u
)

act_run() { # <source checkout> <event> <event.json> <workflow> [act args...]
  local src="$1" event="$2" payload="$3" workflow="$4"
  shift 4
  (cd "$src" && "$ACT" "$event" -W ".github/workflows/$workflow" -e "$payload" -P ubuntu-latest=-self-hosted \
    --env "LANE_SOURCE=$src" "${local_repos[@]}" "$@")
}

run_replay() {
  echo "{\"pull_request\":{\"number\":1,\"base\":{\"sha\":\"$(git rev-parse HEAD)\",\"ref\":\"main\"}}}" >"$WORK/pr.json"
  act_run "$REPO" pull_request "$WORK/pr.json" replay.yml
}

run_fast_lane() {
  # The diff-coverage base is this commit: the gate runs (Cobertura + diff-cover) over an empty diff here;
  # tests/unit/lanes-diff-coverage.test.ts proves it fails on uncovered changed lines.
  echo "{\"pull_request\":{\"number\":1,\"base\":{\"sha\":\"$(git rev-parse HEAD)\",\"ref\":\"main\"}}}" >"$WORK/pr.json"
  act_run "$REPO" pull_request "$WORK/pr.json" fast-lane.yml
}

run_build_and_pin() {
  local src="$WORK/source" state="$WORK/github.json" port="${LANES_GITHUB_FAKE_PORT:-17710}"
  git clone --quiet --shared "$REPO" "$src"
  cp -al "$REPO/node_modules" "$src/node_modules" 2>/dev/null || cp -a "$REPO/node_modules" "$src/node_modules"
  (
    cd "$src"
    git checkout --quiet -B main
    sed -i 's#127\.0\.0\.1:5000/worldloop/worldloop/#127.0.0.1:5000/lanes-ci/worldloop/#g' registry/*/*.yaml
    git -c user.name=lanes -c user.email=lanes@localhost commit --quiet -am "ci: registry entries in the lanes-ci namespace"
  )
  setsid npx tsx tests/fixtures/github-fake/main.ts --port "$port" --owner acme --repo worlds --token ghs_act_fake \
    --state-file "$state" >"$WORK/fake.log" 2>&1 &
  FAKE_PID=$!
  for _ in $(seq 1 100); do [ -s "$state" ] && break; sleep 0.2; done
  [ -s "$state" ] || { echo "FAIL: the GitHub fake did not start" >&2; cat "$WORK/fake.log" >&2; exit 1; }
  echo '{"ref":"refs/heads/main"}' >"$WORK/push.json"
  local gh=(-s GITHUB_TOKEN=ghs_act_fake --env GITHUB_REPOSITORY=acme/worlds
    --env "WORLDLOOP_GITHUB_API_URL=http://127.0.0.1:$port")
  writes() { node -e 'const s=require(process.argv[1]);console.log(s.requests.filter(r=>r.method!=="GET").length)' "$state"; }
  pulls() { node -e 'const s=require(process.argv[1]);console.log(s.pulls.length)' "$state"; }
  branch() { git -C "$src" rev-parse --verify --quiet refs/heads/worldloop/pins || echo none; }

  echo "[lanes] build-and-pin run 1 (pins change: expect one pull request)"
  act_run "$src" push "$WORK/push.json" build-and-pin.yml "${gh[@]}"
  [ "$(pulls)" = 1 ] || { echo "FAIL: run 1 opened $(pulls) pull requests, expected 1" >&2; exit 1; }
  local b1 w1
  b1="$(branch)" w1="$(writes)"
  [ "$b1" != none ] || { echo "FAIL: run 1 pushed no worldloop/pins branch" >&2; exit 1; }
  git -C "$src" diff --quiet main "$b1" -- registry && { echo "FAIL: worldloop/pins holds no pin change" >&2; exit 1; }

  echo "[lanes] build-and-pin run 2 (same change: expect nothing pushed, no write to GitHub)"
  act_run "$src" push "$WORK/push.json" build-and-pin.yml "${gh[@]}"
  [ "$(branch)" = "$b1" ] || { echo "FAIL: run 2 moved worldloop/pins" >&2; exit 1; }
  [ "$(writes)" = "$w1" ] || { echo "FAIL: run 2 wrote to GitHub ($(writes) writes, was $w1)" >&2; exit 1; }
  [ "$(pulls)" = 1 ] || { echo "FAIL: run 2 left $(pulls) pull requests" >&2; exit 1; }

  echo "[lanes] merge the pins pull request; build-and-pin run 3 (no change: expect nothing at all)"
  git -C "$src" merge --quiet --ff-only "$b1"
  local r3
  r3="$(node -e 'console.log(require(process.argv[1]).requests.length)' "$state")"
  act_run "$src" push "$WORK/push.json" build-and-pin.yml "${gh[@]}" | tee "$WORK/run3.log"
  grep -q 'no pin changed: nothing pushed' "$WORK/run3.log" || { echo "FAIL: run 3 did not report 'no pin changed'" >&2; exit 1; }
  [ "$(node -e 'console.log(require(process.argv[1]).requests.length)' "$state")" = "$r3" ] ||
    { echo "FAIL: run 3 called GitHub" >&2; exit 1; }
  [ "$(branch)" = "$b1" ] || { echo "FAIL: run 3 moved worldloop/pins" >&2; exit 1; }
  echo "[lanes] build-and-pin: 1 pull request, branch $b1; second run pushed nothing; third run touched nothing"
}

for lane in "${lanes[@]}"; do
  t0=$SECONDS
  echo "==== act: $lane ===="
  case "$lane" in
    replay) run_replay ;;
    fast-lane) run_fast_lane ;;
    build-and-pin) run_build_and_pin ;;
    *) echo "unknown lane $lane (replay, fast-lane, build-and-pin)" >&2; exit 2 ;;
  esac
  echo "[lanes] act $lane passed in $((SECONDS - t0))s"
done
