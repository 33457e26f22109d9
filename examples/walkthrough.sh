#!/usr/bin/env bash
# examples/walkthrough.sh - the main job, from a fresh Debian machine:
# installs missing packages, builds and installs schemakit, starts a
# throwaway PostgreSQL cluster (pg_virtualenv -t; your clusters are never
# touched), creates the extension and walks through a realistic session.
#
# The cluster is set up as production should be: schemakit preloaded (its
# shared memory counts failed code guesses; verify_email_code needs it), and
# the code key in a file outside the data directory, owned by the server's
# user, mode 0600 (schemakit.code_key_file; doc/schemakit.md, "Code keys").
set -euo pipefail
cd "$(dirname "$0")/.."

test/deps.sh
make -s >/dev/null
if [ "$(id -u)" -eq 0 ]; then make -s install >/dev/null; else sudo make -s install >/dev/null; fi

keydir=$(mktemp -d /tmp/schemakit-walkthrough.XXXXXX)
trap 'rm -rf "$keydir"' EXIT
( umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$keydir/code.key" )
# pg_virtualenv runs the server as postgres when started by root, else as you.
if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$keydir"; fi
chmod 0700 "$keydir"; chmod 0600 "$keydir/code.key"

pg_virtualenv -t \
    -o "shared_preload_libraries=schemakit" \
    -o "schemakit.code_key_file=$keydir/code.key" \
    psql -X -q -v ON_ERROR_STOP=1 -f examples/walkthrough.sql
