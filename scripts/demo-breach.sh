#!/usr/bin/env bash
# `make demo-breach`, beside a running `make run` (same DAGSTER_HOME and store): the daily job for
# DAY whose real output lengths are doubled (inputs unchanged): V2's forecasts miss the day's
# outcomes, so the canary's blocking P1 check fails and the incident names output lengths.
# The daemon's canary_drift_sensor then launches breach_response runs: V2 routing is disabled,
# an incident is written and the alert is recorded. Each day breaches once: pass DEMO_DAY=YYYY-MM-DD
# for a day that was never replayed.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
DAY=${DAY:?DAY=YYYY-MM-DD}
UI="http://127.0.0.1:${PORT:-3000}"
config=$(mktemp)
trap 'rm -f "$config"' EXIT
printf 'ops:\n  sandbox__traffic_replay:\n    config:\n      output_scale: 2.0\n' > "$config"
if "$BIN/dagster" job execute -m costsim_assets.definitions -a defs -j daily_canary \
     --tags "{\"dagster/partition\": \"$DAY\"}" -c "$config"; then
  echo "demo-breach: the canary for $DAY passed: was $DAY replayed before? Pass DEMO_DAY=YYYY-MM-DD." >&2
  exit 1
fi
echo
echo "demo-breach: the canary for $DAY failed its blocking P1 check, as intended (the run is red,"
echo "its verdict skipped, its divergence report written). Waiting for the sensor's breach_response run..."
for _ in $(seq 1 60); do
  if "$BIN/costsim" incidents --day "$DAY" | grep -q realized_drift_p1; then
    "$BIN/costsim" incidents --day "$DAY"
    "$BIN/costsim" routing status
    echo "See it in the UI: $UI/assets/canary/drift (the failed check), $UI/runs (breach_response),"
    echo "$UI/assets/routing/v2_state (the new state, the incident file in its metadata)."
    exit 0
  fi
  sleep 2
done
echo "demo-breach: no incident after 120 s: is \`make run\` (its daemon) running with DAGSTER_HOME=$DAGSTER_HOME?" >&2
exit 1
