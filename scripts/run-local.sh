#!/usr/bin/env bash
# `make run`, after materializing: the HTTP API beside the Dagster UI, so the signed report links
# in asset metadata open locally. A local admin key is created once under .artifacts/local/.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
local_dir=.artifacts/local
mkdir -p "$local_dir"
export COSTSIM_API_KEYS_FILE="${COSTSIM_API_KEYS_FILE:-$local_dir/keys.yaml}"
if [ ! -s "$local_dir/admin.key" ]; then
  (umask 077; "$BIN/costsim" create-key --tenant local --role admin --keys-file "$COSTSIM_API_KEYS_FILE" \
     > "$local_dir/admin.key" 2>/dev/null)
fi
export COSTSIM_V2_SANDBOX="${COSTSIM_V2_SANDBOX:-true}"
"$BIN/costsim" api --host 127.0.0.1 --port "$API_PORT" &
api_pid=$!
trap 'kill "$api_pid" 2>/dev/null || true' EXIT
echo "Dagster UI: http://127.0.0.1:$PORT"
echo "API:        $COSTSIM_API_BASE_URL  (admin key: $local_dir/admin.key; docs at /docs)"
echo "Kill switch: \`make demo-breach\` in another terminal replays a breaching day (see README)"
"$BIN/dagster" dev -w workspace.yaml -h 127.0.0.1 -p "$PORT"
