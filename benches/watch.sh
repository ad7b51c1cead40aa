#!/usr/bin/env bash
# Issue 14's benchmark: one `mechcal watch` pass over 1,000 URLs on 20
# loopback hosts (benches/watch_site.py), with [watch] host_delay = 100ms
# and hosts_at_once = 20: the pass is bounded below by the per-host delay
# (50 URLs a host: 49 waits = 4.9 s), as it should be. Prints the pass's
# duration against that bound, and the process's peak memory (max RSS),
# for a first pass (200s, texts stored) and a second (conditional: 304s);
# then 10,000 URLs without delay, to show memory does not grow with the
# number of URLs.
#
# Run: bash benches/watch.sh
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
bench_packages=""
# shellcheck source=benches/common.sh
. "$top/benches/common.sh"

python3 "$top/benches/watch_site.py" 20 > "$work/hosts.txt" &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$work/hosts.txt" 2>/dev/null && break; sleep 0.1; done
mapfile -t hosts < <(grep -v ready "$work/hosts.txt")

# N entries spread over the hosts, and a config with host_delay $2.
setup() {
    local n=$1 delay=$2
    rm -rf "$work/deadlines" "$work/state.sqlite"*
    mkdir -p "$work/deadlines"
    cp "$top/deadlines/registry.toml" "$work/deadlines/"
    python3 - "$n" "$work/deadlines" "${hosts[@]}" <<'PY'
import sys
n, out, hosts = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
per_file = 100
for f in range(0, n, per_file):
    with open(f"{out}/watched-{f // per_file:04}.toml", "w") as fh:
        for i in range(f, min(f + per_file, n)):
            host = hosts[i % len(hosts)]
            fh.write(
                f'[[deadline]]\nid = "watched-{i}"\ntitle = "Call {i}"\nmechanism = "cedaw"\n'
                f'topics = ["women"]\ndue = 2099-01-15\nurl = "http://{host}/calls/{i}"\n\n'
            )
PY
    cat > "$work/mechcal.toml" <<TOML
[calendar]
domain = "calendar.example.org"
[data]
deadlines = "deadlines"
[state]
path = "state.sqlite"
[watch]
contact = "calendar-team@example.org"
allow_private = true
timeout = "10s"
host_delay = "$delay"
hosts_at_once = 20
TOML
}

# One pass: prints "seconds max_rss_kib checked problems".
pass() {
    python3 - "$bin" "$work/mechcal.toml" <<'PY'
import json, resource, subprocess, sys, time
start = time.monotonic()
out = subprocess.run([sys.argv[1], "--config", sys.argv[2], "watch", "--format", "json"],
                     capture_output=True, text=True)
took = time.monotonic() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
r = json.loads(out.stdout)
print(f"{took:.2f} {rss} {r['summary']['checked']} {r['summary']['problems']}")
PY
}

# `mechcal check` on the same data: the memory of loading the catalog,
# which a watch pass loads too.
baseline() {
    python3 - "$bin" "$work/mechcal.toml" <<'PY'
import resource, subprocess, sys
subprocess.run([sys.argv[1], "--config", sys.argv[2], "check"], capture_output=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}

report() {
    local label=$1 bound=$2
    read -r took rss checked problems < <(pass)
    if [ "$bound" = "-" ]; then
        printf '%-34s %8.2f s  %9s KiB max RSS  %6s checked, %s problems\n' "$label" "$took" "$rss" "$checked" "$problems"
    else
        ratio=$(python3 -c "print(f'{$took / $bound:.2f}')")
        printf '%-34s %8.2f s  (bound %.1f s: %s×)  %9s KiB max RSS  %6s checked, %s problems\n' \
            "$label" "$took" "$bound" "$ratio" "$rss" "$checked" "$problems"
    fi
}

setup 1000 100ms
printf '%-34s %30s %9s KiB max RSS\n' "1,000 entries: check alone" "" "$(baseline)"
report "1,000 URLs / 20 hosts, first pass" 4.9
report "1,000 URLs / 20 hosts, 304 pass" 4.9
setup 10000 0ms
printf '%-34s %30s %9s KiB max RSS\n' "10,000 entries: check alone" "" "$(baseline)"
report "10,000 URLs / 20 hosts, no delay" -
report "10,000 URLs / 20 hosts, 304 pass" -
