#!/usr/bin/env bash
# Whether a build is reproducible: the current commit cloned into two
# directories of different names and lengths, each built with
# packaging/build-deb.sh one after the other (so at different times), and
# the binaries and the .deb files compared byte for byte. Prints both
# SHA-256 sums and exits 1 if they differ (diffoscope, if installed, says
# where). Slow: two full release builds.
#
# Usage: bash packaging/reproducible.sh
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
commit="$(git -C "$top" rev-parse HEAD)"
sums=()
for dir in "$work/a" "$work/build-b-in-a-longer-directory"; do
    git clone -q "$top" "$dir"
    git -C "$dir" checkout -q "$commit"
    start=$(date +%s)
    bash "$dir/packaging/build-deb.sh" >/dev/null 2>&1
    deb="$(ls "$dir"/target/debian/mechcal_*.deb)"
    echo "$dir: built in $(( $(date +%s) - start )) s"
    echo "  binary $(sha256sum < "$dir/target/package/release/mechcal" | cut -c1-64)"
    echo "  .deb   $(sha256sum < "$deb" | cut -c1-64)"
    sums+=("$(sha256sum < "$dir/target/package/release/mechcal")|$(sha256sum < "$deb")")
done
if [ "${sums[0]}" = "${sums[1]}" ]; then
    echo "reproducible: the same binary and the same .deb from $commit"
else
    echo "NOT reproducible" >&2
    command -v diffoscope >/dev/null && diffoscope "$work"/a/target/debian/*.deb "$work"/build-b-in-a-longer-directory/target/debian/*.deb | head -100
    exit 1
fi
