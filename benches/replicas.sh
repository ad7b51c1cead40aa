#!/usr/bin/env bash
# Replicas on PostgreSQL behind nginx (round robin), in one run: the same
# load through one replica and through two, on this machine's cores.
# - sign-ups: 4,000 POST /subscribe of distinct addresses (16 keep-alive
#   connections, benches/signup_client.py), each stored sealed in the
#   shared database and its confirmation mailed to a Maildir;
# - feed GETs: wrk -c64 for 10 s on /calendar.ics (the sample deadlines).
# Prints each figure and the ratio two / one. Installs wrk and nginx
# (Debian) if missing; stops everything it started.
# Usage: bash benches/replicas.sh [SIGNUPS]
set -euo pipefail
total="${1:-4000}"
top="$(cd "$(dirname "$0")/.." && pwd)"
bench_packages="wrk:wrk nginx:nginx-light curl:curl"
# shellcheck source=benches/common.sh
source "$top/benches/common.sh"
bench_postgres

front=18591
replica_ports=(18592 18593)
cp "$top/config/subscribers.example.toml" "$work/subscribers.toml"
cp -r "$top/config/keys" "$work/keys"
chmod 600 "$work/subscribers.toml"
cat > "$work/mechcal.toml" <<TOML
[calendar]
domain = "calendar.example.org"
base_url = "http://127.0.0.1:$front/"
[data]
deadlines = "$top/deadlines"
[state]
url = "$pgurl"
key_file = "address.key"
[reminders]
subscribers = "subscribers.toml"
secret_file = "secret"
[subscriptions]
open = true
per_client_per_hour = 1000000
trusted_proxies = ["127.0.0.1"]
[mail]
maildir = "maildir"
TOML
for port in "${replica_ports[@]}"; do
    RUST_LOG=warn "$bin" --config "$work/mechcal.toml" serve --listen "127.0.0.1:$port" 2>"$work/serve-$port.log" &
    pids+=($!)
    for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
done

mkdir -p "$work/nginx/logs"
front_with() { # upstream ports…
    local servers=""
    for p in "$@"; do servers="$servers server 127.0.0.1:$p;"; done
    cat > "$work/nginx.conf" <<CONF
user root;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    upstream mechcal { $servers keepalive 64; }
    server {
        listen 127.0.0.1:$front;
        location / {
            proxy_pass http://mechcal;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$remote_addr;
        }
    }
}
CONF
    if [ -f "$work/nginx/nginx.pid" ]; then
        nginx -c "$work/nginx.conf" -p "$work/nginx" -s reload
        sleep 1
    else
        nginx -c "$work/nginx.conf" -p "$work/nginx" -g 'daemon off;' &
        pids+=($!)
        for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$front/healthz" && break; sleep 0.1; done
    fi
}

signups() { # label → sign-ups/s
    local token requests secs errors
    token=$(curl -sf "http://127.0.0.1:$front/subscribe" | grep -o 'name="token" value="[^"]*"' | sed 's/.*value="//; s/"$//')
    read -r requests secs errors < <(python3 "$top/benches/signup_client.py" "http://127.0.0.1:$front/" "$token" "$total" 16 "$1")
    [ "$errors" = "0" ] || { echo "errors: $errors" >&2; exit 1; }
    echo "$requests / $secs" | bc -l
}
feed() { # → req/s
    local out
    out=$(wrk -t2 -c64 -d10s "http://127.0.0.1:$front/calendar.ics")
    if echo "$out" | grep -q "Non-2xx or 3xx"; then echo "$out" >&2; exit 1; fi
    echo "$out" | awk '/Requests\/sec/ {print $2}'
}

echo "replicas on PostgreSQL behind nginx: $(nproc) cores"
front_with "${replica_ports[0]}"
one_signup=$(signups one)
one_feed=$(feed)
front_with "${replica_ports[@]}"
two_signup=$(signups two)
two_feed=$(feed)
printf 'sign-ups/s: one replica %.0f, two %.0f, ratio %.2f\n' "$one_signup" "$two_signup" "$(echo "$two_signup / $one_signup" | bc -l)"
printf 'feed GETs/s: one replica %.0f, two %.0f, ratio %.2f\n' "$one_feed" "$two_feed" "$(echo "$two_feed / $one_feed" | bc -l)"
# Every sign-up's confirmation went out (and the start-up pass's reminders).
stored=$(find "$work/maildir/new" -type f | wc -l)
echo "mails: $stored (at least $((2 * total)) confirmations expected)"
[ "$stored" -ge $((2 * total)) ]
