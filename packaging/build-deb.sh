#!/usr/bin/env bash
# Builds the Debian package, target/debian/mechcal_<version>-1_amd64.deb,
# reproducibly: the same commit gives the same binary and the same .deb
# bytes in any directory at any time (paths remapped, every time stamp
# SOURCE_DATE_EPOCH, the commit's time by default; gzip -n; cargo-deb
# sorts its archives).
#
# Usage: bash packaging/build-deb.sh        (installs cargo-deb if missing)
# The binary is built in target/package/ (RUSTFLAGS of its own there).
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
cd "$top"

deb_version=3.8.0
case "$(cargo deb --version 2>/dev/null || true)" in
    *"$deb_version"*) ;;
    *) cargo install cargo-deb --locked --version "$deb_version" --quiet ;;
esac

export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}"
export CARGO_TARGET_DIR="$top/target/package"
export CARGO_INCREMENTAL=0
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
export RUSTFLAGS="--remap-path-prefix=$top=/usr/src/mechcal --remap-path-prefix=$cargo_home=/usr/src/cargo -C link-arg=-Wl,--build-id=sha1"
# The C parts (SQLite, jemalloc) name their source files too.
export CFLAGS="-O2 -ffile-prefix-map=$top=/usr/src/mechcal -ffile-prefix-map=$cargo_home=/usr/src/cargo"
cargo build --release --locked
bin="$CARGO_TARGET_DIR/release/mechcal"
version="$("$bin" --version | awk '{print $2}')"

# What the package holds besides the binary, made from the source.
assets="$top/target/debian-assets"
rm -rf "$assets"
mkdir -p "$assets/man" "$assets/completions" "$assets/units" "$assets/doc/operators"
"$bin" man "$assets/man" >/dev/null
gzip -9n "$assets"/man/*.1
"$bin" completions bash > "$assets/completions/mechcal"
"$bin" completions zsh > "$assets/completions/_mechcal"
"$bin" completions fish > "$assets/completions/mechcal.fish"
sed 's|/usr/local/bin/mechcal|/usr/bin/mechcal|; s|docs/src/operators/install.md|/usr/share/doc/mechcal/operators/install.md.gz|' \
    systemd/mechcal.service > "$assets/units/mechcal.service"
for page in docs/src/operators/*.md; do
    gzip -9n -c "$page" > "$assets/doc/operators/$(basename "$page").gz"
done
gzip -9n -c README.md > "$assets/doc/README.md.gz"
gzip -9n -c CHANGELOG.md > "$assets/doc/changelog.gz"
{
    echo "mechcal ($version-1) unstable; urgency=medium"
    echo
    echo "  * Release $version: see /usr/share/doc/mechcal/changelog.gz."
    echo
    echo " -- mechcal maintainers <mechcal@example.org>  $(LC_ALL=C date -u -R -d "@$SOURCE_DATE_EPOCH")"
} > "$assets/changelog"
find "$assets" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

cargo deb --no-build --locked --strip --output "$top/target/debian/"
ls "$top"/target/debian/mechcal_"$version"-1_*.deb
