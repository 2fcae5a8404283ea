#!/usr/bin/env bash
# `make materialize` / `make run`: the whole asset graph on the local instance ($DAGSTER_HOME):
# the static job (golden data -> verdicts), then the daily job for DAY (replay -> canary ->
# verdict, divergence report). Prints the wall time. A failed blocking canary check fails the
# daily run (the day's verdict is skipped; the divergence report is still produced).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
DAY=${DAY:?DAY=YYYY-MM-DD}
start=$EPOCHREALTIME
status=0
"$BIN/dagster" job execute -m costsim_assets.definitions -a defs -j m6_validation || status=$?
if [ "$status" -eq 0 ]; then
  "$BIN/dagster" job execute -m costsim_assets.definitions -a defs -j daily_canary \
    --tags "{\"dagster/partition\": \"$DAY\"}" || status=$?
fi
awk -v start="$start" -v end="$EPOCHREALTIME" -v day="$DAY" -v status="$status" 'BEGIN {
  printf "make materialize: m6_validation + daily_canary for %s in %.1f s (exit %d)\n", day, end - start, status }'

exit "$status"
