#!/usr/bin/env bash
# The web page in headless Chromium (Debian `chromium`): screenshots at phone
# and desktop widths (kept in target/browser/ as test artifacts), the rendered
# DOM checked, and Chromium's network log checked for any request to a host
# other than the loopback server, and its console for anything the page's
# Content-Security-Policy blocked.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
out="$top/target/browser"
mkdir -p "$out"

if ! command -v chromium >/dev/null 2>&1; then
    echo "== browser: installing chromium (Debian)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi

bin="${MECHCAL_BIN:-$top/target/release/mechcal}"
[ -x "$bin" ] || (cd "$top" && cargo build --release --quiet)

work="$(mktemp -d)"
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# A port chosen first: sign-up checks a post's Origin against base_url.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cp "$top/config/subscribers.example.toml" "$work/subscribers.toml"
cp -r "$top/config/keys" "$work/keys"
chmod 600 "$work/subscribers.toml"
cat > "$work/mechcal.toml" <<TOML
[calendar]
name = "Human-rights mechanisms: deadlines"
domain = "calendar.example.org"
base_url = "http://127.0.0.1:$port/"
[data]
deadlines = "$top/deadlines"
[state]
path = "$work/state.sqlite"
[reminders]
subscribers = "$work/subscribers.toml"
[subscriptions]
open = true
[mail]
maildir = "$work/maildir"
TOML
"$bin" --config "$work/mechcal.toml" serve --listen "127.0.0.1:$port" 2> "$work/serve.log" &
server=$!
url=""
for _ in $(seq 1 100); do
    url="$(grep -o 'http://127.0.0.1:[0-9]*/' "$work/serve.log" | head -1 || true)"
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { cat "$work/serve.log"; echo "server did not start"; exit 1; }

# Chromium asks Google's autofill server about any page with a form field
# (content-autofill.googleapis.com): the browser's own doing, whatever the
# page — it is turned off so that the check below sees only what the page
# itself loads.
quiet="--disable-features=AutofillServerCommunication"
export MECHCAL_CHROMIUM_FLAGS="$quiet"

shoot() { # name width lang [path]
    local name=$1 width=$2 lang=$3 path=${4:-}
    chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --no-first-run --disable-sync --disable-quic "$quiet" \
        --user-data-dir="$work/profile-$name" --hide-scrollbars \
        --log-net-log="$work/$name.netlog.json" \
        --window-size="$width,2400" --screenshot="$out/$name.png" \
        "${url}${path}?lang=$lang" >/dev/null 2>&1
    chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --no-first-run --disable-sync --disable-quic "$quiet" \
        --user-data-dir="$work/profile-$name-dom" --enable-logging=stderr --v=0 \
        --dump-dom "${url}${path}?lang=$lang" \
        > "$out/$name.dom.html" 2> "$work/$name.console.log"
}
shoot phone-ru 390 ru
shoot desktop-en 1280 en
# An entry with milestones: its timeline, the extension, the requirements.
shoot milestone-en 1280 en deadlines/example-upr-review.submission
# The picture README shows (docs/screenshot.png is a copy of this one):
# the top of the page at a laptop's width.
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --no-first-run --disable-sync --disable-quic "$quiet" \
    --user-data-dir="$work/profile-readme" --hide-scrollbars \
    --window-size=1100,900 --screenshot="$out/readme.png" "${url}?lang=en" >/dev/null 2>&1
[ -s "$out/readme.png" ] || { echo "no README screenshot"; exit 1; }

