# Sourced by the benchmark scripts: installs the Debian packages named in
# $bench_packages when their commands are missing, builds the release
# binary ($bin), and makes a work directory ($work) that is removed, with
# every process in $pids, on exit. Expects $top (the repository).
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
bin="$top/target/release/mechcal"

work="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
