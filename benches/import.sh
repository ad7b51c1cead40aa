#!/usr/bin/env bash
# `mechcal import` (release) of ROWS rows (10,000 by default) from XLSX,
# ODS and CSV (Windows-1251), the same rows each time (written by
# tests/import/make_tables.py with openpyxl and odfpy), each into a fresh
# copy of the sample repository. Prints each import's wall time and peak
# resident memory (`/usr/bin/time -v`), and, as the other side in the same
# run, `mechcal check` of the repository the XLSX import wrote: the ratio
# says what reading the table and writing the files add to checking the
# result.
#
# Usage: bash benches/import.sh [ROWS]
set -euo pipefail
rows="${1:-10000}"
top="$(cd "$(dirname "$0")/.." && pwd)"

bench_packages="/usr/bin/time:time"
# shellcheck source=benches/common.sh
source "$top/benches/common.sh"

venv="$top/target/conformance/venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q openpyxl==3.1.5 odfpy==1.4.1
"$venv/bin/python" "$top/tests/import/make_tables.py" "$work/tables" "$rows"

# `measure NAME CMD…`: runs CMD, prints NAME, seconds, peak KiB; sets $secs.
measure() {
    local name="$1"; shift
    /usr/bin/time -v -o "$work/time.txt" "$@" >"$work/out.txt" 2>"$work/err.txt" || {
        cat "$work/err.txt" >&2; exit 1; }
    secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/time.txt")
    local kib
    kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
    printf '%-28s %8.2f s  %8d KiB peak\n' "$name" "$secs" "$kib"
}

for format in xlsx ods csv; do
    rm -rf "$work/$format"
    mkdir -p "$work/$format"
    cp -r "$top/deadlines" "$work/$format/deadlines"
    measure "import $format ($rows rows)" "$bin" import "$work/tables/table.$format" --out "$work/$format/deadlines"
    [ "$format" = xlsx ] && import_secs=$secs
    grep -q "^$rows rows of $rows imported" "$work/out.txt" || { cat "$work/out.txt" "$work/err.txt"; exit 1; }
done
measure "check of the result" "$bin" check "$work/xlsx/deadlines"
awk -v a="$import_secs" -v b="$secs" 'BEGIN { printf "import xlsx / check: %.2f\n", (b > 0 ? a / b : 0) }'