python3 - "$out" "$work" "$url" <<'PY'
import json, pathlib, sys, urllib.parse
out, work, url = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
problems = []
for name, must in [("phone-ru", ["Подписаться на этот календарь", "Декабрь 2026"]),
                   ("desktop-en", ["Subscribe to this calendar", "December 2026", "Past deadlines",
                                   "Stakeholder submission — Example: UPR review of Belarus",
                                   "open until further notice"]),
                   ("milestone-en", ["Timeline", "Extended from", "25 March 2027", "Opens",
                                     'aria-current="page"', "Review in the Working Group",
                                     "Adoption of the outcome", "Requirements"])]:
    png = out / f"{name}.png"
    if not png.exists() or png.stat().st_size < 5000:
        problems.append(f"{name}: no screenshot")
    dom = (out / f"{name}.dom.html").read_text(encoding="utf-8")
    for text in must:
        if text not in dom:
            problems.append(f"{name}: the rendered page lacks {text!r}")
    # Every URL Chromium asked for, from its network log.
    # The page must render under its own Content-Security-Policy: Chromium
    # logs every blocked style, script or load to the console.
    console = (work / f"{name}.console.log").read_text(encoding="utf-8", errors="replace")
    for line in console.splitlines():
        if "Content Security Policy" in line:
            problems.append(f"{name}: {line.strip()[:300]}")
    log = (work / f"{name}.netlog.json").read_text(encoding="utf-8", errors="replace")
    try:
        events = json.loads(log).get("events", [])
    except json.JSONDecodeError:
        # Chromium leaves the file unterminated when killed; close it.
        events = json.loads(log.rstrip().rstrip(",") + "]}").get("events", [])
    # Requests the page caused carry the page's site in their network
    # isolation key; Chromium's own background fetches (updates, sign-in)
    # carry none or their own, and are not the page's doing.
    hosts = set()
    for e in events:
        p = e.get("params") or {}
        u, nik = p.get("url"), p.get("network_isolation_key", "")
        if isinstance(u, str) and "://" in u and nik.startswith("http://127.0.0.1"):
            hosts.add(urllib.parse.urlsplit(u).hostname)
    outside = sorted(h for h in hosts if h not in ("127.0.0.1", "localhost", None))
    if outside:
        problems.append(f"{name}: requests to non-loopback hosts: {outside}")
    if "127.0.0.1" not in hosts:
        problems.append(f"{name}: the network log shows no request at all; is it read right?")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print("browser: 3 passed, 0 failed (screenshots in target/browser/)")
PY

command -v sqlite3 >/dev/null 2>&1 || { export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq sqlite3 >/dev/null; }
python3 "$here/signup.py" "$url" "$work/maildir" "$bin" "$work/mechcal.toml" "$work" "$work/state.sqlite"

# Accessibility: axe-core in this Chromium (puppeteer-core launches
# /usr/bin/chromium; it downloads no browser), on every kind of page. The
# preference and unsubscribe links come from a reminder the sign-up test's
# passes sent to one of the sample's subscribers (in clear).
echo "== browser: accessibility (axe-core)"
node_dir="$out/node"
if [ ! -d "$node_dir/node_modules/puppeteer-core" ] || [ ! -d "$node_dir/node_modules/axe-core" ]; then
    PUPPETEER_SKIP_DOWNLOAD=1 npm install --silent --no-audit --no-fund --prefix "$node_dir" \
        puppeteer-core@24.43.1 axe-core@4.14.1 >/dev/null
fi
cp "$here/axe.mjs" "$node_dir/axe.mjs"
links="$(python3 - "$work/maildir" <<'PY'
import email, email.policy, pathlib, re, sys
for path in sorted(pathlib.Path(sys.argv[1], "new").iterdir()):
    m = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
    body = m.get_body(preferencelist=("plain",))
    if body is None:
        continue
    text = body.get_content()
    manage = re.search(r"\S+/manage\?token=\S+", text)
    stop = re.search(r"\S+/unsubscribe\?token=\S+", text)
    if manage and stop:
        print(manage.group(0), stop.group(0))
        break
PY
)"
read -r manage unsubscribe <<< "$links"
[ -n "${manage:-}" ] && [ -n "${unsubscribe:-}" ] || { echo "no reminder with a preference link in $work/maildir"; exit 1; }
MECHCAL_CHROMIUM_FLAGS="$quiet" node "$node_dir/axe.mjs" \
    "${url}?lang=en" "${url}?lang=be" "${url}?lang=ru" \
    "${url}deadlines/example-upr-review.submission" \
    "${url}deadlines/example-upr-review.submission?lang=ru" \
    "${url}subscribe" "${url}privacy?lang=be" \
    "$manage" "${url}manage?token=not-a-token" \
    "$unsubscribe" "${url}unsubscribe?token=not-a-token"
