#!/usr/bin/env bash
# Conformance: mechcal's feeds read by real third-party parsers — ical.js (npm,
# Thunderbird's parser), Python icalendar and vobject (PyPI) — which must agree
# with each other and with mechcal's own JSON on every event.
# Installs the parsers itself under target/conformance/ (pinned versions).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
work="$top/target/conformance"
mkdir -p "$work"

echo "== conformance: installing parsers"
# MECHCAL_PYTHON: a Python that has them already (the integration tests
# pass theirs); otherwise a venv of its own.
python="${MECHCAL_PYTHON:-}"
if [ -z "$python" ]; then
    if [ ! -x "$work/venv/bin/python" ]; then
        python3 -m venv "$work/venv"
    fi
    "$work/venv/bin/pip" install --quiet --disable-pip-version-check icalendar==7.3.0 vobject==0.9.9
    python="$work/venv/bin/python"
fi
if [ ! -d "$work/node/node_modules/ical.js" ]; then
    npm install --silent --no-audit --no-fund --prefix "$work/node" ical.js@2.2.1 >/dev/null
fi

bin="${MECHCAL_BIN:-$top/target/release/mechcal}"
if [ ! -x "$bin" ]; then
    (cd "$top" && cargo build --release --quiet)
fi

run="$(mktemp -d)"
trap 'rm -rf "$run"' EXIT
cp -r "$here/fixture" "$run/fixture"
"$bin" --config "$run/fixture/mechcal.toml" render --out "$run/out" --now 2026-11-23T12:00:00Z

# Russian and Belarusian feeds exist only on the server (`?lang=`): fetch
# them, with the JSON of the same moment, from `serve` on a free loopback port.
"$bin" --config "$run/fixture/mechcal.toml" serve --listen 127.0.0.1:0 2>"$run/serve.log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$run"' EXIT
for _ in $(seq 1 100); do
    addr=$(sed -n 's|.*listening on http://\([^/]*\)/.*|\1|p' "$run/serve.log")
    [ -n "$addr" ] && break
    sleep 0.1
done
[ -n "$addr" ] || { cat "$run/serve.log"; exit 1; }
for lang in ru be; do
    mkdir -p "$run/out/$lang/topics"
    curl -sf "http://$addr/calendar.ics?lang=$lang" -o "$run/out/$lang/calendar.ics"
    curl -sf "http://$addr/topics/discrimination.ics?lang=$lang" -o "$run/out/$lang/topics/discrimination.ics"
    curl -sf "http://$addr/deadlines.json?lang=$lang" -o "$run/out/$lang/deadlines.json"
done
kill "$server"

cp "$here/parse_icaljs.mjs" "$work/node/parse_icaljs.mjs"
passed=0
failed=0
for feed in calendar.ics topics/discrimination.ics mechanisms/upr.ics deadlines/emoji.ics deadlines/injection-title.ics ru/calendar.ics ru/topics/discrimination.ics be/calendar.ics be/topics/discrimination.ics; do
    name="${feed//\//_}"
    ics="$run/out/$feed"
    json="$run/out/deadlines.json"
    case "$feed" in ru/* | be/*) json="$run/out/${feed%%/*}/deadlines.json" ;; esac
    node "$work/node/parse_icaljs.mjs" "$ics" > "$run/$name.icaljs.json"
    "$python" "$here/parse_python.py" "$ics" > "$run/$name.python.json"
    # Ground truth: mechcal's JSON entries of the same feed.
    "$python" "$here/expected.py" "$json" "$ics" > "$run/$name.expected.json"
    if "$python" "$here/compare.py" "$ics" "$run/$name.expected.json" "$run/$name.icaljs.json" "$run/$name.python.json"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done
echo "conformance: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
