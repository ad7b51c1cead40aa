#!/usr/bin/env bash
# Memory: `mechcal serve` (release) on 10,000 generated deadlines, asked for
# URLS (20,000) distinct feed URLs by two keep-alive clients: every URL a
# rendering of its own (distinct alarms, languages, filters; 5% of them the
# whole 10,000-event feed, 45% a mechanism's feed, the rest single-deadline
# feeds). Prints the server's resident memory when idle after the start,
# after a warm-up (every route once), its peak during the run (VmHWM, reset
# after the warm-up), after the run, and idle 10 s later; fails unless the
# peak stays under 2 x idle + the cache budget (`[server] cache_mib`,
# CACHE_MIB, default 64).
#
# Usage: bash benches/memory.sh [URLS] [CACHE_MIB]
set -euo pipefail
urls="${1:-20000}"
cache_mib="${2:-64}"
top="$(cd "$(dirname "$0")/.." && pwd)"

bench_packages="curl:curl"
# shellcheck source=benches/common.sh
source "$top/benches/common.sh"

bench_data 10000 "[server]
cache_mib = $cache_mib"
port=18483
RUST_LOG=warn "$bin" --config "$work/mechcal.toml" serve --listen 127.0.0.1:$port 2>"$work/serve.log" &
server=$!
pids+=($server)
for _ in $(seq 1 300); do
    curl -sf -o /dev/null http://127.0.0.1:$port/healthz && break
    sleep 0.1
done
status() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$server/status"; }
sleep 2
idle=$(status VmRSS)
echo "idle after start:     $idle KiB"
curl -sf -o /dev/null "http://127.0.0.1:$port/calendar.ics"
curl -sf -o /dev/null "http://127.0.0.1:$port/"
sleep 2
first=$(status VmRSS)
echo "after one feed + page: $first KiB"

for path in / /calendar.ics /deadlines.json /topics/women.ics /mechanisms/upr.ics \
    /deadlines/deadline-7.ics "/?lang=ru" /healthz /metrics; do
    curl -sf -o /dev/null "http://127.0.0.1:$port$path"
done
warm=$(status VmRSS)
echo "after warm-up:        $warm KiB"
# Reset the peak, so that VmHWM tells the peak of the run alone.
echo 5 > "/proc/$server/clear_refs" 2>/dev/null || true

start=$(date +%s)
python3 - "$port" "$urls" <<'PY'
import http.client, sys, threading
port, total = int(sys.argv[1]), int(sys.argv[2])
mechs = ["upr", "cedaw", "cerd", "crpd", "cat", "crc"]
def url(i):
    lang = "ru" if i % 2 else "en"
    if i % 20 == 0:
        return f"/calendar.ics?alarm=PT{i + 1}M&lang={lang}"
    if i % 20 < 10:
        return f"/mechanisms/{mechs[i % 6]}.ics?alarm=PT{i + 1}M&lang={lang}"
    return f"/deadlines/deadline-{i % 10000}.ics?alarm=PT{i + 1}M&lang={lang}"
errors = []
def client(k):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for i in range(k, total, 2):
        c.request("GET", url(i), headers={"Accept-Encoding": "gzip" if i % 3 else "identity"})
        r = c.getresponse()
        r.read()
        if r.status != 200:
            errors.append((url(i), r.status))
threads = [threading.Thread(target=client, args=(k,)) for k in range(2)]
for t in threads: t.start()
for t in threads: t.join()
if errors:
    sys.exit(f"{len(errors)} failed requests, e.g. {errors[:3]}")
PY
took=$(( $(date +%s) - start ))
peak=$(status VmHWM)
after=$(status VmRSS)
echo "peak during $urls URLs: $peak KiB ($took s)"
echo "after the run:        $after KiB"
curl -s http://127.0.0.1:$port/metrics | grep -E '^mechcal_render_cache_(entries|bytes|budget_bytes) '
sleep 10
rest=$(status VmRSS)
echo "idle 10 s later:      $rest KiB"
awk -v p="$peak" -v i="$idle" -v b="$cache_mib" 'BEGIN {
    bound = 2 * i + b * 1024
    printf "peak %d KiB vs bound 2 x %d + %d MiB = %d KiB: %.2f of the bound\n", p, i, b, bound, p / bound
    exit !(p <= bound)
}'
