#!/usr/bin/env bash
# examples/walkthrough.sh - the main job, from a fresh Debian machine:
# installs missing packages, builds and installs schemakit, starts a
# throwaway PostgreSQL cluster (pg_virtualenv -t; your clusters are never
# touched), creates the extension and walks through a realistic session.
set -euo pipefail
cd "$(dirname "$0")/.."

test/deps.sh
make -s >/dev/null
if [ "$(id -u)" -eq 0 ]; then make -s install >/dev/null; else sudo make -s install >/dev/null; fi

exec pg_virtualenv -t psql -X -q -v ON_ERROR_STOP=1 -f examples/walkthrough.sql
