#!/usr/bin/env bash
# test/deps.sh - installs the Debian packages schemakit needs to build and
# test, when any is missing.  Used by test/run and examples/walkthrough.sh.
set -euo pipefail

PG_MAJOR=${PG_MAJOR:-15}
PKGS=(
    "postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR"
    "postgresql-$PG_MAJOR-pgtap" libtap-parser-sourcehandler-pgtap-perl
    "postgresql-$PG_MAJOR-cron" postgresql-contrib
    make gcc clang libclang-rt-dev perl
)
[ "${SK_DEPS_EXTRA:-}" ] && read -r -a extra <<<"$SK_DEPS_EXTRA" && PKGS+=("${extra[@]}")

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
