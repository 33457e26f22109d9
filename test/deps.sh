#!/usr/bin/env bash
# test/deps.sh - installs the Debian packages schemakit needs to build and
# test, when any is missing.  Used by test/lib/in-throwaway-cluster.sh (so by
# test/run, bench/run and examples/walkthrough.sh); SK_DEPS_EXTRA adds packages.
# PG_MAJOR (default 15) picks the PostgreSQL major; contrib ships in
# postgresql-N (trixie and later have no postgresql-contrib package).
# `test/deps.sh --list` prints the package list and installs nothing
# (test/matrix.sh builds its chroots from it).
set -euo pipefail

PG_MAJOR=${PG_MAJOR:-15}
PKGS=(
    "postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR"
    "postgresql-$PG_MAJOR-pgtap" libtap-parser-sourcehandler-pgtap-perl
    "postgresql-$PG_MAJOR-cron"
    make gcc clang libclang-rt-dev perl
)
# PostgreSQL 13 comes from bullseye: clang there ships its sanitizer runtimes
# itself (no libclang-rt-dev yet), and the 13 server headers include
# OpenSSL's without depending on libssl-dev.
if [ "$PG_MAJOR" -le 13 ]; then
    for i in "${!PKGS[@]}"; do [ "${PKGS[$i]}" != libclang-rt-dev ] || unset 'PKGS[i]'; done
    PKGS+=(libssl-dev)
fi
[ "${SK_DEPS_EXTRA:-}" ] && read -r -a extra <<<"$SK_DEPS_EXTRA" && PKGS+=("${extra[@]}")
[ "${1:-}" = --list ] && { printf '%s\n' "${PKGS[@]}"; exit 0; }

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    SUDO=
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
        SUDO=sudo
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Locales the address suite compares under (test/scripts/11-attack-addresses.sh):
# en_US.UTF-8 and tr_TR.UTF-8 (Turkish folds I to dotless i), generated once.
if [ "${SK_DEPS_LOCALES:-1}" = 1 ]; then
    need_locales=()
    for l in en_US.UTF-8 tr_TR.UTF-8; do
        locale -a 2>/dev/null | grep -qix "$(printf '%s' "$l" | sed 's/UTF-8/utf8/')" || need_locales+=("$l")
    done
    if [ ${#need_locales[@]} -gt 0 ]; then
        SUDO=
        [ "$(id -u)" -ne 0 ] && SUDO=sudo
        if ! dpkg-query -W -f='${Status}' locales 2>/dev/null | grep -q "ok installed"; then
            $SUDO apt-get update -qq
            DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends locales >/dev/null
        fi
        for l in "${need_locales[@]}"; do
            grep -q "^$l UTF-8" /etc/locale.gen 2>/dev/null || echo "$l UTF-8" | $SUDO tee -a /etc/locale.gen >/dev/null
        done
        echo "deps: generating locales ${need_locales[*]}"
        $SUDO locale-gen >/dev/null
    fi
fi
