#!/usr/bin/env bash
# Released extension scripts never change: each one listed in
# test/frozen.sha256 must still have its recorded checksum, and every script
# of a released version must be listed.  Fixes go into the next version.
# (That schemakit.so exports every C symbol a script names: 09-exports.sh.)
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

done_testing
