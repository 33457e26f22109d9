#!/usr/bin/env bash
# Attack class: look-alike addresses.  In a libc locale lower('İ') is 'i' and
# lower(U+212A KELVIN SIGN) is 'k', so under 1.4 a code issued for
# bob@gİthub.com (mail to a domain anyone can register) logged in as
# bob@github.com.  1.5 compares addresses under email_key(): ASCII letters
# folded, every other byte exact.
#
# In databases whose default collation is C.UTF-8, en_US.UTF-8, tr_TR.UTF-8
# and ICU (und, tr-TR), for a catalogue of confusables (dotted/dotless i,
# Kelvin, long s, fullwidth, final sigma, ligatures, combining marks, NFC/NFD,
# Cyrillic and Greek homoglyphs, zero-width and soft-hyphen insertions, ...):
#   - the confusable's key differs from the address it imitates;
#   - a code issued for it is bound to nobody, does not verify for the real
#     address, and does verify for the confusable itself;
#   - a user may register it (it is another mailbox).
# ASCII case variants, including I under Turkish rules, share the key and
# reach the real user.  The 1.4 -> 1.5 update refuses, naming the rows, when
# two 1.4 users would share a key.  A control run on 1.4 shows the attack
# working there, so this suite can fail.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"

DBS=()
cleanup() { for d in "${DBS[@]}"; do dropdb --if-exists "$d" 2>/dev/null; done; }
trap cleanup EXIT
tried=0
held=0
attack() { tried=$((tried + 1)); if [ "$1" = 1 ]; then held=$((held + 1)); pass "$2"; else fail "$2" "${3:-}"; fi; }

# base|variant|what : a variant that must NOT share the base's key.
# Written with escapes: an editor or a pipe that normalizes text (NFC, NFKC)
# would silently turn several of these into the very address they imitate.
u() { printf '%b' "$1"; }
CONFUSABLES="\
bob@github.com|bob@g$(u '\u0130')thub.com|U+0130 capital I with dot above in the domain
bob@github.com|BOB@G$(u '\u0130')THUB.COM|upper case with U+0130
bob@github.com|bob@g$(u '\u0131')thub.com|U+0131 dotless i
bob@github.com|bob@gi$(u '\u0307')thub.com|i followed by U+0307 combining dot above
ivan@mail.example|$(u '\u0130')van@mail.example|U+0130 in the local part
ivan@mail.example|$(u '\u0131')van@mail.example|U+0131 in the local part
kate@kit.example|$(u '\u212A')ate@kit.example|U+212A KELVIN SIGN
kate@kit.example|kate@$(u '\u212A')it.example|U+212A in the domain
sam@site.example|$(u '\u017F')am@site.example|U+017F long s
bob@github.com|$(u '\uFF42')ob@github.com|U+FF42 fullwidth b
bob@github.com|bob@$(u '\uFF47')ithub.com|U+FF47 fullwidth g in the domain
sigma.$(u '\u03C3')@mail.gr|sigma.$(u '\u03C2')@mail.gr|U+03C2 final sigma
sigma.$(u '\u03C3')@mail.gr|sigma.$(u '\u03A3')@mail.gr|U+03A3 capital sigma
file@mail.example|$(u '\uFB01')le@mail.example|U+FB01 ligature fi
office@mail.example|o$(u '\uFB00')ice@mail.example|U+FB00 ligature ff
strasse@mail.de|stra$(u '\u00DF')e@mail.de|U+00DF sharp s
jos$(u '\u00E9')@mail.example|jose$(u '\u0301')@mail.example|NFD e + U+0301 against NFC U+00E9
$(u '\u00C5')sa@mail.se|$(u '\u212B')sa@mail.se|U+212B ANGSTROM SIGN against U+00C5
$(u '\u03A9')mega@mail.gr|$(u '\u2126')mega@mail.gr|U+2126 OHM SIGN against U+03A9
alice@mail.example|$(u '\u0430')lice@mail.example|U+0430 Cyrillic a
bob@github.com|b$(u '\u03BF')b@github.com|U+03BF Greek omicron
bob@github.com|$(u '\U0001D41B')ob@github.com|U+1D41B mathematical bold b
bob@github.com|b$(u '\u200D')ob@github.com|U+200D zero-width joiner inserted
bob@github.com|bo$(u '\u00AD')b@github.com|U+00AD soft hyphen inserted
$(u '\u01C6')emal@mail.ba|$(u '\u01C5')emal@mail.ba|U+01C5 titlecase dz against U+01C6
paypal@pay.example|payp$(u '\u0430')l@pay.example|U+0430 Cyrillic a in the local part
admin@corp.example|admin@corp.ex$(u '\u0430')mple|U+0430 Cyrillic a in the domain
bob@github.com|bob$(u '\uFF20')github.com|U+FF20 fullwidth commercial at (no @ at all)
"
# base|variant : ASCII case variants that MUST share the key.
SAME=$(cat <<'EOF'
bob@github.com|BOB@GITHUB.COM
bob@github.com|Bob@GitHub.Com
ivan@mail.example|IVAN@MAIL.EXAMPLE
kate@kit.example|KATE@KIT.EXAMPLE
sam@site.example|SAM@SITE.EXAMPLE
EOF
)

