#!/usr/bin/env bash
# examples/walkthrough.sh - the main job, from a fresh Debian machine:
# installs missing packages, builds and installs schemakit, starts a
# throwaway PostgreSQL cluster (pg_virtualenv -t; your clusters are never
# touched), creates the extension and walks through a realistic session.
#
# The cluster is set up as production should be (test/lib/in-throwaway-cluster.sh):
# schemakit preloaded (its shared memory counts failed code guesses;
# verify_email_code needs it), and the code key in a file outside the data
# directory, owned by the server's user, mode 0600 (schemakit.code_key_file;
# doc/schemakit.md, "Code keys").
set -euo pipefail
cd "$(dirname "$0")/.."
exec test/lib/in-throwaway-cluster.sh -- psql -X -q -v ON_ERROR_STOP=1 -f examples/walkthrough.sql
