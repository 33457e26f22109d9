#!/usr/bin/env bash
# sql/fragments/install-test.sh PG_CONFIG: installs this tree with the
# organizations fragments assembled into the 1.4/1.5 scripts, into the
# PostgreSQL that PG_CONFIG belongs to (use a private copy, not the system's).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pgc=${1:?usage: install-test.sh PG_CONFIG}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$here/assemble.sh" "$tmp"
make -C "$here/../.." -s PG_CONFIG="$pgc" install >/dev/null
install -m 644 "$tmp"/schemakit--1.4--1.5.sql "$tmp"/schemakit--1.5--1.4.sql "$("$pgc" --sharedir)/extension/"
