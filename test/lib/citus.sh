# test/lib/citus.sh - a real Citus cluster for the citus suite (sourced, not run).
#
# Citus (AGPL) is built from the vendored source tarball only in tests, never
# copied into the project.  It is built into a PRIVATE relocated copy of the
# host's PostgreSQL tree, cached under $SK_CITUS_CACHE/<key> (default
# /var/cache/schemakit/citus; key: the tarball's SHA-256 and the host's
# `pg_config --version`), so the host's /usr/lib/postgresql and
# /usr/share/postgresql are never written.  Each run installs the checkout's
# schemakit into that copy, starts a coordinator and two workers on free
# ports of 127.0.0.1 in a temporary directory, and stops them and removes the
# directory on exit.
#
#   citus_prepare          find/verify the source, build or reuse the tree,
#                          install schemakit into it; sets CITUS_SKIP (the
#                          reason) when the source is absent
#   citus_start            three nodes, the same code key file on each, the
#                          workers registered; sets CN_PORT W1_PORT W2_PORT
#   citus_stop             stops them, removes the temporary directory
#   cq PORT DB SQL...      psql on a node, unaligned, tuples only, ON_ERROR_STOP
#
# Environment: SK_CITUS_SRC (a directory with citus-*.tar.gz and
# SHA256SUMS), SK_CITUS_CACHE, SK_CITUS_KEEP=1 (leave the cluster's directory
# for a look after a failure).

