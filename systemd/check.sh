#!/usr/bin/env bash
# Checks systemd/mechcal.service with systemd's own tools:
#   systemd-analyze verify                   (syntax, directives, commands)
#   systemd-analyze security --offline=yes   (exposure score, must be <= 1.5)
#   syscalls.py                              (every system call mechcal makes in a
#                                             day's work passes SystemCallFilter=)
# verify needs ExecStart's program to exist, so it reads a copy of the unit
# whose ExecStart names the freshly built binary; nothing else differs.
# MECHCAL_BIN: the binary (default target/debug/mechcal). Installs systemd
# (for systemd-analyze) and strace if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
unit=systemd/mechcal.service
bin="${MECHCAL_BIN:-$PWD/target/debug/mechcal}"
max=1.5

need=()
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v strace >/dev/null 2>&1 || need+=(strace)
if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    sudo_=""
    [ "$(id -u)" -eq 0 ] || sudo_="sudo"
    $sudo_ apt-get update -qq
    $sudo_ apt-get install -y -qq "${need[@]}" >/dev/null
fi
systemd-analyze --version | head -1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s#^ExecStart=/usr/local/bin/mechcal #ExecStart=$bin #" "$unit" >"$tmp/mechcal.service"
# Only ExecStart may differ.
diff <(grep -v '^ExecStart=' "$unit") <(grep -v '^ExecStart=' "$tmp/mechcal.service")
grep -q "^ExecStart=$bin " "$tmp/mechcal.service"

echo "-- systemd-analyze verify"
out=$(systemd-analyze verify "$tmp/mechcal.service" 2>&1) || { echo "$out"; exit 1; }
# verify exits 0 on some warnings: any output is a finding.
if [ -n "$out" ]; then
    echo "$out"
    exit 1
fi
echo "ok"

echo "-- systemd-analyze security --offline=yes"
report=$(systemd-analyze security --offline=yes "$unit" 2>&1)
score=$(printf '%s\n' "$report" | sed -n 's/.*Overall exposure level for mechcal.service: \([0-9.]*\).*/\1/p')
if [ -z "$score" ]; then
    echo "$report"
    echo "no exposure score found" >&2
    exit 1
fi
echo "exposure $score (at most $max)"
awk -v s="$score" -v m="$max" 'BEGIN { exit !(s <= m) }' || {
    printf '%s\n' "$report" | grep '✗'
    echo "exposure $score is above $max" >&2
    exit 1
}

echo "-- system calls under SystemCallFilter= (strace)"
python3 systemd/syscalls.py "$bin"
