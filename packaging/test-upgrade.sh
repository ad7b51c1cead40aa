#!/usr/bin/env bash
# Upgrading the Debian package over a previous version (as root, on this
# machine). The previous version is the package of this source with the
# binary of a pinned older commit (PREVIOUS: its state schema is 7, this
# one's 8), versioned below this one. The older version is installed and
# sends reminders as the service would (maildir, the sample data, the
# example subscribers); the config is edited; then this version is
# installed over it: the edited config is kept, the state migrated, and a
# pass at the same instant sends nothing again. Ends purged.
#
# Usage: bash packaging/test-upgrade.sh   (after packaging/build-deb.sh)
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
cd "$top"
[ "$(id -u)" -eq 0 ] || { echo "run as root: it installs packages" >&2; exit 2; }
PREVIOUS=8e79ecc62f9f4f7dd182a118246cc6d070aadb84
NOW=2027-01-08T08:00:00Z

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "-- $*"; }
deb="$(ls "$top"/target/debian/mechcal_*_amd64.deb | sort -V | tail -1)"
export DEBIAN_FRONTEND=noninteractive

step "the previous version's binary ($PREVIOUS)"
prev="$top/target/previous"
if [ ! -x "$prev/target/release/mechcal" ] || [ "$(cat "$prev/commit" 2>/dev/null)" != "$PREVIOUS" ]; then
    rm -rf "$prev/src"
    mkdir -p "$prev/src"
    git -C "$top" archive "$PREVIOUS" | tar -x -C "$prev/src"
    (cd "$prev/src" && CARGO_TARGET_DIR="$prev/target" cargo build --release --locked --quiet)
    echo "$PREVIOUS" > "$prev/commit"
fi

step "the previous version's package"
rm -rf "$prev/deb" && mkdir -p "$prev/deb"
dpkg-deb -R "$deb" "$prev/deb/root"
install -m 755 "$prev/target/release/mechcal" "$prev/deb/root/usr/bin/mechcal"
version="$(awk '/^Version:/ {print $2}' "$prev/deb/root/DEBIAN/control")"
old_version="${version%-*}~previous-1"
sed -i "s/^Version: .*/Version: $old_version/" "$prev/deb/root/DEBIAN/control"
old_deb="$prev/deb/mechcal_${old_version}_amd64.deb"
dpkg-deb --build --root-owner-group "$prev/deb/root" "$old_deb" >/dev/null
dpkg --compare-versions "$old_version" lt "$version" || fail "$old_version is not older than $version"

dpkg --purge mechcal >/dev/null 2>&1 || true
rm -rf /var/lib/mechcal /etc/mechcal

step "install $old_version, remind as the service does"
apt-get install -y -qq "$old_deb" >/dev/null 2>&1 || fail "apt-get install $old_deb"
# The first three example subscribers (the fourth names a key file).
awk '/^\[\[subscriber\]\]/ {n++} n <= 3' config/subscribers.example.toml > /etc/mechcal/subscribers.toml
chown mechcal:mechcal /etc/mechcal/subscribers.toml
chmod 600 /etc/mechcal/subscribers.toml
sed -i 's/^name = .*/name = "Our calendar"/' /etc/mechcal/mechcal.toml
creds="$(mktemp -d)"
trap 'rm -rf "$creds"' EXIT
as_service() {
    rm -rf "${creds:?}"/*
    cp /etc/mechcal/credentials/* "$creds/"
    chown -R mechcal: "$creds"
    chmod 700 "$creds"
    (cd /var/lib/mechcal && runuser -u mechcal -- env CREDENTIALS_DIRECTORY="$creds" \
        mechcal --config /etc/mechcal/mechcal.toml "$@")
}
first="$(as_service remind --now "$NOW" 2>&1)" || fail "remind: $first"
case "$first" in "sent 0 messages"*|"") fail "the previous version sent nothing: $first" ;; esac
mails=$(find /var/lib/mechcal/maildir/new -type f | wc -l)
[ "$mails" -gt 0 ] || fail "no mail in the Maildir"
schema() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA user_version").fetchone()[0])' /var/lib/mechcal/mechcal.sqlite; }
[ "$(schema)" = 7 ] || fail "the previous version's schema is $(schema), not 7"

step "upgrade to $version"
apt-get install -y -qq -o Dpkg::Options::=--force-confold "$deb" >/dev/null 2>&1 || fail "upgrade"
[ "$(dpkg-query -W -f '${Version}' mechcal)" = "$version" ] || fail "not upgraded"
grep -q '^name = "Our calendar"' /etc/mechcal/mechcal.toml || fail "the edited config was replaced"
again="$(as_service remind --now "$NOW" 2>&1)" || fail "remind after the upgrade: $again"
case "$again" in "sent 0 messages"*) ;; *) fail "reminded again after the upgrade: $again" ;; esac
[ "$(find /var/lib/mechcal/maildir/new -type f | wc -l)" = "$mails" ] || fail "new mail after the upgrade"
[ "$(schema)" = 8 ] || fail "the state was not migrated: schema $(schema)"

dpkg --purge mechcal >/dev/null 2>&1 || fail "purge"
rm -rf /var/lib/mechcal
echo "upgrade: $old_version → $version keeps the config, migrates the state (7 → 8), reminds nobody again ($mails mails before, none after)"
