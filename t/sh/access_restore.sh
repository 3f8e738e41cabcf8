#!/usr/bin/env bash
# SPEC section 8 (R20): access survives pg_dump / pg_restore.  A source
# database with an organization of two domains gives app, reader and admin
# access (unscoped, to one domain, to one division) with seatmgr_allow; it is
# restored with pg_dump -Fc | pg_restore and with pg_dump | psql.  Each restored
# database must have the same seatmgr.access rows, the same privileges on
# every object of the extension (relacl, proacl, nspacl), the same row-level
# security (relrowsecurity and every policy), and behave the same: a
# domain-scoped reader sees its domain only, a division-scoped admin is
# refused another division with 42501.  Policies a DBA adds by hand on an
# extension's tables are not dumped; seatmgr's own come with CREATE
# EXTENSION.  About 5 seconds.
source "$(dirname "$0")/tap.sh"
export PATH=/usr/lib/postgresql/15/bin:$PATH
tmp=$(mktemp -d)
src=seatmgr_access_src
dbs="$src seatmgr_access_a seatmgr_access_b"
roles="seatmgr_r_app seatmgr_r_reader seatmgr_r_admin"
fresh_db() { q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 TEMPLATE template0"; }
cleanup() {
    for db in $dbs; do q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db"; done
    for r in $roles; do q -d postgres -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS $r"; done
    rm -rf "$tmp"
}
trap cleanup EXIT
bail_out() { echo "Bail out! $*"; exit 1; }
echo "1..11"

# the roles belong to the cluster (pg_dumpall --globals-only); they exist before and after
cleanup; mkdir -p "$tmp"
for r in $roles; do q -d postgres -c "CREATE ROLE $r" || bail_out "CREATE ROLE $r failed"; done

fresh_db $src
q -d $src >/dev/null <<'SQL' || bail_out "building the source failed"
CREATE EXTENSION seatmgr;
INSERT INTO seatmgr.domains (name) VALUES ('acme.com'), ('other.com');
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Eng'), (1, 'Sales'), (2, 'Theirs');
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'E'), (1, 2, 'S'), (2, 3, 'T');
INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'a@acme.com'), (1, 'b@acme.com'), (2, 'z@other.com');
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 1), (2, 2), (3, 3);
SELECT seatmgr_allow('seatmgr_r_app', 'app');
SELECT seatmgr_allow('seatmgr_r_reader', 'reader', domain_id => 1);
SELECT seatmgr_allow('seatmgr_r_admin', 'admin', division_id => 1);
SQL

# what must survive: grants, privileges (a default ACL is the same whether
# NULL or written out), row-level security
state() {
    q -d "$1" <<'SQL'
SELECT 'access: ' || role::text || ' ' || access || ' ' || coalesce(domain_id::text, '-') || ' ' || coalesce(division_id::text, '-')
  FROM seatmgr.access ORDER BY 1;
SELECT 'relacl: ' || c.relname || ' ' || coalesce(c.relacl, acldefault('r', c.relowner))::text || ' rls=' || c.relrowsecurity
  FROM pg_class c WHERE c.relnamespace = 'seatmgr'::regnamespace AND c.relkind IN ('r', 'v') ORDER BY 1;
SELECT 'proacl: ' || p.oid::regprocedure::text || ' ' || coalesce(p.proacl, acldefault('f', p.proowner))::text
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'seatmgr' ORDER BY 1;
SELECT 'nspacl: ' || coalesce(nspacl, acldefault('n', nspowner))::text FROM pg_namespace WHERE nspname = 'seatmgr';
SELECT 'policy: ' || tablename || ' ' || policyname || ' ' || cmd || ' ' || qual FROM pg_policies WHERE schemaname = 'seatmgr' ORDER BY 1;
SQL
}
state $src > "$tmp/src.state" || bail_out "reading the source failed"
ok '[ "$(grep -c "^access: " "$tmp/src.state")" = 3 ] && [ "$(grep -c "^policy: " "$tmp/src.state")" -ge 17 ]' \
   "the source has three grants and a policy on every scoped table"

# behave: the reader sees its domain's users only; the admin may not grant in another division
behaves() {
    local db=$1 label=$2 seen err
    seen=$(q -d "$db" -c "SET ROLE seatmgr_r_reader" -c "SELECT string_agg(email, ',' ORDER BY email) FROM seatmgr.users")
    ok '[ "$seen" = "a@acme.com,b@acme.com" ]' "$label: the domain-scoped reader sees its domain's users only ($seen)"
    err=$(q -d "$db" -c "SET ROLE seatmgr_r_admin" -c "SELECT seatmgr_grant_license(2, 2)" 2>&1 || true)
    ok '[[ $err == *"permission denied for division 2"* ]]' "$label: the division-scoped admin is refused another division (42501)"
}
behaves $src "source"

# (a) pg_dump -Fc | pg_restore
pg_dump -Fc -d $src -f "$tmp/src.dump" || bail_out "pg_dump -Fc failed"
fresh_db seatmgr_access_a
pg_restore -d seatmgr_access_a "$tmp/src.dump" 2> "$tmp/a.err"; st=$?
ok '[ $st = 0 ] && ! grep -q ERROR "$tmp/a.err"' "pg_dump -Fc, pg_restore: exit 0, no ERROR"
state seatmgr_access_a > "$tmp/a.state"
ok 'cmp -s "$tmp/src.state" "$tmp/a.state"' "pg_restore: the same grants, privileges and row-level security"
cmp -s "$tmp/src.state" "$tmp/a.state" || diff "$tmp/src.state" "$tmp/a.state" | head -20 | sed 's/^/# /'
behaves seatmgr_access_a "pg_restore"

# (b) pg_dump | psql
fresh_db seatmgr_access_b
pg_dump -d $src | psql -X -q -v ON_ERROR_STOP=1 -d seatmgr_access_b > /dev/null 2> "$tmp/b.err"; st=$?
ok '[ $st = 0 ] && ! grep -q ERROR "$tmp/b.err"' "pg_dump | psql: exit 0, no ERROR"
state seatmgr_access_b > "$tmp/b.state"
ok 'cmp -s "$tmp/src.state" "$tmp/b.state"' "pg_dump | psql: the same grants, privileges and row-level security"
cmp -s "$tmp/src.state" "$tmp/b.state" || diff "$tmp/src.state" "$tmp/b.state" | head -20 | sed 's/^/# /'
behaves seatmgr_access_b "pg_dump | psql"
exit $tap_failed
