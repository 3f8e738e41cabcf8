#!/usr/bin/env bash
# What the outbox adds to a team invite, in instructions (issue 11): the
# number does not move with the machine's load as wall clock does.  On a
# throwaway cluster it builds the database of bench/webhooks.sh (10,000
# users, one paid team, one webhook of every domain, tables VACUUM ANALYZEd
# empty), stops it, and runs each case in a single-user backend under
# valgrind --tool=callgrind, each on a fresh copy of the stopped cluster:
#   invite, no webhook / one webhook: one INSERT of 10,000 team invites, rolled back
#   rows by hand: the same 10,000 deliveries written in plain SQL (payloads
#     given) into a copy of seatmgr.deliveries with its indexes, rolled back
#     (the floor of any outbox of that table)
#   single, no webhook / one webhook: 300 single-invite statements
# The session's own start (a SELECT 1) is subtracted.  Needs valgrind and
# seatmgr installed (make install); run as root or as postgres.
#   usage: bench/outbox_instructions.sh     (about 4 minutes)
set -euo pipefail
PGBIN=${PGBIN:-$(pg_config --bindir)}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/seatmgr_cg.XXXXXX)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres: "$work"
trap 'as_pg "$PGBIN/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
as_pg "$PGBIN/initdb" -D "$work/data" -A trust -U postgres >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$work/data" -o "-k $work -c listen_addresses= -c port=5897" -l "$work/log" -w start >/dev/null
as_pg "$PGBIN/psql" -X -q -h "$work" -p 5897 -d postgres -v ON_ERROR_STOP=1 <<'SQL'
CREATE DATABASE cg;
\c cg
CREATE EXTENSION seatmgr;
INSERT INTO seatmgr.domains (name) VALUES ('acme.com');
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Eng');
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'E');
INSERT INTO seatmgr.users (domain_id, email) SELECT 1, 'u' || i || '@acme.com' FROM generate_series(1, 10000) i;
INSERT INTO seatmgr.webhooks (url) VALUES ('http://127.0.0.1:9/');
SQL
# the floor's rows (bench/deliveries_by_hand.sql) and an empty copy of the table with its indexes
as_pg "$PGBIN/psql" -X -q -h "$work" -p 5897 -d cg -v ON_ERROR_STOP=1 \
    -c "CREATE TABLE public.floor_src AS $(cat "$here/deliveries_by_hand.sql")"
as_pg "$PGBIN/psql" -X -q -h "$work" -p 5897 -d cg -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE public.floor_dst (LIKE seatmgr.deliveries INCLUDING ALL);
VACUUM ANALYZE;
SQL
as_pg "$PGBIN/pg_ctl" -D "$work/data" -w stop >/dev/null
invite="INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 1, user_id FROM seatmgr.users"
printf 'SELECT 1\n' > "$work/start.sql"
printf 'UPDATE seatmgr.webhooks SET enabled = false\nBEGIN\n%s\nROLLBACK\n' "$invite" > "$work/invite_none.sql"
printf 'BEGIN\n%s\nROLLBACK\n' "$invite" > "$work/invite_one.sql"
printf 'UPDATE seatmgr.webhooks SET enabled = false\nBEGIN\n%s\n%s\nROLLBACK\n' "$invite" \
    "INSERT INTO public.floor_dst (domain_id, webhook_id, message_id, event_type, payload, status, attempts, next_attempt_at, created_at) SELECT * FROM public.floor_src" \
    > "$work/rows_by_hand.sql"
{ echo 'UPDATE seatmgr.webhooks SET enabled = false'; for i in $(seq 1 300); do echo "INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, $i)"; done; } > "$work/single_none.sql"
for i in $(seq 1 300); do echo "INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, $i)"; done > "$work/single_one.sql"
[ "$(id -u)" = 0 ] && chown -R postgres: "$work"
# instructions CASE: a single-user session of CASE.sql on a fresh copy of the cluster
instructions() {
    rm -rf "$work/copy"
    as_pg cp -a "$work/data" "$work/copy"
    as_pg valgrind --tool=callgrind --callgrind-out-file="$work/$1.cg" \
        "$PGBIN/postgres" --single -D "$work/copy" cg < "$work/$1.sql" > "$work/$1.log" 2>&1
    if grep -q ERROR "$work/$1.log"; then grep ERROR "$work/$1.log" >&2; exit 1; fi
    callgrind_annotate "$work/$1.cg" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,
}
start=$(instructions start)
declare -A m
for c in invite_none invite_one rows_by_hand single_none single_one; do
    m[$c]=$(( $(instructions $c) - start ))
done
awk -v s="$start" -v n="${m[invite_none]}" -v o="${m[invite_one]}" -v r="${m[rows_by_hand]}" \
    -v sn="${m[single_none]}" -v so="${m[single_one]}" 'BEGIN {
    printf "instructions (callgrind, M; the session start, %d M, subtracted)\n", s / 1e6
    printf "  10,000 team invites, no enabled webhook        %8d M  1.00\n", n / 1e6
    printf "  the same, one enabled webhook                  %8d M  %.3f  (%d k a delivery)\n", o / 1e6, o / n, (o - n) / 1e4 / 1e3
    printf "  no webhook, the same rows written by hand      %8d M  %.3f  (the floor of any outbox of this table)\n", r / 1e6, r / n
    printf "  300 single invites, no enabled webhook         %8d M  1.00\n", sn / 1e6
    printf "  the same, one enabled webhook                  %8d M  %.3f  (%d k a delivery)\n", so / 1e6, so / sn, (so - sn) / 300 / 1e3
}'
