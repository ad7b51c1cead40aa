# Sourced by the benchmark scripts: installs the Debian packages named in
# $bench_packages when their commands are missing, builds the release
# binary ($bin), and makes a work directory ($work) that is removed, with
# every process in $pids, on exit. Expects $top (the repository).
# `bench_data N [TOML]` generates N deadlines into $work/deadlines and
# writes $work/mechcal.toml for them, with TOML appended.
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
