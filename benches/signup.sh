#!/usr/bin/env bash
# Sign-ups through the HTTP endpoint: `mechcal serve` (release, the sample
# deadlines, sign-up open, the per-client limit lifted) takes 10,000
# sign-ups of distinct addresses (POST /subscribe with a valid form token,
# 16 keep-alive connections from benches/signup_client.py), each stored sealed in the state
# database (synchronous writes) and answered, its confirmation mail written
# to a Maildir after the answer. Prints sign-ups/s, checks that the
# database holds exactly 10,000 pending sign-ups and the Maildir 10,000
# confirmations, and that no address is in the database files.
# Installs sqlite3 (Debian) if missing; stops everything it started.
#
# With DKIM=rsa (or DKIM=ed25519) every confirmation is DKIM-signed with a
# fresh key (made by openssl).
#
# Usage: [DKIM=rsa|ed25519] bash benches/signup.sh [SIGNUPS]
set -euo pipefail
total="${1:-10000}"
top="$(cd "$(dirname "$0")/.." && pwd)"

bench_packages="sqlite3:sqlite3"
# shellcheck source=benches/common.sh
source "$top/benches/common.sh"

port=18491
dkim=""
case "${DKIM:-}" in
    rsa) openssl genrsa -out "$work/dkim.pem" 2048 2>/dev/null ;;
    ed25519) openssl genpkey -algorithm ed25519 -out "$work/dkim.pem" 2>/dev/null ;;
esac
if [ -n "${DKIM:-}" ]; then
    dkim=$(printf '[mail.dkim]\ndomain = "calendar.example.org"\nselector = "bench"\nkey_file = "dkim.pem"\n')
fi
signup_site "$port" "$dkim"
token=$(curl -sf "http://127.0.0.1:$port/subscribe" | grep -o 'name="token" value="[^"]*"' | sed 's/.*value="//; s/"$//')

read -r requests secs errors < <(python3 "$top/benches/signup_client.py" "http://127.0.0.1:$port/" "$token" "$total" 16)
# Wait for the confirmation mails written after the answers.
for _ in $(seq 1 200); do
    n=$(find "$work/maildir/new" -name '*.mechcal' 2>/dev/null | wc -l)
    [ "$n" -ge "$total" ] && break
    sleep 0.1
done
stored=$(sqlite3 "$work/state.sqlite" "SELECT COUNT(*) FROM subscriptions WHERE status = 'pending'")
mails=$(grep -l '^Subject: Your deadline reminders' "$work/maildir/new/"* | wc -l)
python3 - "$secs" "$stored" "$mails" "$requests" "$total" <<'PY'
import sys
secs, stored, mails, requests, total = map(float, sys.argv[1:])
print(f"sign-ups: {int(requests)} answered in {secs:.2f} s: {requests / secs:,.0f} sign-ups/s (16 connections)")
print(f"stored pending: {int(stored)}; confirmation mails: {int(mails)}")
if stored < total or mails < total:
    sys.exit(f"expected {int(total)} of each")
PY
for a in bench-0-0-1@ bench-1-3-7@; do
    if grep -a -r -q "$a" "$work/state.sqlite"*; then
        echo "an address is in the database: $a"; exit 1
    fi
done
echo "no address in the database files"
if [ -n "${DKIM:-}" ]; then
    signed=$(grep -l '^DKIM-Signature: v=1; a=' "$work/maildir/new/"* | wc -l)
    echo "DKIM-signed ($DKIM): $signed"
    [ "$signed" -ge "$total" ] || { echo "expected $total signed mails"; exit 1; }
fi
