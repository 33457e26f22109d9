#!/usr/bin/env bash
# Released extension scripts never change: each one listed in
# test/frozen.sha256 must still have its recorded checksum, and every script
# of a released version must be listed.  Fixes go into the next version.
# And the one shared library serves every version: every C symbol any
# script names must be exported by schemakit.so.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"
cd "$SK_ROOT"

list=test/frozen.sha256
while read -r sum file; do
    [ -n "$sum" ] || continue
    case "$sum" in \#*) continue;; esac
    if [ ! -f "$file" ]; then
        fail "$file: released script still present"
    else
        is "$(sha256sum "$file" | cut -d' ' -f1)" "$sum" "$file: unchanged since release"
    fi
done <"$list"

# Every script whose versions are all released must be in the list.
released=$(sed -n 's/^# released: //p' "$list")
for f in sql/schemakit--*.sql; do
    vs=$(basename "$f" .sql | sed -E 's/^schemakit--//; s/--/ /')
    all=1
    for v in $vs; do
        printf '%s\n' $released | grep -Fxq "$v" || all=0
    done
    if [ "$all" -eq 1 ]; then
        if grep -q " $f\$" "$list"; then pass "$f: listed as frozen"; else fail "$f: listed as frozen"; fi
    fi
done

# C symbols named by any script ('MODULE_PATHNAME', 'symbol').
so=$SK_ROOT/schemakit.so
[ -f "$so" ] || so=$(pg_config --pkglibdir)/schemakit.so
exported=$(nm -D --defined-only "$so" | awk '{print $3}')
for sym in $(grep -ho "'MODULE_PATHNAME', *'[a-z_0-9]*'" sql/*.sql | sed "s/.*, *'//; s/'$//" | sort -u); do
    if printf '%s\n' "$exported" | grep -qx "$sym"; then
        pass "schemakit.so exports $sym"
    else
        fail "schemakit.so exports $sym"
    fi
done
done_testing
