#!/usr/bin/env bash
# bench/lib/report.sh TSV - judges the targets (appends "target" rows to the
# TSV), prints the table, and draws bench/out/ratios.png with gnuplot.
# Run again on an existing bench/out/results.tsv to redo the table and chart.
set -euo pipefail
cd "${SK_ROOT:-$(dirname "$0")/../..}"
TSV=${1:-bench/out/results.tsv}
OUT=$(dirname "$TSV")

# name in the ratio section | direction | threshold | label
TARGETS=(
    "public_id_vs_gen_random_uuid|<=|0.2|public_id / gen_random_uuid"
    "uuidv7_vs_gen_random_uuid|<=|0.25|uuidv7 / gen_random_uuid"
    "nanoid_vs_public_id|>=|50|plpgsql nanoid / public_id"
    "email_schemakit_vs_baseline|>=|1.0|issue+verify code, tps"
    "reset_schemakit_vs_baseline|>=|1.0|consume reset token, tps"
    "session_schemakit_vs_baseline|>=|0.8|session_user_id / PK SELECT, tps"
    "snippet_schemakit_vs_baseline|>=|0.9|snippet insert default / explicit, tps"
)

# Drop target rows of an earlier report pass, keep the measurements.
grep -v '^target	' "$TSV" >"$TSV.tmp" && mv "$TSV.tmp" "$TSV"

val() { awk -F'\t' -v s="$1" -v n="$2" '$1 == s && $2 == n {print $3}' "$TSV"; }
note() { awk -F'\t' -v s="$1" -v n="$2" '$1 == s && $2 == n {print $5}' "$TSV"; }

: >"$OUT/ratios.dat"
i=0
for t in "${TARGETS[@]}"; do
    IFS='|' read -r name dir thr label <<<"$t"
    v=$(val ratio "$name")
    [ -n "$v" ] || continue
    if awk -v v="$v" -v t="$thr" -v d="$dir" 'BEGIN { exit !((d == "<=") ? v <= t : v >= t) }'; then
        verdict=PASS
    else
        verdict=MISS
    fi
    printf 'target\t%s\t%s\t\tratio %s, target %s %s\n' "$name" "$verdict" "$v" "$dir" "$thr" >>"$TSV"
    i=$((i + 1))
    printf '%d\t"%s (%s %s)"\t%s\t%s\t%d\n' "$i" "$label" "$dir" "$thr" "$v" "$thr" "$([ $verdict = PASS ] && echo 1 || echo 0)" >>"$OUT/ratios.dat"
done

# The table.
{
    echo
    echo "schemakit bench - $(val meta date), $(val meta nproc) CPUs, $(val meta memory_gib) GiB, PostgreSQL $(val meta postgres), schemakit $(val meta schemakit) ($(val meta git))"
    echo "load average at start $(val meta loadavg_start), at end $(val meta loadavg_end); $(val meta duration_s) s"
    awk -F'\t' '
        NR == 1 || $1 == "meta" || $1 == "target" { next }
        !($1 in rows) { order[++n] = $1 }
        { rows[$1] = rows[$1] sprintf("  %-42s %14s %-9s %s\n", $2, $3, $4, $5) }
        END { for (i = 1; i <= n; i++) printf "\n[%s]\n%s", order[i], rows[order[i]] }
    ' "$TSV"
    echo
    echo "[targets]"
    awk -F'\t' '$1 == "target" { printf "  %-4s  %-32s %s\n", $3, $2, $5 }' "$TSV"
} | sed 's/[[:space:]]*$//'

# The chart: each ratio as a bar (log scale), its target as a black line;
# green bars meet their target, red ones miss it.
if [ -s "$OUT/ratios.dat" ] && command -v gnuplot >/dev/null; then
    gnuplot -e "datafile='$OUT/ratios.dat'; outfile='$OUT/ratios.png'; subtitle='$(val meta date), $(val meta nproc) CPUs, PostgreSQL $(val meta postgres), schemakit $(val meta schemakit)'" \
        bench/lib/ratios.gp
    echo "chart: $OUT/ratios.png"
    if [ "${BENCH_PUBLISH:-0}" = 1 ]; then cp "$OUT/ratios.png" bench/ratios.png; echo "chart copied to bench/ratios.png"; fi
fi
echo "results: $TSV"
