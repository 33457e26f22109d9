#!/bin/sh
# tap-run.sh - runs the unit test program and the fuzzers, as one TAP stream.
#
#   tap-run.sh run  BUILD_DIR 'SMOKE_FLAGS' FUZZER...
#       build/test_core, then a short smoke run of each fuzzer: one TAP line
#       per fuzzer.  The plan comes last.
#   tap-run.sh fuzz BUILD_DIR SECONDS FUZZER...
#       each fuzzer for SECONDS, reporting how many inputs it executed.
#
# stdout carries TAP only; details of a failure follow as "# " lines, and
# the tools' own output is kept in BUILD_DIR/*.log.  Exits 1 on any failure.
set -u
mode=$1 build=$2 arg=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
n=0
failed=0

# emit ok|notok DESCRIPTION: one TAP line, numbered in order.
emit() {
    n=$((n + 1))
    if [ "$1" = ok ]; then
        echo "ok $n - $2"
    else
        failed=$((failed + 1))
        echo "not ok $n - $2"
    fi
}

# show FILE: the last lines of a log, as TAP diagnostics.
show() {
    tail -n 40 "$1" | sed 's/^/#   /'
}

# fuzzer NAME SECONDS|'' FLAGS...: one libFuzzer run over a scratch corpus
# (new inputs land in BUILD_DIR/corpus/NAME, never in the seed corpus).
run_fuzzer() {
    bin=$1 label=$2
    shift 2
    name=$(basename "$bin")
    mkdir -p "$build/corpus/$name" "$build/artifacts"
    log="$build/$name.log"
    "$bin" "$@" -print_final_stats=1 \
        -artifact_prefix="$build/artifacts/$name-" \
        "$build/corpus/$name" "$here/corpus/$name" >"$log" 2>&1
    st=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    if [ "$st" -eq 0 ] && [ -n "$execs" ]; then
        emit ok "$name: $label, ${execs} executions"
    else
        emit notok "$name: $label (exit status $st)"
        show "$log"
    fi
}

case $mode in
    run)
        tap="$build/test_core.tap"
        err="$build/test_core.log"
        "$build/test_core" >"$tap" 2>"$err"
        st=$?
        # test_core numbers its tests from 1 and prints its plan last; pass
        # its lines through, keep the count, drop the plan.
        grep -v '^1\.\.[0-9]*$' "$tap"
        count=$(grep -cE '^(not )?ok [0-9]+' "$tap")
        nfail=$(grep -cE '^not ok [0-9]+' "$tap")
        plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$tap")
        n=$count
        failed=$nfail
        if [ "$plan" != "$count" ] || { [ "$st" -ne 0 ] && [ "$nfail" -eq 0 ]; }; then
            emit notok "test_core ran to completion (exit status $st, plan '${plan}', $count tests)"
            show "$err"
        elif [ "$st" -ne 0 ]; then
            show "$err"
        fi
        for f in "$@"; do
            # shellcheck disable=SC2086  # flags are split on purpose
            run_fuzzer "$f" "smoke run" $arg
        done
        ;;
    fuzz)
        for f in "$@"; do
            run_fuzzer "$f" "${arg} s" -max_total_time="$arg"
        done
        ;;
    *)
        echo "usage: $0 run|fuzz BUILD_DIR ARG FUZZER..." >&2
        exit 2
        ;;
esac

echo "1..$n"
[ "$failed" -eq 0 ]
