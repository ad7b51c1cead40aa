#!/usr/bin/env bash
# The tests that drive third-party programs, on a PATH without those
# programs and with installing forbidden: each must skip with its loud
# `skipped: <program> missing` line, and none may fail or panic.
# Usage: bash tests/without-tools.sh (from anywhere; builds what it needs).
set -euo pipefail
cd "$(dirname "$0")/.."

optional=(gpg spamassassin man openssl curl chromium systemd-analyze strace
          node npm sqlite3 faketime apt-get sudo)
bin="$PWD/target/without-tools/bin"
rm -rf "$bin"
mkdir -p "$bin"
# A directory of links to every program on PATH but the optional ones
# (the first of each name wins, as on PATH).
IFS=: read -r -a dirs <<< "$PATH"
for dir in "${dirs[@]}"; do
    [ -d "$dir" ] || continue
    for program in "$dir"/*; do
        name="${program##*/}"
        [ -x "$program" ] && [ ! -d "$program" ] || continue
        [ -e "$bin/$name" ] && continue
        for skip in "${optional[@]}"; do
            [ "$name" = "$skip" ] && continue 2
        done
        ln -s "$program" "$bin/$name"
    done
done

log="$PWD/target/without-tools/test.log"
set +e
MECHCAL_TEST_INSTALL=0 PATH="$bin" cargo test --test it -- \
    openpgp:: spam:: man_pages a_dkim_key_that_cannot third_party:: a_replica_whose_clock 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
skipped=$(grep -o 'skipped: .* missing (.*): .*' "$log" | sed 's/.*): //' | sort -u | wc -l)
echo "without the optional programs: exit $status, $skipped tests skipped"
[ "$status" -eq 0 ] || { echo "a test failed or panicked without its programs" >&2; exit 1; }
[ "$skipped" -gt 0 ] || { echo "no test said it skipped: are the programs still on PATH?" >&2; exit 1; }
