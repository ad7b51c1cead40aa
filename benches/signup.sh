#!/usr/bin/env bash
# Sign-ups through the HTTP endpoint: `mechcal serve` (release, the sample
# deadlines, sign-up open, the per-client limit lifted) takes 10,000
# sign-ups of distinct addresses from wrk (POST /subscribe with a valid
# form token, 2 threads × 16 connections), each stored sealed in the state
# database (synchronous writes) and answered, its confirmation mail written
# to a Maildir after the answer. Prints sign-ups/s, checks that the
# database holds exactly 10,000 pending sign-ups and the Maildir 10,000
# confirmations, and that no address is in the database files.
# Installs wrk (Debian) if missing; stops everything it started.
#
# Usage: bash benches/signup.sh [SIGNUPS]
set -euo pipefail
total="${1:-10000}"
top="$(cd "$(dirname "$0")/.." && pwd)"

bench_packages="wrk:wrk sqlite3:sqlite3"
# shellcheck source=benches/common.sh
source "$top/benches/common.sh"

port=18491
cp "$top/config/subscribers.example.toml" "$work/subscribers.toml"
chmod 600 "$work/subscribers.toml"
cat > "$work/mechcal.toml" <<TOML
[calendar]
domain = "calendar.example.org"
base_url = "http://127.0.0.1:$port/"
[data]
deadlines = "$top/deadlines"
[state]
path = "state.sqlite"
[reminders]
subscribers = "subscribers.toml"
[subscriptions]
open = true
per_client_per_hour = 1000000
[mail]
maildir = "maildir"
TOML
RUST_LOG=warn "$bin" --config "$work/mechcal.toml" serve --listen "127.0.0.1:$port" 2>"$work/serve.log" &
pids+=($!)
for _ in $(seq 1 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
    sleep 0.1
done
token=$(curl -sf "http://127.0.0.1:$port/subscribe" | grep -o 'name="token" value="[^"]*"' | sed 's/.*value="//; s/"$//')

threads=2
conns=16
cat > "$work/signup.lua" <<LUA
local quota = math.floor($total / $conns)
local tid = 0
function setup(thread)
  thread:set("tid", tid)
  tid = tid + 1
end
function init(args)
  sent = 0
  done = 0
end
request = function()
  sent = sent + 1
  local body = "email=bench-" .. tid .. "-" .. sent .. "-" .. math.random(1, 1000000000) .. "%40example.org"
    .. "&topic=upr&topic=women&lang=en&days=7-1&mode=digest&token=$token"
  return wrk.format("POST", "/subscribe", { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end
response = function(status, headers, body)
  if status ~= 200 then
    print("status " .. status)
    os.exit(1)
  end
  done = done + 1
  if done >= quota * ($conns / $threads) then
    wrk.thread:stop()
  end
end
LUA
start=$(date +%s.%N)
wrk -t"$threads" -c"$conns" -d120s -s "$work/signup.lua" "http://127.0.0.1:$port/" > "$work/wrk.txt"
end=$(date +%s.%N)
# Wait for the confirmation mails written after the answers.
for _ in $(seq 1 200); do
    n=$(find "$work/maildir/new" -name '*.mechcal' 2>/dev/null | wc -l)
    [ "$n" -ge "$total" ] && break
    sleep 0.1
done
stored=$(sqlite3 "$work/state.sqlite" "SELECT COUNT(*) FROM subscriptions WHERE status = 'pending'")
mails=$(grep -l '^Subject: Confirm your deadline reminders' "$work/maildir/new/"* | wc -l)
requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
python3 - "$start" "$end" "$stored" "$mails" "$requests" "$total" <<'PY'
import sys
start, end, stored, mails, requests, total = map(float, sys.argv[1:])
secs = end - start
print(f"sign-ups: {int(requests)} requests in {secs:.2f} s: {requests / secs:,.0f} sign-ups/s")
print(f"stored pending: {int(stored)}; confirmation mails: {int(mails)}")
if stored < total or mails < total:
    sys.exit(f"expected {int(total)} of each")
PY
for a in bench-0-1 bench-1-1; do
    if grep -a -r -q "$a" "$work/state.sqlite"*; then
        echo "an address is in the database: $a"; exit 1
    fi
done
echo "no address in the database files"
