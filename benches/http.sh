#!/usr/bin/env bash
# Serves the same /calendar.ics bytes (~1,000 events) from mechcal and from
# nginx (a static file) on loopback, runs wrk against both, and prints req/s
# and the ratios: a full download, and a 304 revalidation (If-None-Match).
# Targets: full feed >= 0.9x nginx; 304 >= 1.0x nginx.
# Installs wrk and nginx (Debian) if missing; stops everything it started.
#
# Usage: bash benches/http.sh [SECONDS] [CONNECTIONS]   (ROUNDS=3 by default)
set -euo pipefail
seconds="${1:-5}"
conns="${2:-64}"
top="$(cd "$(dirname "$0")/.." && pwd)"

bench_packages="wrk:wrk nginx:nginx-light"
# shellcheck source=benches/common.sh
source "$top/benches/common.sh"

bench_data 1000
"$bin" --config "$work/mechcal.toml" render --out "$work/public" --now 2026-11-23T12:00:00Z >/dev/null

RUST_LOG=warn "$bin" --config "$work/mechcal.toml" serve --listen 127.0.0.1:18471 2>"$work/serve.log" &
pids+=($!)

mkdir -p "$work/nginx/logs"
cat > "$work/nginx.conf" <<CONF
user root;
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    types { text/calendar ics; }
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    server {
        listen 127.0.0.1:18472;
        root $work/public;
    }
}
CONF
nginx -c "$work/nginx.conf" -p "$work/nginx" -g 'daemon off;' &
pids+=($!)

for _ in $(seq 1 100); do
    if curl -sf -o /dev/null http://127.0.0.1:18471/healthz && curl -sf -o /dev/null http://127.0.0.1:18472/calendar.ics; then break; fi
    sleep 0.1
done
mech_url=http://127.0.0.1:18471/calendar.ics
nginx_url=http://127.0.0.1:18472/calendar.ics
if ! cmp -s <(curl -s "$mech_url") <(curl -s "$nginx_url"); then
    echo "the two servers do not serve the same bytes" >&2
    exit 1
fi
size=$(curl -s "$mech_url" | wc -c)
events=$(curl -s "$mech_url" | grep -c '^BEGIN:VEVENT')
etag_of() { curl -sI "$1" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}'; }

rps() { # url [header]
    local out
    if [ $# -gt 1 ]; then
        out=$(wrk -t2 -c"$conns" -d"${seconds}s" -H "$2" "$1")
    else
        out=$(wrk -t2 -c"$conns" -d"${seconds}s" "$1")
    fi
    if echo "$out" | grep -q "Non-2xx or 3xx"; then
        echo "$out" >&2
        echo "errors" >&2
        exit 1
    fi
    echo "$out" | awk '/Requests\/sec/{print $2}'
}

rounds="${ROUNDS:-3}"
echo "calendar.ics: $events events, $size bytes; wrk -t2 -c$conns -d${seconds}s on loopback, $rounds alternating rounds, medians"
mech_etag="If-None-Match: $(etag_of "$mech_url")"
nginx_etag="If-None-Match: $(etag_of "$nginx_url")"
mf=(); nf=(); m3=(); n3=()
for _ in $(seq 1 "$rounds"); do
    mf+=("$(rps "$mech_url")")
    nf+=("$(rps "$nginx_url")")
    m3+=("$(rps "$mech_url" "$mech_etag")")
    n3+=("$(rps "$nginx_url" "$nginx_etag")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "runs (req/s): mechcal full ${mf[*]} | nginx full ${nf[*]} | mechcal 304 ${m3[*]} | nginx 304 ${n3[*]}"
awk -v mf="$(median "${mf[@]}")" -v nf="$(median "${nf[@]}")" -v m3="$(median "${m3[@]}")" -v n3="$(median "${n3[@]}")" 'BEGIN {
    printf "full feed:  mechcal %10.0f req/s   nginx %10.0f req/s   ratio %.2f (target >= 0.9)\n", mf, nf, mf / nf
    printf "304:        mechcal %10.0f req/s   nginx %10.0f req/s   ratio %.2f (target >= 1.0)\n", m3, n3, m3 / n3
}'
