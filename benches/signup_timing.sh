#!/usr/bin/env bash
# Sign-up timing: does a post's answer time tell what the address is?
# `mechcal serve` (release, the sample deadlines and subscribers file,
# sign-up open, the per-client limit lifted) takes ROUNDS posts of each of
# five kinds of address — new, pending, confirmed, in the subscribers file,
# in the file with an OpenPGP key — interleaved at random on one keep-alive
# connection, PAUSE_MS apart (benches/signup_timing.py). Prints each kind's
# median answer time and the ratio of the slowest median to the fastest
# (goal: under 1.05). Stops everything it started.
#
# Usage: bash benches/signup_timing.sh [ROUNDS] [PAUSE_MS]
set -euo pipefail
rounds="${1:-200}"
pause="${2:-10}"
top="$(cd "$(dirname "$0")/.." && pwd)"

bench_packages="curl:curl"
# shellcheck source=benches/common.sh
source "$top/benches/common.sh"

port=18493
signup_site "$port"
python3 "$top/benches/signup_timing.py" "http://127.0.0.1:$port/" "$work/maildir" "$rounds" "$pause"
