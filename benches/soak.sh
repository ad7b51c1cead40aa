#!/usr/bin/env bash
# Soak: `mechcal serve` (release, 1,000 generated deadlines) under wrk with
# 256 connections for 30 s (SECONDS, CONNECTIONS to change), over a mix of
# every route, filters and query variants — more distinct URLs than the
# render cache holds, so that its bound is exercised — with a slowloris
# crowd (header timeout 2 s) alongside. Prints wrk's errors and the
# server's resident memory every 5 s; fails on any wrk error or non-2xx/3xx
# answer, or when memory after the run exceeds memory after the warm-up
# run by more than 20%.
# Installs wrk (Debian) if missing; stops everything it started.
#
# Usage: bash benches/soak.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
seconds="${1:-30}"
conns="${2:-256}"
top="$(cd "$(dirname "$0")/.." && pwd)"

bench_packages="wrk:wrk"
# shellcheck source=benches/common.sh
source "$top/benches/common.sh"

bench_data 1000 "[server]
header_timeout_seconds = 2"
# The file limit must cover wrk's and the slow clients' connections.
ulimit -n 65536 2>/dev/null || true
RUST_LOG=warn "$bin" --config "$work/mechcal.toml" serve --listen 127.0.0.1:18481 2>"$work/serve.log" &
server=$!
pids+=($server)
for _ in $(seq 1 100); do
    curl -sf -o /dev/null http://127.0.0.1:18481/healthz && break
    sleep 0.1
done

# 600 distinct URLs: every route, topic/mechanism filters, both languages,
# alarms and ids, some conditional.
etag=$(curl -sI http://127.0.0.1:18481/calendar.ics | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
cat > "$work/mix.lua" <<LUA
local paths = {}
local topics = {"women", "discrimination", "elections", "torture", "children", "civil-society"}
local mechs = {"upr", "cedaw", "cerd", "crpd", "cat", "crc"}
for i = 1, 100 do
  local t, m = topics[i % 6 + 1], mechs[i % 6 + 1]
  table.insert(paths, "/calendar.ics?alarm=P" .. i .. "D")
  table.insert(paths, "/topics/" .. t .. ".ics?lang=" .. (i % 2 == 0 and "ru" or "en") .. "&alarm=PT" .. i .. "H")
  table.insert(paths, "/mechanisms/" .. m .. ".ics")
  table.insert(paths, "/deadlines/deadline-" .. (i * 7) .. ".ics")
  table.insert(paths, "/?topic=" .. t .. "&mechanism=" .. m)
  table.insert(paths, "/deadlines.json?topic=" .. t)
end
local n = 0
request = function()
  n = n + 1
  local p = paths[n % #paths + 1]
  if n % 5 == 0 then
    return wrk.format("GET", "/calendar.ics", { ["If-None-Match"] = '$etag' })
  end
  return wrk.format("GET", p)
end
LUA

rss() { awk '/VmRSS/{print $2}' "/proc/$server/status"; }
run() { # seconds label
    wrk -t2 -c"$conns" -d"$1s" --timeout 10s -s "$work/mix.lua" http://127.0.0.1:18481 >"$work/wrk-$2.txt" &
    local w=$!
    local t=0
    while kill -0 "$w" 2>/dev/null; do
        sleep 5
        t=$((t + 5))
        kill -0 "$w" 2>/dev/null && echo "  $2 t=${t}s rss=$(rss) KiB"
    done
    wait "$w"
}

# The slowloris crowd: 200 connections dripping a header byte every second.
python3 - "$seconds" <<'PY' &
import socket, sys, time
end = time.time() + int(sys.argv[1]) + 15
socks = []
while time.time() < end:
    while len(socks) < 200:
        s = socket.create_connection(("127.0.0.1", 18481))
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        socks.append(s)
    alive = []
    for s in socks:
        try:
            s.sendall(b"a")
            alive.append(s)
        except OSError:
            s.close()
    socks = alive
    time.sleep(1)
PY
pids+=($!)

echo "start rss=$(rss) KiB"
run 10 warm-up
warm=$(rss)
echo "after warm-up rss=$warm KiB"
run "$seconds" soak
after=$(rss)
sleep 3
echo "after soak rss=$after KiB; 3 s later $(rss) KiB"
cat "$work/wrk-soak.txt"
metrics=$(curl -s http://127.0.0.1:18481/metrics)
echo "$metrics" | grep -E '^mechcal_http_(header_timeouts|connection_errors)_total|code="5xx"} [1-9]' || true
fail=0
for f in "$work"/wrk-*.txt; do
    if grep -Eq "Socket errors|Non-2xx or 3xx" "$f"; then
        echo "errors in $(basename "$f"):" >&2
        grep -E "Socket errors|Non-2xx or 3xx" "$f" >&2
        fail=1
    fi
done
awk -v a="$after" -v w="$warm" 'BEGIN {
    printf "memory: %d KiB after warm-up, %d KiB after %s s (%+.1f%%)\n", w, a, "'"$seconds"'", (a - w) * 100 / w
    exit !(a <= w * 1.2)
}' || { echo "memory grew by more than 20%" >&2; fail=1; }
exit "$fail"
