#!/usr/bin/env bash
# test/matrix.sh - the PostgreSQL major-version matrix.
#
# For each major in SK_MATRIX_MAJORS (default "13 17 18") a Debian chroot with
# that major (13: bullseye, 17: trixie, 18: sid) is made once and cached in
# $SK_MATRIX_CACHE/chroots/<suite> (default /var/cache/schemakit); the
# working tree (without build products) is copied in and the repository's own
# `test/run` runs there with PG_MAJOR=N: build with -Werror, install, the C
# unit tests, `make installcheck`, every pgTAP suite, the upgrade/downgrade
# chain and the smoke walk of every public function, in a throwaway cluster.
#
# Cross-major data: a database filled in the current cluster (the host's, 15,
# when run as `test/run matrix`) and one filled on 13 are dumped
# (test/lib/matrix-xmajor.sh) and restored into 17 and 18: every row back,
# sequences continuing, a code issued before the dump still verifying under
# the same schemakit.code_hmac_key (SK_CODE_HMAC_KEY, set by test/run).
#
# Output: TAP, every assertion of every major renumbered and tagged [N], so
# test/lib/run-suites.sh counts them all; ends with "N passed, N failed".
# Needs root (chroot, mount).  Mounts are undone on exit, error and signal; a
# lock in the cache dir makes a second run wait for the first.
#
#   test/matrix.sh              the matrix (as the `matrix` suite of test/run)
#   test/matrix.sh --prepare    only make/refresh the cached chroots
#   test/matrix.sh --cleanup    only undo leftover mounts of a killed run
#
# Environment: SK_MATRIX_MAJORS, SK_MATRIX_CACHE, SK_MATRIX_MIRROR (default:
# the host's Debian mirror), SK_MATRIX_LOCK_WAIT (seconds to wait for
# another run, default 5400), SK_MATRIX_SUITES (suites test/run runs in each
# chroot, default "unit regress pgtap scripts"), SK_MATRIX_SCRIPTS (the
# scripted tests among them).
set -uo pipefail
# (all in one block: bash reads it whole, so editing this file while it runs
# does not change the run)
{
SK_ROOT=${SK_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
cd "$SK_ROOT"

MAJORS=(${SK_MATRIX_MAJORS:-13 17 18})
CACHE=${SK_MATRIX_CACHE:-/var/cache/schemakit}
CHROOTS=$CACHE/chroots
DUMPS=$CACHE/dumps
LOGS=$CACHE/logs
INNER_SUITES=${SK_MATRIX_SUITES:-unit regress pgtap scripts}
INNER_SCRIPTS=${SK_MATRIX_SCRIPTS:-test/scripts/20-upgrade-chain.sh test/scripts/25-smoke.sh test/lib/matrix-xmajor.sh}
# Majors whose dumps the others restore (the current cluster's is added when
# there is one), and the majors that restore them.
DUMP_FROM=(13)
RESTORE_INTO=(17 18)

suite_of() {
    case $1 in
        13) echo bullseye;; 15) echo bookworm;; 17) echo trixie;; 18) echo sid;;
        *) return 1;;
    esac
}

# The Debian mirror apt uses here (deb822 or one-line sources).
host_mirror() {
    local m
    m=$(sed -n 's/^URIs: *\([^ ]*debian\/*\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1)
    [ -n "$m" ] || m=$(sed -n 's/^deb  *\(\[[^]]*\] *\)\{0,1\}\([^ ]*\) .*/\2/p' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep -v security | grep debian | head -n1)
    echo "${m:-http://deb.debian.org/debian}"
}
MIRROR=${SK_MATRIX_MIRROR:-$(host_mirror)}

log() { echo "# matrix: $*"; }
die() { echo "# matrix: $*" >&2; echo "not ok 1 - matrix: $*"; echo "0 passed, 1 failed"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mount); run as root or under sudo"
if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap; } >/dev/null ||
        die "cannot install debootstrap"
fi

# ---------------------------------------------------------------------------
# mounts: every mount this script makes is under $CHROOTS; cleanup undoes all
# of them (also those a killed earlier run left), deepest first.
# ---------------------------------------------------------------------------

# Mount points under $1, deepest first (mountinfo field 5, octal escapes kept).
mounts_under() {
    local base
    base=$(realpath -m "$1")
    awk -v b="$base" '$5 == b || index($5, b "/") == 1 { print $5 }' /proc/self/mountinfo |
        awk '{ print length($0) " " $0 }' | sort -rn | cut -d' ' -f2-
}

