#!/usr/bin/env bash
# The state engines side by side, in one run: a reminder pass of `mechcal
# remind` (plan, ledger writes, every message to a Maildir) for 10,000
# subscribers × 1,000 deadlines, on SQLite (`[state] path`) and on
# PostgreSQL (`[state] url`, a server this script starts on loopback); then
# the same pass again (nothing new to send: plan and ledger reads). Prints
# each time and the ratio PostgreSQL / SQLite.
# Usage: bash benches/state.sh [SUBSCRIBERS] [DEADLINES]
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
subscribers="${1:-10000}"
deadlines="${2:-1000}"
bench_packages="curl:curl"
# shellcheck source=benches/common.sh
source "$top/benches/common.sh"

pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [ -z "$pgbin" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq postgresql >/dev/null
    pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
fi
as_pg=()
[ "$(id -u)" -eq 0 ] && as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups)
pgdir="$(mktemp -d)"
[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$pgdir"
"${as_pg[@]}" "$pgbin/initdb" -D "$pgdir/data" -A trust -U postgres -E UTF8 >/dev/null
pgport="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# Durable as in production: fsync on.
"${as_pg[@]}" "$pgbin/postgres" -D "$pgdir/data" -p "$pgport" -k "$pgdir" \
    -c listen_addresses=127.0.0.1 >"$work/postgres.log" 2>&1 &
pids+=($!)
trap 'cleanup; rm -rf "$pgdir"' EXIT
for _ in $(seq 1 100); do "$pgbin/pg_isready" -h 127.0.0.1 -p "$pgport" >/dev/null && break; sleep 0.1; done
"$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U postgres mechcal

bench_data "$deadlines"
python3 - "$work/subscribers.toml" "$subscribers" <<'PY'
import sys
topics = ["women", "discrimination", "elections", "torture", "children", "civil-society"]
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(f'[[subscriber]]\nname = "S{i}"\nemail = "s{i}@example.org"\n'
                f'topics = ["{topics[i % 6]}"]\nremind_days = [7, 1]\n\n')
PY
chmod 600 "$work/subscribers.toml"
base="$(cat "$work/mechcal.toml")"
config() { # engine
    local state
    case "$1" in
        sqlite) state='path = "state.sqlite"' ;;
        postgres) state="url = \"postgres://postgres@127.0.0.1:$pgport/mechcal?sslmode=disable\"" ;;
    esac
    printf '%s\n' "$base" | sed "s|^path = \"state.sqlite\"|$state|" >"$work/$1.toml"
    cat >>"$work/$1.toml" <<TOML
[reminders]
subscribers = "subscribers.toml"
secret_file = "secret"
[mail]
maildir = "maildir-$1"
TOML
}
config sqlite
config postgres

now="2027-03-01T08:00:00Z"
run() { # engine → seconds and the summary line
    local start end
    start=$(date +%s.%N)
    out="$(RUST_LOG=warn "$bin" --config "$work/$1.toml" remind --now "$now")"
    end=$(date +%s.%N)
    printf '%s %s\n' "$(echo "$end - $start" | bc)" "$(echo "$out" | head -1)"
}
echo "state engines: $subscribers subscribers × $deadlines deadlines, remind --now $now"
declare -A first second
for engine in sqlite postgres; do
    read -r t rest <<<"$(run "$engine")"
    first[$engine]=$t
    echo "  $engine, first pass: $t s ($rest)"
    read -r t rest <<<"$(run "$engine")"
    second[$engine]=$t
    echo "  $engine, same pass again: $t s ($rest)"
done
printf 'ratio postgres/sqlite: first pass %.2f, again %.2f\n' \
    "$(echo "${first[postgres]} / ${first[sqlite]}" | bc -l)" \
    "$(echo "${second[postgres]} / ${second[sqlite]}" | bc -l)"
