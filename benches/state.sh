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

bench_postgres

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
        postgres) state="url = \"$pgurl\"" ;;
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
