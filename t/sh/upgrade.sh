#!/usr/bin/env bash
# The upgrade chain.  The SPEC names no versions; its preamble applies:
# "Where this file is silent, do what a PostgreSQL user would expect" -- and a
# user expects ALTER EXTENSION UPDATE to give what CREATE EXTENSION gives,
# keeping the data.  So a database created with seatmgr 0.1.0 and holding an
# organization (sql/seatmgr--0.1.0.sql), updated through
# sql/seatmgr--0.1.0--0.2.0.sql (built from sql/update--0.1.0--0.2.0.sql, sql/money.sql and sql/access.sql)
# with ALTER EXTENSION seatmgr UPDATE TO '0.2.0',
#   - keeps every row of every table 0.1.0 had (the columns 0.1.0 had; new
#     columns are not compared) and every sequence position;
#   - has exactly the catalog of a fresh CREATE EXTENSION seatmgr (0.2.0):
#     every object of the extension, described by t/canon.sql (part=catalog),
#     columns compared by name so that a column added by the upgrade script
#     equals the one of the fresh install;
#   - still works: a new membership of a paid team grants a licence.
# About 5 seconds.
source "$(dirname "$0")/tap.sh"
export PATH=/usr/lib/postgresql/15/bin:$PATH
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

old=0.1.0
new=0.2.0
A=seatmgr_upgrade_a   # created with 0.1.0, then updated
B=seatmgr_upgrade_b   # created fresh with the default version

fresh_db() { q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 TEMPLATE template0"; }
drop_dbs() { q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $A" -c "DROP DATABASE IF EXISTS $B"; }
bail_out() { echo "Bail out! $*"; drop_dbs; exit 1; }
version() { q -d "$1" -c "SELECT extversion FROM pg_extension WHERE extname = 'seatmgr'"; }

# --- database A: 0.1.0 and an organization -----------------------------------
fresh_db $A
q -d $A -c "CREATE EXTENSION seatmgr VERSION '$old'" || bail_out "CREATE EXTENSION seatmgr VERSION '$old' failed"
ok '[ "$(version $A)" = $old ]' "database A: CREATE EXTENSION seatmgr VERSION '$old'"
q -d $A >/dev/null <<'SQL' || bail_out "filling database A failed"
INSERT INTO seatmgr.domains (name) VALUES ('acme.com');
-- Eng has 3 seats and a waitlist; Sales has no limit
INSERT INTO seatmgr.divisions (domain_id, name, seat_limit, seat_price) VALUES (1, 'Eng', 3, 20), (1, 'Sales', NULL, 10);
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'Platform'), (1, 2, 'Deals'), (1, NULL, 'Lunch');
INSERT INTO seatmgr.users (domain_id, email, last_active_at)
SELECT 1, 'u' || i || '@acme.com', now() - i * interval '20 days' FROM generate_series(1, 8) i;
-- five people for three seats: u4 and u5 wait
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
SELECT 1, user_id, '2024-01-01'::timestamptz + user_id * interval '1 day' FROM seatmgr.users WHERE user_id <= 5 ORDER BY user_id;
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (2, 6, '2024-02-01'), (3, 7, '2024-02-01');
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id, shared_at) VALUES ('project', 'p1', 6, 8, '2024-03-01');
INSERT INTO seatmgr.groups (domain_id, name) VALUES (1, 'IdP sales');
INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (1, 2);
INSERT INTO seatmgr.group_members (group_id, user_id, added_at) VALUES (1, 7, '2024-04-01');
INSERT INTO seatmgr.exclusions (domain_id, user_id, reason) VALUES (1, 1, 'the founder');
INSERT INTO seatmgr.policies (division_id, enabled, grant_active_within, revoke_inactive_after)
VALUES (1, true, '30 days', '50 days');
-- a real run: u3 (60 days idle) loses the seat; idle waiters are deactivated
SELECT count(*) FROM seatmgr_run(1);
SQL
facts=$(q -d $A -c "SELECT format('%s licences (%s deactivated), %s runs, %s run changes, %s events',
         (SELECT count(*) FROM seatmgr.licenses), (SELECT count(*) FROM seatmgr.licenses WHERE status = 'deactivated'),
         (SELECT count(*) FROM seatmgr.runs WHERE status = 'succeeded'), (SELECT count(*) FROM seatmgr.run_changes),
         (SELECT count(*) FROM seatmgr.license_events))")