SK_ROOT=${SK_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
CITUS_CACHE=${SK_CITUS_CACHE:-/var/cache/schemakit/citus}
CITUS_PKGS=(postgresql-15 postgresql-server-dev-15 make gcc libcurl4-openssl-dev liblz4-dev libzstd-dev libkrb5-dev)
CITUS_SKIP=
CITUS_TREE=
CITUS_PG=          # the copy's bin directory
CITUS_TMP=
CITUS_PIDS=()

citus_log() { echo "# citus: $*"; }

# The directory holding the source tarball and its SHA256SUMS.
citus_src_dir() {
    local d dirs=("$SK_ROOT/../shared/vendor/citus" /work/shared/vendor/citus)
    # SK_CITUS_SRC, when set, is the only place looked at.
    [ -n "${SK_CITUS_SRC:-}" ] && dirs=("$SK_CITUS_SRC")
    for d in "${dirs[@]}"; do
        if [ -f "$d/SHA256SUMS" ] && ls "$d"/citus-*.tar.gz >/dev/null 2>&1; then
            (cd "$d" && pwd)
            return 0
        fi
    done
    return 1
}

# Packages to build Citus (and run the copy): installed when missing, without
# a terminal.
citus_deps() {
    local missing=() p
    for p in "${CITUS_PKGS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    citus_log "installing ${missing[*]}"
    local SUDO=
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >/dev/null &&
        $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null </dev/null
}

# build_tree TARBALL DEST: the relocated copy in DEST/root and Citus built
# into it.  Log: DEST.log.
citus_build_tree() {
    local tarball=$1 dest=$2 root src bindir sdir inc libdir work
    root=$dest/root
    bindir=$(pg_config --bindir)            # /usr/lib/postgresql/15/bin
    sdir=$(pg_config --sharedir)            # /usr/share/postgresql/15
    inc=$(pg_config --includedir)           # /usr/include/postgresql (client and server/)
    libdir=$(pg_config --libdir)            # libpq, which Citus links
    rm -rf --one-file-system "$dest" && mkdir -p "$root" || return 1
    # The host tree, without any schemakit files (the checkout's are
    # installed below on every run; a concurrent install on the host must
    # not leak in half-written).
    for d in "$(dirname "$bindir")" "$sdir" "$inc"; do
        mkdir -p "$root$(dirname "$d")" &&
            tar -C "$(dirname "$d")" --exclude='schemakit*' -cf - "$(basename "$d")" |
            tar -C "$root$(dirname "$d")" -xf - || return 1
    done
    mkdir -p "$root$libdir" && cp -a "$libdir"/libpq.so* "$root$libdir/" || return 1
    local pgc=$root$bindir/pg_config
    # The copy's pg_config must report the copy's paths (it computes them
    # relative to its own location).
    [ "$("$pgc" --sharedir)" = "$root$sdir" ] && [ "$("$pgc" --includedir-server)" = "$root$inc/15/server" ] &&
        [ "$("$pgc" --pkglibdir)" = "$root$(pg_config --pkglibdir)" ] || {
        echo "the copy's pg_config reports $("$pgc" --sharedir) $("$pgc" --includedir-server) $("$pgc" --pkglibdir)"
        return 1
    }
    work=$(mktemp -d) || return 1
    tar -C "$work" -xzf "$tarball" || { rm -rf "$work"; return 1; }
    src=$(echo "$work"/citus-*)
    # PostgreSQL 15.20 headers declare have_createdb_privilege(), which
    # Citus's compat header defines again as a static function: leave the
    # shim out (renamed, unused) when the server header declares it.
    if grep -q 'have_createdb_privilege' "$("$pgc" --includedir-server)/commands/dbcommands.h"; then
        echo "patch: the server declares have_createdb_privilege(); the compat shim is left out"
        sed -i 's/^have_createdb_privilege(void)$/citus_compat_unused_have_createdb_privilege(void)/' \
            "$src/src/include/pg_version_compat.h" || { rm -rf "$work"; return 1; }
    fi
    local st=0
    (cd "$src" && ./configure PG_CONFIG="$pgc" --without-libcurl && make -j"$(nproc)" with_llvm=no &&
        make with_llvm=no install) || st=1
    rm -rf "$work"
    [ $st -eq 0 ] && [ -f "$root$(pg_config --pkglibdir)/citus.so" ] || return 1
}

citus_prepare() {
    local src tarball sha key
    if ! src=$(citus_src_dir); then
        CITUS_SKIP="no Citus source (citus-*.tar.gz with SHA256SUMS) in ${SK_CITUS_SRC:-$SK_ROOT/../shared/vendor/citus or /work/shared/vendor/citus}"
        return 0
    fi
    tarball=$(ls "$src"/citus-*.tar.gz | head -n1)
    if ! (cd "$src" && sha256sum --quiet -c SHA256SUMS >/dev/null 2>&1); then
        # Present but not what was vendored: a failure, not a skip.
        citus_log "$src: $(basename "$tarball") does not match SHA256SUMS"
        return 1
    fi
    command -v pg_config >/dev/null || citus_deps || return 1
    citus_deps || { citus_log "cannot install ${CITUS_PKGS[*]}"; return 1; }
    sha=$(sha256sum "$tarball" | cut -c1-16)
    key=$(basename "$tarball" .tar.gz)-$sha-$(pg_config --version | tr -c 'A-Za-z0-9.\n' '_')
    CITUS_TREE=$CITUS_CACHE/$key
    mkdir -p "$CITUS_CACHE" || return 1
    # One build at a time; a second run waits for it.
    exec 8>"$CITUS_CACHE/build.lock"
    flock -w 1800 8 || { citus_log "another build holds $CITUS_CACHE/build.lock"; return 1; }
    if [ ! -f "$CITUS_TREE/.complete" ]; then
        local t0=$SECONDS
        citus_log "building Citus into $CITUS_TREE (a few minutes; log: $CITUS_TREE.log)"
        if ! citus_build_tree "$tarball" "$CITUS_TREE" >"$CITUS_TREE.log" 2>&1; then
            citus_log "the build failed; its log ends:"
            tail -n 30 "$CITUS_TREE.log" | sed 's/^/#   /'
            exec 8>&-
            return 1
        fi
        date -u +%FT%TZ >"$CITUS_TREE/.complete"
        citus_log "built in $((SECONDS - t0)) s"
    else
        citus_log "cached tree $CITUS_TREE"
    fi
    exec 8>&-
    CITUS_PG=$CITUS_TREE/root$(pg_config --bindir)
    # The checkout under test, into the copy (cheap; every run).
    make -s -C "$SK_ROOT" PG_CONFIG="$CITUS_PG/pg_config" >/dev/null &&
        make -s -C "$SK_ROOT" PG_CONFIG="$CITUS_PG/pg_config" install >/dev/null || {
        citus_log "building or installing schemakit into the copy failed"; return 1; }
}

# A TCP port nothing listens on, from $1 up.
citus_free_port() {
    local p=$1 used
    used=" $(for f in /proc/net/tcp /proc/net/tcp6; do
        tail -n +2 "$f" 2>/dev/null | while read -r _ local _; do echo $((16#${local##*:})); done
    done | sort -u | tr '\n' ' ') "
    while [[ $used == *" $p "* ]] || [[ " ${CITUS_PORTS:-} " == *" $p "* ]]; do p=$((p + 1)); done
    echo "$p"
}

citus_as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# cq PORT DB SQL-or-psql-args...
cq() {
    local port=$1 db=$2; shift 2
    "$CITUS_PG/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$CITUS_TMP" -p "$port" -U postgres -d "$db" "$@"
}

# cstate PORT DB SQL: the SQLSTATE SQL raised, 00000 if none.
cstate() {
    local out
    out=$("$CITUS_PG/psql" -X -q -A -t -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -h "$CITUS_TMP" -p "$1" \
        -U postgres -d "$2" -c "$3" 2>&1)
    if [ $? -eq 0 ]; then echo 00000; return; fi
    printf '%s\n' "$out" | sed -n 's/^.*ERROR:  \([0-9A-Z]\{5\}\): .*$/\1/p' | head -n1
}

citus_init_node() {     # NAME PORT
    local dir=$CITUS_TMP/$1
    citus_as_pg "$CITUS_PG/initdb" -D "$dir" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null || return 1
    cat >>"$dir/postgresql.conf" <<EOF
port = $2
listen_addresses = '127.0.0.1'
unix_socket_directories = '$CITUS_TMP'
shared_preload_libraries = 'citus,schemakit'
schemakit.code_key_file = '$CITUS_TMP/code.key'
citus.node_conninfo = 'sslmode=disable'
max_connections = 150
max_worker_processes = 40
shared_buffers = 32MB
max_prepared_transactions = 150
fsync = off
log_min_messages = warning
EOF
    citus_as_pg "$CITUS_PG/pg_ctl" -D "$dir" -l "$CITUS_TMP/$1.log" -w -t 60 start >/dev/null
}

citus_start() {
    CITUS_TMP=$(mktemp -d /tmp/sk-citus.XXXXXX) || return 1
    chmod 755 "$CITUS_TMP"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$CITUS_TMP"
    # The same code key on every node, outside every data directory.
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$CITUS_TMP/code.key"
    chmod 600 "$CITUS_TMP/code.key"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$CITUS_TMP/code.key"
    CITUS_PORTS=
    CN_PORT=$(citus_free_port 56432); CITUS_PORTS="$CN_PORT"
    W1_PORT=$(citus_free_port $((CN_PORT + 1))); CITUS_PORTS="$CITUS_PORTS $W1_PORT"
    W2_PORT=$(citus_free_port $((W1_PORT + 1))); CITUS_PORTS="$CITUS_PORTS $W2_PORT"
    citus_init_node coord "$CN_PORT" && citus_init_node w1 "$W1_PORT" && citus_init_node w2 "$W2_PORT" || {
        citus_log "a node did not start:"; tail -n 20 "$CITUS_TMP"/*.log 2>/dev/null | sed 's/^/#   /'; return 1; }
}

# citus_db DB: DB on every node with citus, the workers registered.
citus_db() {
    local db=$1 p
    for p in "$CN_PORT" "$W1_PORT" "$W2_PORT"; do
        cq "$p" postgres -c "CREATE DATABASE $db" && cq "$p" "$db" -c "CREATE EXTENSION citus" || return 1
    done
    cq "$CN_PORT" "$db" -c "SELECT citus_set_coordinator_host('127.0.0.1', $CN_PORT)" \
        -c "SELECT citus_add_node('127.0.0.1', $W1_PORT)" -c "SELECT citus_add_node('127.0.0.1', $W2_PORT)" >/dev/null
}

citus_stop() {
    local n
    [ -n "$CITUS_TMP" ] && [ -d "$CITUS_TMP" ] || return 0
    for n in coord w1 w2; do
        [ -f "$CITUS_TMP/$n/postmaster.pid" ] &&
            citus_as_pg "$CITUS_PG/pg_ctl" -D "$CITUS_TMP/$n" -m immediate -w -t 30 stop >/dev/null 2>&1
    done
    if [ "${SK_CITUS_KEEP:-0}" = 1 ]; then citus_log "kept $CITUS_TMP"; else rm -rf --one-file-system "$CITUS_TMP"; fi
    CITUS_TMP=
}