# make_db NAME CREATE-OPTIONS: a database with the given default collation and 1.5.
make_db() {
    local out
    dropdb --if-exists "$1" 2>/dev/null
    out=$(psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $1 TEMPLATE template0 ENCODING 'UTF8' $2" 2>&1) ||
        { fail "$1: created ($2)" "$out"; return 1; }
    DBS+=("$1")
    sql "$1" -c "CREATE EXTENSION schemakit" >/dev/null || { fail "$1: CREATE EXTENSION"; return 1; }
    pass "$1: created with $2"
}

# run_catalogue DB LABEL
run_catalogue() {
    local db=$1 label=$2 base variant what code r uid
    while IFS='|' read -r base variant what; do
        [ -n "$base" ] || continue
        sql "$db" -c "INSERT INTO schemakit.users (username, email) SELECT 'u' || md5('$base'), '$base'
                      WHERE NOT EXISTS (SELECT 1 FROM schemakit.users WHERE email = '$base')" >/dev/null 2>&1
        r=$(sql "$db" -c "SELECT schemakit.email_key('$variant') <> schemakit.email_key('$base')" 2>&1)
        attack "$([ "$r" = t ] && echo 1)" "$label: $what: its key differs from $base's" "$r"
        code=$(sql "$db" -c "SELECT schemakit.issue_email_code('$variant')" 2>&1)
        if ! [[ "$code" =~ ^[0-9]{6}$ ]]; then
            # Refused outright (not an address at all) also holds.
            attack "$([[ "$code" == *"invalid email address"* ]] && echo 1)" "$label: $what: refused or issued" "$code"
            continue
        fi
        uid=$(sql "$db" -c "SELECT coalesce(user_id::text, 'none') FROM schemakit.email_codes
                            WHERE email = '$variant' AND used_at IS NULL AND revoked_at IS NULL")
        attack "$([ "$uid" = none ] && echo 1)" "$label: $what: the code is bound to nobody" "bound to user $uid"
        r=$(sql "$db" -c "SELECT schemakit.verify_email_code('$base', '$code')" 2>&1)
        attack "$([ "$r" = f ] && echo 1)" "$label: $what: its code does not log in as $base" "$r"
        r=$(sql "$db" -c "SELECT schemakit.verify_email_code('$variant', '$code')" 2>&1)
        is "$r" t "$label: $what: its code verifies for the confusable's own mailbox"
        r=$(sql "$db" -c "INSERT INTO schemakit.users (username, email) VALUES ('v' || md5('$variant'), '$variant') RETURNING 'ok'" 2>&1)
        is "$r" ok "$label: $what: it can be registered as an address of its own"
        sql "$db" -c "DELETE FROM schemakit.users WHERE email = '$variant'" >/dev/null
    done <<<"$CONFUSABLES"
    while IFS='|' read -r base variant; do
        [ -n "$base" ] || continue
        code=$(sql "$db" -c "SELECT schemakit.issue_email_code('$variant')" 2>&1)
        uid=$(sql "$db" -c "SELECT (SELECT id FROM schemakit.users WHERE email = '$base') IS NOT DISTINCT FROM
                                   (SELECT user_id FROM schemakit.email_codes WHERE email = '$variant'
                                     AND used_at IS NULL AND revoked_at IS NULL)")
        is "$uid" t "$label: ASCII case variant $variant reaches $base's user"
        is "$(sql "$db" -c "SELECT schemakit.verify_email_code('$base', '$code')" 2>&1)" t \
           "$label: ... and its code verifies as $base"
        is "$(sql "$db" -c "INSERT INTO schemakit.users (username, email) VALUES ('dup' || md5('$variant'), '$variant')" 2>&1 | grep -o 'users_email_key')" \
           users_email_key "$label: ... and cannot be registered twice (users_email_key)"
    done <<<"$SAME"
}

make_db sk_addr_c "LOCALE 'C.UTF-8'" && run_catalogue sk_addr_c "C.UTF-8"
make_db sk_addr_en "LOCALE 'en_US.UTF-8'" && run_catalogue sk_addr_en "en_US.UTF-8"
make_db sk_addr_tr "LOCALE 'tr_TR.UTF-8'" && run_catalogue sk_addr_tr "tr_TR.UTF-8"
if [ "$(sql postgres -c "SELECT current_setting('server_version_num')::int >= 150000")" = t ]; then
    make_db sk_addr_icu "LOCALE_PROVIDER icu ICU_LOCALE 'und' LOCALE 'C.UTF-8'" && run_catalogue sk_addr_icu "ICU und"
    make_db sk_addr_icutr "LOCALE_PROVIDER icu ICU_LOCALE 'tr-TR' LOCALE 'C.UTF-8'" && run_catalogue sk_addr_icutr "ICU tr-TR"
else
    echo "# ICU as a database's default collation needs PostgreSQL 15; skipped here"
fi

# The key is the same bytes whatever collation the caller names.
r=$(for c in C POSIX tr-TR-x-icu und-x-icu default; do
        sql sk_addr_tr -c "SELECT schemakit.email_key('BOB@GITHUB.COM' COLLATE \"$c\")" 2>&1
    done | sort -u | paste -sd,)
attack "$([ "$r" = bob@github.com ] && echo 1)" "email_key ignores the collation (C, POSIX, ICU tr-TR, ICU und, tr_TR default)" "$r"

# ---------------------------------------------------------------------------
# The update refuses keys that two 1.4 users would share, naming them.
# ---------------------------------------------------------------------------
db=sk_addr_up
dropdb --if-exists $db 2>/dev/null
psql -X -q -d postgres -c "CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8' LOCALE 'tr_TR.UTF-8'" && DBS+=($db)
sql $db -c "CREATE EXTENSION schemakit VERSION '1.0'" -c "ALTER EXTENSION schemakit UPDATE TO '1.4'" >/dev/null
# Under Turkish lower(), 'I' folds to dotless i, so 1.4 let both in.
out=$(sql $db -c "INSERT INTO schemakit.users (username, email) VALUES ('bob1', 'bob@github.com'), ('bob2', 'BOB@GITHUB.COM'),
                                                                 ('carol', 'carol@mail.example') RETURNING id" 2>&1)
is "$(printf '%s\n' "$out" | tr '\n' ' ')" "1 2 3 " "1.4 in tr_TR: bob@github.com and BOB@GITHUB.COM are two users"
before=$(data_snapshot $db)
out=$(psql -X -q -v VERBOSITY=verbose -d $db -c "ALTER EXTENSION schemakit UPDATE TO '1.5'" 2>&1)
attack "$(printf '%s' "$out" | grep -q 'ERROR:  23505: users would share an address key' && echo 1)" \
       "update to 1.5 refuses the collision with 23505" "$out"
like "$out" "'bob@github.com': users 1, 2" "the error names the key and both rows"
is "$(sql $db -c "SELECT extversion FROM pg_extension WHERE extname = 'schemakit'")" 1.4 "... the database stays at 1.4"
is "$(data_snapshot $db)" "$before" "... with every row as it was (nothing merged, nothing dropped)"
sql $db -c "UPDATE schemakit.users SET email = 'bob.upper@github.com' WHERE id = 2" >/dev/null
ok_cmd "after the operator resolves it, the update succeeds" sql $db -c "ALTER EXTENSION schemakit UPDATE TO '1.5'"
is "$(sql $db -c "SELECT count(*) FROM schemakit.users")" 3 "... and keeps all three users"

# ---------------------------------------------------------------------------
# Control: the same attack against 1.4 succeeds, so this suite can fail.
# ---------------------------------------------------------------------------
db=sk_addr_14
dropdb --if-exists $db 2>/dev/null
psql -X -q -d postgres -c "CREATE DATABASE $db TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8'" && DBS+=($db)
sql $db -c "CREATE EXTENSION schemakit VERSION '1.0'" -c "ALTER EXTENSION schemakit UPDATE TO '1.4'" >/dev/null
sql $db -c "INSERT INTO schemakit.users (username, email) VALUES ('bob', 'bob@github.com')" >/dev/null
code=$(sql $db -c "SELECT schemakit.issue_email_code('bob@gİthub.com')" 2>&1)
is "$(sql $db -c "SELECT schemakit.verify_email_code('bob@github.com', '$code')" 2>&1)" t \
   "control: on 1.4 the U+0130 code logs in as bob (the attack this suite guards against)"

echo "# addresses: $tried attacks tried, $held held"
done_testing