ok '[[ $facts =~ ^[1-9][0-9]*\ licences\ \([1-9][0-9]*\ deactivated\),\ 1\ runs,\ [1-9][0-9]*\ run\ changes ]]' \
   "database A holds an organization, with a real run ($facts)"

# the data of 0.1.0: each table's rows (its 0.1.0 columns) and each sequence's position
tables=$(q -d $A -c "SELECT tablename FROM pg_tables WHERE schemaname = 'seatmgr' ORDER BY 1")
seqs=$(q -d $A -c "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = 'seatmgr' AND c.relkind = 'S' ORDER BY 1")
declare -A cols
rows_of() {  # rows_of DB TABLE: the table's rows, only the columns 0.1.0 had
    q -d "$1" -c "SELECT r FROM (SELECT ROW(${cols[$2]})::text AS r FROM seatmgr.$2) s ORDER BY r COLLATE \"C\"" 2>&1
}
seq_of() { q -d "$1" -c "SELECT last_value || ' ' || is_called FROM seatmgr.$2" 2>&1; }
for t in $tables; do
    cols[$t]=$(q -d $A -c "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
                            WHERE attrelid = 'seatmgr.$t'::regclass AND attnum > 0 AND NOT attisdropped")
    rows_of $A $t > "$tmp/before.$t"
done
for s in $seqs; do seq_of $A $s > "$tmp/before.$s"; done

# --- the update ---------------------------------------------------------------
q -d $A -c "ALTER EXTENSION seatmgr UPDATE TO '$new'" 2>"$tmp/update.err"
st=$?
ok '[ $st = 0 ] && [ "$(version $A)" = $new ]' "ALTER EXTENSION seatmgr UPDATE TO '$new': exits 0, extversion is $new"
[ $st = 0 ] || diag "exit $st: $(head -c 600 "$tmp/update.err")"

for t in $tables; do
    rows_of $A $t > "$tmp/after.$t"
    ok 'cmp -s "$tmp/before.$t" "$tmp/after.$t"' "table seatmgr.$t keeps its $(wc -l < "$tmp/before.$t") rows ($(echo "${cols[$t]}" | wc -w) columns of $old)"
    cmp -s "$tmp/before.$t" "$tmp/after.$t" || diff "$tmp/before.$t" "$tmp/after.$t" | head -n 20 | cut -c1-200 | sed 's/^/#   /'
done
bad=""
for s in $seqs; do
    seq_of $A $s > "$tmp/after.$s"
    cmp -s "$tmp/before.$s" "$tmp/after.$s" || bad="$bad $s: $(cat "$tmp/before.$s") -> $(cat "$tmp/after.$s");"
done
ok '[ -z "$bad" ]' "every sequence keeps its position"
[ -z "$bad" ] || diag "$bad"

# --- database B: a fresh install of the default version ----------------------
fresh_db $B
q -d $B -c "CREATE EXTENSION seatmgr" || bail_out "CREATE EXTENSION seatmgr failed"
ok '[ "$(version $B)" = $new ]' "database B: CREATE EXTENSION seatmgr installs $new (the default version)"

# --- the catalogs of A and B ---------------------------------------------------
q -d $A -v part=catalog -f "$here/canon.sql" > "$tmp/catalog.A" 2>&1
q -d $B -v part=catalog -f "$here/canon.sql" > "$tmp/catalog.B" 2>&1
members=$(grep -c '^member ' "$tmp/catalog.B")
ok 'cmp -s "$tmp/catalog.A" "$tmp/catalog.B" && [ "$members" -gt 20 ]' \
   "the catalog of $old updated to $new equals a fresh $new ($members objects: tables, columns, constraints, indexes, triggers, routines, views, ACLs, RLS, comments, dump config)"
if ! cmp -s "$tmp/catalog.A" "$tmp/catalog.B"; then
    diag "diff (< updated from $old, > fresh $new); the first 60 lines:"
    diff "$tmp/catalog.A" "$tmp/catalog.B" | head -n 60 | cut -c1-250 | sed 's/^/#   /'
fi

# --- the money and time objects of 0.2.0 read the history of 0.1.0 ------------
# (issue 10) the events 0.1.0 wrote give the seats of now, one open period per
# active licence, the billable users, and the run's seat change
got=$(q -d $A -c "SELECT (SELECT string_agg(division_id || ':' || active, ' ' ORDER BY division_id) FROM seatmgr_seats_at(now()))
                    = (SELECT string_agg(d.division_id || ':' || (SELECT count(*) FROM seatmgr.licenses l
                                         WHERE l.division_id = d.division_id AND l.status = 'active'), ' ' ORDER BY d.division_id)
                         FROM seatmgr.divisions d),
                  (SELECT count(*) FROM seatmgr.license_periods WHERE upper_inf(period))
                    = (SELECT count(*) FROM seatmgr.licenses WHERE status = 'active'),
                  (SELECT count(*) FROM seatmgr.billable_users)
                    = (SELECT count(DISTINCT user_id) FROM seatmgr.licenses WHERE status = 'active'),
                  (SELECT seat_change = users_added - users_deactivated AND monthly_cost_change = seat_change * 20
                     FROM seatmgr.run_history),
                  (SELECT count(*) > 0 FROM seatmgr_cost(now() - interval '1 day', now()))" 2>&1)
ok '[ "$got" = "t|t|t|t|t" ]' "after the update, seatmgr_seats_at, license_periods, billable_users, run_history's seat_change and monthly_cost_change and seatmgr_cost read 0.1.0's licences, events and runs"
[ "$got" = "t|t|t|t|t" ] || diag "got '$(echo $got | cut -c1-300)'"

# --- A still works -------------------------------------------------------------
got=$(q -d $A -c "INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES (1, 'upgrade.check@acme.com', now())" \
               -c "INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 2, user_id FROM seatmgr.users WHERE email = 'upgrade.check@acme.com'" \
               -c "SELECT l.status FROM seatmgr.licenses l JOIN seatmgr.users u USING (user_id)
                    WHERE u.email = 'upgrade.check@acme.com' AND l.division_id = 2" 2>&1)
ok '[ "$got" = active ]' "after the update, a new member of a paid team of database A gets a licence"
[ "$got" = active ] || diag "licence of the new member: '$(echo $got | cut -c1-300)' (expected 'active')"

# --- issue 10's (and 12's) objects came with the update, and work ---------------------------
for o in 'member table seatmgr.notices' 'member function public.seatmgr_answer_notice(bigint,pg_catalog.text)' \
         'member function public.seatmgr_undo_run(bigint)' 'member function public.seatmgr_simulate(bigint,interval,interval,interval)' \
         'member function public.seatmgr_run_summary(bigint)'; do
    ok 'grep -qF "$o" "$tmp/catalog.A"' "the update brings $o"
done
got=$(q -d $A -c "SELECT string_agg(attname, ',' ORDER BY attname) FROM pg_attribute
                   WHERE attrelid IN ('seatmgr.policies'::regclass, 'seatmgr.runs'::regclass)
                     AND attname IN ('notice_period', 'users_warned', 'undoes_run_id')" 2>&1)
ok '[ "$got" = "notice_period,undoes_run_id,users_warned" ]' "the update adds policies.notice_period, runs.users_warned and runs.undoes_run_id ($got)"
# (client_min_messages: the run's NOTICE summary is not one of the two numbers)
got=$(q -d $A -c "SET client_min_messages = warning" \
               -c "UPDATE seatmgr.policies SET notice_period = '7 days', grant_active_within = NULL WHERE division_id = 1" \
               -c "UPDATE seatmgr.users SET last_active_at = now() - interval '400 days'" \
               -c "UPDATE seatmgr.divisions SET seat_limit = NULL WHERE division_id = 1" \
               -c "SELECT count(*) FROM seatmgr_run(1) WHERE action = 'warned'" \
               -c "SELECT count(*) FROM seatmgr.notices WHERE outcome IS NULL" 2>&1 | tr '\n' ' ')
ok '[[ $got =~ ^([1-9][0-9]*)\ \1\ $ ]]' "after the update, a run of database A with notice_period warns and opens notices (R14): $got"

drop_dbs
echo "1..$tap_n"
exit $tap_failed
