#!/usr/bin/env bash
# test/lib/in-throwaway-cluster.sh - installs schemakit and runs a command in
# a throwaway cluster.  test/run, bench/run and examples/walkthrough.sh start
# this way:
#   1. install the Debian packages that are missing (test/deps.sh);
#   2. build (the Makefile's -Wall -Wextra -Werror) and install the
#      extension, with sudo when not root;
#   3. make a random code key (below);
#   4. start a cluster with `pg_virtualenv -t` (in a temporary directory,
#      never one of your clusters) with the settings below, run COMMAND in
#      it from the repository's top directory, drop the cluster and the key.
# Exits with COMMAND's status.  COMMAND sees PGHOST, PGPORT, PGUSER,
# PGPASSWORD (from pg_virtualenv) and SK_ROOT (the repository).
#
# usage: test/lib/in-throwaway-cluster.sh [OPTION]... [--] COMMAND [ARG]...
#   -o NAME=VALUE    one more server setting (repeatable; it can override a
#                    setting below)
#   --package PKG    one more Debian package to install (repeatable)
#   --key-setting    give the code key as the deprecated setting
#                    schemakit.code_hmac_key instead of a key file: the key
#                    is $SK_CODE_HMAC_KEY, or a random one, and is exported
#                    as SK_CODE_HMAC_KEY (test/run: its suites read the
#                    setting, and the matrix gives every cluster one key)
#
# Every cluster gets:
#   shared_preload_libraries=schemakit,pg_cron   schemakit's settings are
#       protected from the first session and its shared memory counts failed
#       code guesses; pg_cron schedules purges
#   cron.use_background_workers=on, max_worker_processes=16
#   wal_level=replica, max_wal_senders=10        for standbys and base backups
#   the code key, by default as production keeps it: in a file
#       (schemakit.code_key_file, exported as SK_CODE_KEY_FILE), mode 0600,
#       owned by the server's user (postgres when run as root: pg_virtualenv
#       runs the server as postgres then), in a mktemp directory outside the
#       data directory, removed on exit
#
# Environment: PG_MAJOR, SK_DEPS_EXTRA, SK_DEPS_LOCALES (test/deps.sh);
# PG_CONFIG (make); SK_CODE_HMAC_KEY (with --key-setting).
set -euo pipefail
cd "$(dirname "$0")/../.."
export SK_ROOT=$PWD

usage() { sed -n '/^# usage:/,/^#$/s/^# \{0,1\}//p' "$0" >&2; exit 2; }

settings=()
packages=()
key_form='file'
while [ $# -gt 0 ]; do
    case $1 in
        -o) [ $# -ge 2 ] || usage; settings+=(-o "$2"); shift 2;;
        --package) [ $# -ge 2 ] || usage; packages+=("$2"); shift 2;;
        --key-setting) key_form=setting; shift;;
        --) shift; break;;
        -*) usage;;
        *) break;;
    esac
done
[ $# -gt 0 ] || usage

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
random_hex() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

SK_DEPS_EXTRA="${packages[*]} ${SK_DEPS_EXTRA:-}" test/deps.sh
make -s >/dev/null
as_root make -s install ${PG_CONFIG:+PG_CONFIG="$PG_CONFIG"} >/dev/null

if [ "$key_form" = setting ]; then
    # a letter, then hex: a plain word to postgresql.conf, no quoting needed
    SK_CODE_HMAC_KEY=${SK_CODE_HMAC_KEY:-sk$(random_hex)}
    export SK_CODE_HMAC_KEY
    key=(-o "schemakit.code_hmac_key=$SK_CODE_HMAC_KEY")
else
    keydir=$(mktemp -d /tmp/schemakit-key.XXXXXX)
    trap 'rm -rf "$keydir"' EXIT
    ( umask 077; random_hex >"$keydir/code.key" )
    if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$keydir"; fi
    chmod 0700 "$keydir"
    chmod 0600 "$keydir/code.key"
    export SK_CODE_KEY_FILE=$keydir/code.key
    key=(-o "schemakit.code_key_file=$SK_CODE_KEY_FILE")
fi

status=0
pg_virtualenv -t \
    "${key[@]}" \
    -o "shared_preload_libraries=schemakit,pg_cron" \
    -o "cron.use_background_workers=on" \
    -o "max_worker_processes=16" \
    -o "wal_level=replica" \
    -o "max_wal_senders=10" \
    "${settings[@]}" \
    "$@" || status=$?
exit "$status"