# Processes whose root directory is inside a chroot of ours (a server a
# killed run left behind): they keep its mounts busy.
procs_in() {
    local base p r
    base=$(realpath -m "$1")
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        case "$r" in "$base"|"$base"/*) echo "${p#/proc/}";; esac
    done
}

unmount_all() {
    local base=$1 m pids i
    [ -d "$base" ] || return 0
    # Until two scans a second apart find none (a dying test run may still
    # start a server): TERM for 5 s, then KILL.
    local empty=0
    for ((i = 1; i <= 30; i++)); do
        pids=$(procs_in "$base")
        if [ -z "$pids" ]; then
            empty=$((empty + 1)); [ $empty -ge 2 ] && break
        else
            empty=0
            [ "$i" -eq 1 ] && log "stopping processes left inside $base: $(echo $pids)"
            kill -"$([ "$i" -le 10 ] && echo TERM || echo KILL)" $pids 2>/dev/null
        fi
        sleep 0.5
    done
    while read -r m; do
        [ -n "$m" ] || continue
        m=$(printf '%b' "${m//\\/\\0}")
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
    done < <(mounts_under "$base")
    [ -z "$(mounts_under "$base")" ]
}

# mount_chroot ROOT: /proc, /dev (bind, private), a fresh /dev/shm, and the
# dump directory at /mnt/sk-dumps.
mount_chroot() {
    local root=$1
    mkdir -p "$root/proc" "$root/dev" "$root/mnt/sk-dumps"
    mount -t proc proc "$root/proc" &&
    mount --bind /dev "$root/dev" && mount --make-private "$root/dev" &&
    mount -t tmpfs -o mode=1777,size=512m shm "$root/dev/shm" &&
    mkdir -p "$DUMPS" && mount --bind "$DUMPS" "$root/mnt/sk-dumps" && mount --make-private "$root/mnt/sk-dumps"
}

# Set once this run holds the lock: only then is anything under the cache
# ours to stop and unmount.
HAVE_LOCK=
BG_PIDS=()
cleanup() {
    [ -n "$HAVE_LOCK" ] || return 0
    # (a signal can arrive inside `IFS= read`: the handler would inherit it)
    local IFS=$' \t\n' p
    for p in "${BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null; done
    [ -d "$CHROOTS" ] && { unmount_all "$CHROOTS" || log "WARNING: mounts left under $CHROOTS"; }
}
on_signal() { IFS=$' \t\n'; log "interrupted ($1): cleaning up"; trap - EXIT; cleanup; exit 130; }

# ---------------------------------------------------------------------------
# lock: one run at a time per cache dir; a second one waits (then refuses).
# ---------------------------------------------------------------------------
mkdir -p "$CHROOTS" "$DUMPS" "$LOGS" || die "cannot create $CACHE"
exec 9>"$CACHE/matrix.lock"
if ! flock -n 9; then
    log "another matrix run holds $CACHE/matrix.lock; waiting up to ${SK_MATRIX_LOCK_WAIT:-5400} s"
    flock -w "${SK_MATRIX_LOCK_WAIT:-5400}" 9 || die "another matrix run still holds $CACHE/matrix.lock; refusing"
fi
HAVE_LOCK=1
trap cleanup EXIT
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP
# We hold the lock: whatever is mounted under the cache is a killed run's.
if [ -n "$(mounts_under "$CHROOTS")$(procs_in "$CHROOTS")" ]; then
    log "undoing what a killed run left: mounts $(mounts_under "$CHROOTS" | tr '\n' ' ')"
    unmount_all "$CHROOTS" || die "cannot undo leftover mounts under $CHROOTS"
fi
[ "${1:-}" = --cleanup ] && { log "no mounts left under $CHROOTS"; exit 0; }

# ---------------------------------------------------------------------------
# chroots
# ---------------------------------------------------------------------------

# The packages a chroot gets: test/deps.sh's for that major, and locales
# (deps.sh generates the ones the address suite compares under).
pkg_list() { PG_MAJOR=$1 SK_DEPS_EXTRA="locales ${SK_DEPS_EXTRA:-}" bash test/deps.sh --list; }

# The stamp, written last when a chroot is complete: suite and package list.
stamp_text() { printf 'suite=%s\npackages=%s\n' "$1" "$(pkg_list "$2" | tr '\n' ' ')"; }

# chroot_ok ROOT MAJOR: stamp matches and every package is installed.
chroot_ok() {
    local root=$1 major=$2 suite
    suite=$(suite_of "$major")
    [ -f "$root/.schemakit-stamp" ] && [ "$(cat "$root/.schemakit-stamp")" = "$(stamp_text "$suite" "$major")" ] || return 1
    [ -x "$root/usr/lib/postgresql/$major/bin/pg_config" ] || return 1
    local out
    out=$(in_chroot "$root" dpkg-query -W -f='${Status}\n' $(pkg_list "$major") 2>&1) || return 1
    ! printf '%s\n' "$out" | grep -qv ' ok installed$'
}

# in_chroot ROOT CMD...: a clean environment; the lock's descriptor stays
# outside (a run killed with -9 leaves its chroot processes to the next run's
# cleanup, not the lock).
in_chroot() {
    local root=$1; shift
    chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@" 9>&-
}

# build_chroot MAJOR: debootstrap into <suite>.new, install the packages,
# write the stamp, then rename into place.  Log: $LOGS/<suite>.build.log.
build_chroot() {
    local major=$1 suite root tmp
    suite=$(suite_of "$major")
    root=$CHROOTS/$suite tmp=$CHROOTS/$suite.new
    for d in "$root" "$tmp"; do
        [ -e "$d" ] || continue
        unmount_all "$d" || { echo "cannot unmount under $d"; return 1; }
        rm -rf --one-file-system "$d" || return 1
    done
    echo "== debootstrap $suite from $MIRROR"
    debootstrap --variant=minbase "$suite" "$tmp" "$MIRROR" || return 1
    # No service starts in the chroot, no default cluster; apt trusts a sid
    # Release past its Valid-Until.
    printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d" && chmod 755 "$tmp/usr/sbin/policy-rc.d"
    mkdir -p "$tmp/etc/postgresql-common"
    echo "create_main_cluster = false" >"$tmp/etc/postgresql-common/createcluster.conf"
    printf 'Acquire::Check-Valid-Until "false";\nAcquire::Check-Date "false";\nAPT::Install-Recommends "false";\n' \
        >"$tmp/etc/apt/apt.conf.d/99schemakit"
    cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null
    mount_chroot "$tmp" || { unmount_all "$tmp"; return 1; }
    local st=0
    echo "== apt-get install ($suite)"
    in_chroot "$tmp" apt-get update -qq &&
    in_chroot "$tmp" apt-get install -y -qq $(pkg_list "$major") || st=1
    in_chroot "$tmp" apt-get clean
    unmount_all "$tmp" || st=1
    [ $st -eq 0 ] || return 1
    stamp_text "$suite" "$major" >"$tmp/.schemakit-stamp" && mv "$tmp" "$root" && sync
}

# refresh_chroot MAJOR: a complete chroot of the right suite whose package
# list changed gets the missing packages; then its new stamp.
refresh_chroot() {
    local major=$1 suite root st=0
    suite=$(suite_of "$major") root=$CHROOTS/$suite
    grep -qx "suite=$suite" "$root/.schemakit-stamp" 2>/dev/null && chroot "$root" /bin/true || return 1
    echo "== refresh $suite: apt-get install"
    mount_chroot "$root" || { unmount_all "$root"; return 1; }
    in_chroot "$root" apt-get update -qq &&
    in_chroot "$root" apt-get install -y -qq $(pkg_list "$major") || st=1
    in_chroot "$root" apt-get clean
    unmount_all "$root" || st=1
    [ $st -eq 0 ] && stamp_text "$suite" "$major" >"$root/.schemakit-stamp" && chroot_ok "$root" "$major"
}

# ensure_chroots MAJOR...: reuse complete chroots, build the others in
# parallel; prints one TAP line per major.
ensure_chroots() {
    local major suite pids=() majors=() t0 st
    for major in "$@"; do
        suite=$(suite_of "$major") || continue
        if chroot_ok "$CHROOTS/$suite" "$major"; then
            log "$suite chroot (PostgreSQL $major) cached"
            continue
        fi
        log "making the $suite chroot (PostgreSQL $major); log: $LOGS/$suite.build.log"
        { refresh_chroot "$major" || build_chroot "$major"; } >"$LOGS/$suite.build.log" 2>&1 &
        pids+=($!) majors+=("$major")
        BG_PIDS+=($!)
    done
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}"; st=$?
        major=${majors[$i]} suite=$(suite_of "$major")
        if [ $st -ne 0 ] || ! chroot_ok "$CHROOTS/$suite" "$major"; then
            log "building the $suite chroot failed; its log ends:"
            tail -n 25 "$LOGS/$suite.build.log" | sed 's/^/#   /'
        else
            log "$suite chroot built"
        fi
    done
    BG_PIDS=()
}

if [ "${1:-}" = --prepare ]; then
    t0=$SECONDS
    ensure_chroots "${MAJORS[@]}"
    rc=0
    for major in "${MAJORS[@]}"; do chroot_ok "$CHROOTS/$(suite_of "$major")" "$major" || rc=1; done
    log "prepare took $((SECONDS - t0)) s"
    exit $rc
fi

# ---------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------
T0=$SECONDS
# The key every cluster of the run shares (test/run exports its own).
export SK_CODE_HMAC_KEY=${SK_CODE_HMAC_KEY:-sk$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}

n=0 total_pass=0 total_fail=0
declare -A MAJ_PASS MAJ_FAIL MAJ_TIME
emit() {    # emit OK(0/1) TAG DESCRIPTION
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $n - $2 $3"; total_pass=$((total_pass + 1)); MAJ_PASS[$2]=$((${MAJ_PASS[$2]:-0} + 1))
    else echo "not ok $n - $2 $3"; total_fail=$((total_fail + 1)); MAJ_FAIL[$2]=$((${MAJ_FAIL[$2]:-0} + 1)); fi
}

# relay TAG: an inner TAP stream (test/run's) on stdin, its assertions
# re-emitted numbered and tagged, everything else as comments.  Then
# reconciles with the inner "N passed, N failed" line: a suite that failed
# without a failing assertion counted there as one failure, and so here.
relay() {
    local tag=$1 line p=0 f=0 fin=
    while IFS= read -r line; do
        if [[ $line =~ ^[[:space:]]*ok\ [0-9]+( -)?\ ?(.*)$ ]]; then
            emit 0 "$tag" "${BASH_REMATCH[2]}"; p=$((p + 1))
        elif [[ $line =~ ^[[:space:]]*not\ ok\ [0-9]+( -)?\ ?(.*)$ ]]; then
            emit 1 "$tag" "${BASH_REMATCH[2]}"; f=$((f + 1))
        elif [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
            fin="${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"; echo "# $tag $line"
        else
            echo "# $tag $line"
        fi
    done
    if [ -z "$fin" ]; then
        emit 1 "$tag" "test/run finished with its closing line"
        return
    fi
    set -- $fin
    while [ "$f" -lt "$2" ]; do emit 1 "$tag" "a suite failed without a failing assertion (see its '# suite' line)"; f=$((f + 1)); done
    [ "$p" -eq "$1" ] || echo "# $tag WARNING: relayed $p passes, test/run counted $1"
}

# copy_tree DEST: the working tree as it is (tracked and untracked files,
# not ignored ones: no build products), or without git all but build output.
copy_tree() {
    local dest=$1
    rm -rf --one-file-system "$dest" && mkdir -p "$dest" || return 1
    if git -C "$SK_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$SK_ROOT" ls-files -z -c -o --exclude-standard |
            while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
            tar -C "$SK_ROOT" --null -T - -cf - | tar -C "$dest" -xf -
    else
        tar -C "$SK_ROOT" --exclude='*.o' --exclude='*.so' --exclude='*.bc' --exclude=./results \
            --exclude=./regression.diffs --exclude=./regression.out --exclude=./test/unit/build \
            --exclude=node_modules --exclude=./bench/out -cf - . | tar -C "$dest" -xf -
    fi
}

# closing CMD...: a TAP script's output, closed like test/run's output with
# "N passed, N failed" (a non-zero exit without a failing assertion: 1 failed).
closing() {
    local out st p f
    out=$(mktemp)
    "$@" 2>&1 | tee "$out"; st=${PIPESTATUS[0]}
    p=$(grep -cE '^ok [0-9]+' "$out"); f=$(grep -cE '^not ok [0-9]+' "$out")
    [ "$st" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    rm -f "$out"
    echo "$p passed, $f failed"
}

# A TCP port nothing listens on (the chroot shares the host's network).
free_port() {
    local p=$1 used
    used=" $(for f in /proc/net/tcp /proc/net/tcp6; do
        tail -n +2 "$f" 2>/dev/null | while read -r _ local _; do echo $((16#${local##*:})); done
    done | sort -u | tr '\n' ' ') "
    while [[ $used == *" $p "* ]]; do p=$((p + 1)); done
    echo "$p"
}

# Majors whose dumps are restored elsewhere: the current cluster's, and 13.
HOST_MAJOR=
if [ -n "${PGPORT:-}${PGHOST:-}" ] && v=$(psql -X -A -t -d postgres -c "SHOW server_version_num" 2>/dev/null); then
    HOST_MAJOR=$((v / 10000))
fi
FROM=()
[ -n "$HOST_MAJOR" ] && FROM+=("$HOST_MAJOR")
for m in "${DUMP_FROM[@]}"; do [[ " ${MAJORS[*]} " == *" $m "* ]] && FROM+=("$m"); done

echo "# matrix: PostgreSQL ${MAJORS[*]} in chroots under $CHROOTS; dumps from ${FROM[*]:-none} restored into ${RESTORE_INTO[*]}"
ensure_chroots "${MAJORS[@]}"
rm -rf --one-file-system "${DUMPS:?}"/* 2>/dev/null

# The current cluster (test/run's, 15 on the host): its dump.
if [ -n "$HOST_MAJOR" ]; then
    relay "[$HOST_MAJOR host]" < <(SK_MATRIX_XROLE=dump SK_MATRIX_DUMPS=$DUMPS SK_MATRIX_LABEL=$HOST_MAJOR \
        closing bash test/lib/matrix-xmajor.sh)
else
    echo "# matrix: no current cluster (run as \`test/run matrix\` for the host's dump)"
fi

# Each major in its chroot: test/run with PG_MAJOR=N, the dump (13) or the
# restores (17, 18) among its scripted tests.
for major in "${MAJORS[@]}"; do
    tag="[$major]"
    suite=$(suite_of "$major") || { emit 1 "$tag" "a Debian suite with PostgreSQL $major (known: 13 15 17 18)"; continue; }
    root=$CHROOTS/$suite
    t1=$SECONDS
    if ! chroot_ok "$root" "$major"; then
        emit 1 "$tag" "the $suite chroot is ready (see $LOGS/$suite.build.log)"
        continue
    fi
    emit 0 "$tag" "the $suite chroot is ready"
    role= from=
    [[ " ${FROM[*]} " == *" $major "* ]] && role=dump
    [[ " ${RESTORE_INTO[*]} " == *" $major "* ]] && role=restore from="${FROM[*]}"
    if ! copy_tree "$root/build/schemakit"; then
        emit 1 "$tag" "the working tree is copied into the chroot"; continue
    fi
    if ! mount_chroot "$root"; then
        emit 1 "$tag" "/proc, /dev, /dev/shm and the dump directory are mounted"; unmount_all "$root"; continue
    fi
    port=$(free_port $((55400 + major)))
    echo "# matrix: $tag PostgreSQL $major in $root (port $port, cross-major role: ${role:-none}); log: $LOGS/$major.run.log"
    relay "$tag" < <(exec 9>&-; in_chroot "$root" PG_MAJOR="$major" PGPORT="$port" SK_CODE_HMAC_KEY="$SK_CODE_HMAC_KEY" \
            SK_SCRIPTS="$INNER_SCRIPTS" SK_MATRIX_XROLE="$role" SK_MATRIX_FROM="$from" SK_MATRIX_DUMPS=/mnt/sk-dumps \
            bash -c 'cd /build/schemakit && exec bash test/run "$@"' test/run $INNER_SUITES 2>&1 | tee "$LOGS/$major.run.log")
    unmount_all "$root" || emit 1 "$tag" "every mount under $root is undone"
    MAJ_TIME[$tag]=$((SECONDS - t1))
done

echo "# matrix: per major (seconds):"
for tag in "${!MAJ_PASS[@]}" "${!MAJ_FAIL[@]}"; do echo "$tag"; done | sort -u -V -k1.2 | while read -r tag; do
    echo "#   $tag ${MAJ_PASS[$tag]:-0} passed, ${MAJ_FAIL[$tag]:-0} failed${MAJ_TIME[$tag]:+, ${MAJ_TIME[$tag]} s}"
done
echo "# matrix: $((SECONDS - T0)) s"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
exit
}
