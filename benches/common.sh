# Sourced by the benchmark scripts: installs the Debian packages named in
# $bench_packages when their commands are missing, builds the release
# binary ($bin), and makes a work directory ($work) that is removed, with
# every process in $pids, on exit. Expects $top (the repository).
# `bench_data N [TOML]` generates N deadlines into $work/deadlines and
# writes $work/mechcal.toml for them, with TOML appended. `bench_postgres`
# starts a PostgreSQL server (below).
# shellcheck shell=bash
need=()
for pkg in $bench_packages; do
    cmd="${pkg%%:*}"
    command -v "$cmd" >/dev/null || need+=("${pkg#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq "${need[@]}" >/dev/null
fi
(cd "$top" && cargo build --release --quiet)
# MECHCAL_BIN runs the bench against another build (an A/B with an older one).
bin="${MECHCAL_BIN:-$top/target/release/mechcal}"

work="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# `bench_postgres`: a PostgreSQL server of Debian's (installed if missing)
# on a free loopback port, durable as in production (fsync on), with an
# empty database; sets $pgurl. Stopped with the script.
bench_postgres() {
    local pgbin pgport
    pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
    if [ -z "$pgbin" ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null && apt-get install -y -qq postgresql >/dev/null
        pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
    fi
    local as_pg=()
    [ "$(id -u)" -eq 0 ] && as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups)
    # Outside $work: the postgres user may not enter it.
    pgdir="$(mktemp -d)"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$pgdir"
    "${as_pg[@]}" "$pgbin/initdb" -D "$pgdir/data" -A trust -U postgres -E UTF8 >/dev/null
    pgport="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    "${as_pg[@]}" "$pgbin/postgres" -D "$pgdir/data" -p "$pgport" -k "$pgdir" \
        -c listen_addresses=127.0.0.1 -c max_connections=200 >"$work/postgres.log" 2>&1 &
    pids+=($!)
    trap 'cleanup; rm -rf "$pgdir"' EXIT
    for _ in $(seq 1 100); do "$pgbin/pg_isready" -h 127.0.0.1 -p "$pgport" >/dev/null && break; sleep 0.1; done
    "$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U postgres mechcal
    pgurl="postgres://postgres@127.0.0.1:$pgport/mechcal?sslmode=disable"
}

bench_data() {
    python3 "$top/benches/gen_deadlines.py" "$work/deadlines" "$1"
    cat > "$work/mechcal.toml" <<TOML
[calendar]
domain = "calendar.example.org"
keep_past_days = 3650
[data]
deadlines = "deadlines"
[state]
path = "state.sqlite"
${2:-}
TOML
}

# `signup_site PORT [TOML]`: `serve` on 127.0.0.1:PORT over the sample
# deadlines and subscribers file (with its OpenPGP key), sign-up open and
# the per-client limit lifted, mail to $work/maildir, TOML appended to the
# config; returns once it answers. Stopped with the script.
signup_site() {
    local port="$1"
    cp "$top/config/subscribers.example.toml" "$work/subscribers.toml"
    cp -r "$top/config/keys" "$work/keys"
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
${2:-}
TOML
    RUST_LOG=warn "$bin" --config "$work/mechcal.toml" serve --listen "127.0.0.1:$port" 2>"$work/serve.log" &
    pids+=($!)
    for _ in $(seq 1 100); do
        curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
        sleep 0.1
    done
}
