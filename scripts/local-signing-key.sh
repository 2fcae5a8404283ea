#!/usr/bin/env bash
# Prints this checkout's local signing key ("local:<base64url>"), creating it on first use under the
# git-ignored .artifacts/local/. Local development only: production keys come from a secret.
set -euo pipefail
cd "$(dirname "$0")/.."
file=.artifacts/local/signing-keys
if [ ! -s "$file" ]; then
  mkdir -p "$(dirname "$file")"
  umask 077
  python3 -c 'import base64, secrets; print("local:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="))' > "$file"
fi
cat "$file"
