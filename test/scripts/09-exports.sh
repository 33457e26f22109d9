#!/usr/bin/env bash
# schemakit.so exports what the server looks up by name, and nothing else
# (src/compat.h): Pg_magic_func, _PG_init, and for every C symbol any
# extension script names (AS 'MODULE_PATHNAME', 'symbol') the symbol and
# its pg_finfo_ record.  The one library serves every version, so a symbol
# only an older script names stays.  Any other export fails: a helper, a
# core function, above all a function only the unit tests use.
# Needs no server: `make check-exports` runs it on the library just built.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"
cd "$SK_ROOT"

so=${SK_SO:-$SK_ROOT/schemakit.so}
[ -f "$so" ] || so=$(pg_config --pkglibdir)/schemakit.so
echo "# $so"
exported=$(nm -D --defined-only "$so" | awk 'NF == 3 { print $3 }' | sort -u)

# C symbols named by any script, also across a line break.
referenced=$(perl -0777 -ne "print \"\$1\n\" while /'MODULE_PATHNAME'\s*,\s*'([A-Za-z_0-9]+)'/g" sql/*.sql | sort -u)
if [ -n "$referenced" ]; then pass "the scripts name C symbols"; else fail "the scripts name C symbols"; fi

has() { grep -qxF -- "$1" <<<"$exported"; }
for sym in Pg_magic_func _PG_init; do
    if has "$sym"; then pass "schemakit.so exports $sym"; else fail "schemakit.so exports $sym"; fi
done
for sym in $referenced; do
    if has "$sym" && has "pg_finfo_$sym"; then
        pass "schemakit.so exports $sym and pg_finfo_$sym"
    else
        fail "schemakit.so exports $sym and pg_finfo_$sym"
    fi
done

# Functions the unit tests and fuzzers define (not static): none may be in
# the library, let alone exported.
test_only=$(awk 'FNR == 1 { prev = "" }
                 /^[A-Za-z_][A-Za-z_0-9]*\(/ && prev !~ /^static/ { sub(/\(.*/, ""); print }
                 { prev = $0 }' test/unit/*.c | sort -u)
leaked=$(for sym in $test_only; do has "$sym" && echo "$sym"; done)
is "$leaked" "" "schemakit.so exports no function of test/unit ($(wc -w <<<"$test_only") checked)"

# Everything else: linker-made symbols only.
allowed=$( { printf '%s\n' Pg_magic_func _PG_init _init _fini _edata _end __bss_start
             for sym in $referenced; do printf '%s\npg_finfo_%s\n' "$sym" "$sym"; done; } | sort -u)
extra=$(for sym in $exported; do grep -qxF -- "$sym" <<<"$allowed" || echo "$sym"; done)
is "$extra" "" "schemakit.so exports nothing but Pg_magic_func, _PG_init and the SQL functions"
done_testing
