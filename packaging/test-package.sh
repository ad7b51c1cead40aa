#!/usr/bin/env bash
# The Debian package on this machine, as an operator uses it (root): build
# it (packaging/build-deb.sh), install it with apt (dependencies resolved),
# then
#   - `mechcal --version`, the unit verified by `systemd-analyze verify`,
#     enabled but not started, the secrets made (mode 600, never printed),
#     the config a conffile;
#   - `mechcal check` as the service user on the packaged config;
#   - `mechcal serve` as the service user with the packaged config and the
#     credentials handed over as systemd's LoadCredential= does, /healthz;
#   - reinstalling keeps an edited config and the secrets;
#   - `dpkg --purge` removes the config and the secrets, keeps the state
#     and says where.
# Leaves the machine without the package (the `mechcal` system user stays,
# as Debian leaves system users).
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
cd "$top"
[ "$(id -u)" -eq 0 ] || { echo "run as root: it installs a package" >&2; exit 2; }

for tool in lintian:lintian curl:curl man:man-db; do
    command -v "${tool%%:*}" >/dev/null || apt-get install -y -qq "${tool#*:}" >/dev/null
done
bash packaging/build-deb.sh >/dev/null
deb="$(ls "$top"/target/debian/mechcal_*_amd64.deb | sort -V | tail -1)"
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "-- $*"; }

export DEBIAN_FRONTEND=noninteractive
dpkg --purge mechcal >/dev/null 2>&1 || true
rm -rf /var/lib/mechcal /etc/mechcal

step "lintian: no error, no warning"
lint="$(lintian "$deb" 2>&1 | grep -v 'running with root privileges' || true)"
[ -z "$lint" ] || fail "lintian: $lint"

step "install"
out="$(apt-get install -y -qq "$deb" 2>&1)" || fail "apt-get install: $out"
echo "$out" | grep -q "mechcal: edit /etc/mechcal/mechcal.toml" || fail "no first-install note: $out"
version="$(mechcal --version)"
[ "$version" = "mechcal $(awk -F'"' '/^version = /{print $2; exit}' Cargo.toml)" ] || fail "version: $version"
systemd-analyze verify /usr/lib/systemd/system/mechcal.service || fail "systemd-analyze verify"
[ -L /etc/systemd/system/multi-user.target.wants/mechcal.service ] || fail "the unit is not enabled"
for s in unsubscribe-secret address-key smtp-password; do
    f="/etc/mechcal/credentials/$s"
    [ "$(stat -c '%a %U' "$f")" = "600 root" ] || fail "$f: $(stat -c '%a %U' "$f")"
done
[ "$(stat -c %s /etc/mechcal/credentials/address-key)" = 32 ] || fail "address key size"
echo "$out" | grep -qi "secret\|key" && fail "the install output mentions a secret: $out"
grep -qx "/etc/mechcal/mechcal.toml" /var/lib/dpkg/info/mechcal.conffiles || fail "config is not a conffile"
[ "$(stat -c '%a %U:%G' /var/lib/mechcal)" = "700 mechcal:mechcal" ] || fail "/var/lib/mechcal: $(stat -c '%a %U:%G' /var/lib/mechcal)"
[ "$(stat -c '%a %U:%G' /etc/mechcal)" = "750 root:mechcal" ] || fail "/etc/mechcal: $(stat -c '%a %U:%G' /etc/mechcal)"
man -w mechcal-import >/dev/null || fail "no manual page"
[ -s /usr/share/bash-completion/completions/mechcal ] || fail "no bash completion"

step "check as the service user"
said="$(runuser -u mechcal -- mechcal --config /etc/mechcal/mechcal.toml check 2>&1)" || fail "check: $said"
echo "$said" | grep -q "warning" && fail "check warns: $said"
[ "$(stat -c '%a %U' /etc/mechcal/subscribers.toml)" = "600 mechcal" ] || fail "subscribers.toml: $(stat -c '%a %U' /etc/mechcal/subscribers.toml)"

step "serve as the service user, credentials as LoadCredential= hands them"
creds="$(mktemp -d)"
cp /etc/mechcal/credentials/* "$creds/"
chown -R mechcal: "$creds"
chmod 700 "$creds"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log="$(mktemp)"
cd /var/lib/mechcal
runuser -u mechcal -- env CREDENTIALS_DIRECTORY="$creds" \
    mechcal --config /etc/mechcal/mechcal.toml serve --listen "127.0.0.1:$port" 2>"$log" &
serve=$!
cd "$top"
ok=""
for _ in $(seq 1 100); do
    if health="$(curl -sf "http://127.0.0.1:$port/healthz")"; then ok=1; break; fi
    sleep 0.1
done
kill "$serve" 2>/dev/null || true
wait "$serve" 2>/dev/null || true
[ -n "$ok" ] || { cat "$log"; fail "/healthz did not answer"; }
echo "$health" | grep -q '"status":"ok"' || fail "/healthz: $health"
[ -f /var/lib/mechcal/mechcal.sqlite ] || fail "no state written"
rm -rf "$creds" "$log"

step "reinstall keeps an edited config and the secrets"
sed -i 's/^name = .*/name = "Our calendar"/' /etc/mechcal/mechcal.toml
key="$(sha256sum /etc/mechcal/credentials/address-key)"
apt-get install -y -qq --reinstall -o Dpkg::Options::=--force-confold "$deb" >/dev/null 2>&1 || fail "reinstall"
grep -q '^name = "Our calendar"' /etc/mechcal/mechcal.toml || fail "the edited config was replaced"
[ "$(sha256sum /etc/mechcal/credentials/address-key)" = "$key" ] || fail "the address key was replaced"

step "purge"
out="$(dpkg --purge mechcal 2>&1)" || fail "purge: $out"
echo "$out" | grep -q "the state is kept in /var/lib/mechcal" || fail "purge says nothing of the state: $out"
[ ! -e /etc/mechcal ] || fail "/etc/mechcal is left: $(find /etc/mechcal)"
[ ! -e /usr/bin/mechcal ] || fail "the binary is left"
[ -f /var/lib/mechcal/mechcal.sqlite ] || fail "the state was removed"
[ ! -e /etc/systemd/system/multi-user.target.wants/mechcal.service ] || fail "the unit is still enabled"
rm -rf /var/lib/mechcal
echo "package: installs, checks, serves, reinstalls and purges cleanly ($(basename "$deb"))"
