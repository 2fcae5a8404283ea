#!/usr/bin/env bash
# Install promtool (for `promtool check rules` / `promtool test rules`) if it is not on PATH.
#
# Idempotent: does nothing when promtool is already available. Otherwise installs Debian's
# `prometheus` package, which ships /usr/bin/promtool. The package also ships a Prometheus
# server service; we only want the CLI, so the install runs under a policy-rc.d that denies
# every service start (exit 101), and any prometheus server that appears anyway is stopped.
set -euo pipefail

if command -v promtool >/dev/null 2>&1; then
    echo "promtool already installed: $(command -v promtool)"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-promtool: promtool not found and apt-get is unavailable;" >&2
    echo "install it from https://prometheus.io/download/ (it ships in the prometheus tarball)" >&2
    exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "install-promtool: need root (or sudo) to apt-get install prometheus" >&2
        exit 1
    fi
fi

POLICY=/usr/sbin/policy-rc.d
BACKUP=""
# prometheus server processes that existed before we started: never touch those.
PRE_EXISTING=" $( (pgrep -x prometheus || true) | tr '\n' ' ') "

restore_policy() {
    if [ -n "$BACKUP" ]; then
        "${SUDO[@]}" mv -f "$BACKUP" "$POLICY"          # put the machine's own policy back
    else
        "${SUDO[@]}" rm -f "$POLICY"                   # we created it, so we remove it
    fi
}

if [ -e "$POLICY" ]; then
    BACKUP="$("${SUDO[@]}" mktemp /usr/sbin/.policy-rc.d.install-promtool.XXXXXX)"
    "${SUDO[@]}" cp -p "$POLICY" "$BACKUP"
fi
trap restore_policy EXIT
trap 'exit 130' INT TERM
printf '#!/bin/sh\n# install-promtool.sh: deny service starts during install\nexit 101\n' \
    | "${SUDO[@]}" tee "$POLICY" >/dev/null
"${SUDO[@]}" chmod 0755 "$POLICY"

"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends prometheus

# Belt and braces: if the package's maintainer scripts still started a server (e.g. on a host
# where systemd ignores policy-rc.d), stop it and keep it from starting at boot.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    "${SUDO[@]}" systemctl disable --now prometheus.service >/dev/null 2>&1 || true
fi
for pid in $(pgrep -x prometheus || true); do
    case "$PRE_EXISTING" in
        *" $pid "*) ;;                                  # not ours
        *) echo "install-promtool: stopping prometheus server (pid $pid) started by the package" >&2
           "${SUDO[@]}" kill "$pid" || true ;;
    esac
done

command -v promtool >/dev/null 2>&1 || { echo "install-promtool: promtool still not on PATH" >&2; exit 1; }
echo "installed $(promtool --version 2>&1 | head -n1)"
