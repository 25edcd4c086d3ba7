#!/usr/bin/env bash
# The delivery lanes' part of .ci/run: static checks of every workflow, then the replay, fast and Build & Pin
# lanes end to end under act (host mode) against the local OCI registry and the loopback GitHub fake.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
t0=$SECONDS
bash scripts/lanes/check-workflows.sh
echo "[lanes] static checks took $((SECONDS - t0))s"
bash scripts/lanes/act-lanes.sh replay build-and-pin fast-lane
echo "[lanes] all lanes took $((SECONDS - t0))s"
