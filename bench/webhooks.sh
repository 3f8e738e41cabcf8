#!/usr/bin/env bash
# What webhooks cost (issue 11), on a running cluster (PGHOST/PGPORT set, as
# user postgres, seatmgr preloaded):
#  1. a bulk invite of 10,000 users into a paid team, in one statement, with
#     the outbox trigger disabled (the floor), with no enabled webhook (the
#     trigger finds none), and with one enabled webhook (10,000 deliveries
#     written in the same transaction), and with no enabled webhook followed
#     by the same 10,000 rows written by hand in plain SQL into a copy of
#     seatmgr.deliveries (the floor of any outbox of that table); each rolled
#     back, autovacuum off, the four interleaved, medians of 5 rounds;
#  2. the delivery worker's throughput: 10,000 deliveries committed at once
#     to a local receiver answering 204 (a bare Node server, no verifying),
#     timed from the commit to the last one delivered;
#  3. N single-invite transactions from pgbench -c 4 with no enabled webhook,
#     with one (the worker sending meanwhile on the same 2 cores) and with
#     one while seatmgr.database_names keeps the worker off the database
#     (what the invite's transaction itself pays), interleaved, medians of 3.
#   usage: bench/webhooks.sh [invites]    (default 10000; receiver port SEATMGR_HOOK_PORT, 5630)
set -euo pipefail
N=${1:-10000}
here=$(cd "$(dirname "$0")" && pwd)
PORT=${SEATMGR_HOOK_PORT:-5630}
db=seatmgr_hook_bench
tmp=$(mktemp -d)   # the rounds' figures (several benches may share /tmp)
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $db "$@"; }

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
q -c "CREATE EXTENSION seatmgr"
q <<SQL
INSERT INTO seatmgr.domains (name) VALUES ('acme.com');
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Eng');
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'E');
INSERT INTO seatmgr.users (domain_id, email) SELECT 1, 'u' || i || '@acme.com' FROM generate_series(1, $N) i;
VACUUM ANALYZE;
SQL

# one bulk invite, rolled back; prints its milliseconds
invite_ms() {
    q -c "BEGIN" -c "\\timing on" \
      -c "INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 1, user_id FROM seatmgr.users" \
      -c "\\timing off" -c "ROLLBACK" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
}
# the floor of what the deliveries add, in plain SQL that never calls seatmgr:
# the same invite with no enabled webhook, then 10,000 rows of the shape of
# seatmgr.deliveries (its four indexes; bench/deliveries_by_hand.sql) written
# by hand into a copy of the table; prints the
# milliseconds of both statements
rows_ms() {
    q -c "BEGIN" -c "\\timing on" \
      -c "INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 1, user_id FROM seatmgr.users" \
      -c "INSERT INTO public.bench_deliveries (domain_id, webhook_id, message_id, event_type, payload, status, attempts, next_attempt_at, created_at)
          $(cat "$here/deliveries_by_hand.sql")" \
      -c "\\timing off" -c "ROLLBACK" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | awk '{s += $1} END {print s}'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run5() { for i in 1 2 3 4 5; do invite_ms; done | median; }

# autovacuum off: every round starts from the same tables and statistics
for t in licenses license_sources license_events team_members deliveries seat_counts; do
    q -c "ALTER TABLE seatmgr.$t SET (autovacuum_enabled = false)"
done
q -c "INSERT INTO seatmgr.webhooks (url, enabled) VALUES ('http://127.0.0.1:$PORT/', false)"
q -c "CREATE TABLE public.bench_deliveries (LIKE seatmgr.deliveries INCLUDING ALL)" \
  -c "ALTER TABLE public.bench_deliveries SET (autovacuum_enabled = false)"
# the three cases interleaved, 5 rounds, medians
setup_floor() { q -c "ALTER TABLE seatmgr.license_events DISABLE TRIGGER seatmgr_outbox"; }
setup_none()  { q -c "ALTER TABLE seatmgr.license_events ENABLE TRIGGER seatmgr_outbox" -c "UPDATE seatmgr.webhooks SET enabled = false"; }
setup_one()   { q -c "UPDATE seatmgr.webhooks SET enabled = true"; }
setup_rows()  { setup_none; }
invite_ms >/dev/null   # warm-up
: > $tmp/bench.txt
for r in 1 2 3 4 5; do
    for c in floor none one rows; do
        setup_$c
        if [ $c = rows ]; then echo "$c $(rows_ms)"; else echo "$c $(invite_ms)"; fi >> $tmp/bench.txt
    done
done
floor=$(awk '$1 == "floor" {print $2}' $tmp/bench.txt | median)
none=$(awk '$1 == "none" {print $2}' $tmp/bench.txt | median)
one=$(awk '$1 == "one" {print $2}' $tmp/bench.txt | median)
rows=$(awk '$1 == "rows" {print $2}' $tmp/bench.txt | median)
echo "bulk invite of $N users (medians of 5 interleaved rounds, ms): outbox trigger disabled $floor, no enabled webhook $none, one webhook $one; no webhook and the same rows written by hand $rows"
for c in floor none one rows; do echo "  $c, every round: $(awk -v c=$c '$1 == c {printf "%s ", $2}' $tmp/bench.txt)"; done
awk -v f="$floor" -v n="$none" -v o="$one" -v r="$rows" 'BEGIN { printf "  no enabled webhook: %+.1f%% over the floor; one webhook: %+.1f%% over the floor; the rows by hand (the floor of any outbox of this table): %+.1f%%\n", (n/f-1)*100, (o/f-1)*100, (r/f-1)*100 }'
setup_one

# the worker's throughput to a local receiver answering 204
node -e "require('http').createServer((q, s) => { q.resume(); q.on('end', () => s.writeHead(204).end()); })
          .listen($PORT, '127.0.0.1', () => console.log('up'))" > $tmp/bench_recv.out 2>&1 &
recv=$!
trap 'kill $recv 2>/dev/null; rm -rf "$tmp"' EXIT
sleep 1

# 3. single-invite transactions (the way an application invites): N
#    transactions from pgbench -c 4, each one INSERT of one membership, into a
#    fresh paid team per measurement; no enabled webhook against one enabled
#    webhook whose deliveries the worker sends to the receiver meanwhile (it
#    shares the 2 cores); interleaved, 3 rounds, medians of the tps
q -c "CREATE SEQUENCE IF NOT EXISTS public.bench_q"
printf '%s\n' "INSERT INTO seatmgr.team_members (team_id, user_id) SELECT :team, pg_catalog.nextval('public.bench_q')" \
    > $tmp/bench_one.sql
# hold WORKER: "off" keeps the delivery worker off this database
# (seatmgr.database_names names another one: the deliveries wait), "on" lets it serve
hold() {
    if [ "$1" = off ]; then
        psql -X -q -d postgres -c "ALTER SYSTEM SET seatmgr.database_names = 'postgres'" -c "SELECT pg_reload_conf()" >/dev/null
    else
        psql -X -q -d postgres -c "ALTER SYSTEM RESET seatmgr.database_names" -c "SELECT pg_reload_conf()" >/dev/null
    fi
    sleep 0.5
}
single_tps() {  # single_tps ENABLED: tps of N single invites into a new team
    local div team
    q -c "UPDATE seatmgr.webhooks SET enabled = $1"
    div=$(q -c "INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'pgbench ' || clock_timestamp()) RETURNING division_id")
    team=$(q -c "INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, $div, 'T') RETURNING team_id")
    q -c "ALTER SEQUENCE public.bench_q RESTART WITH 1"
    pgbench -n -c 4 -j 2 -t $((N / 4)) -D team=$team -f $tmp/bench_one.sql $db 2>&1 \
        | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
: > $tmp/bench_tps.txt
for r in 1 2 3; do
    echo "none $(single_tps false)" >> $tmp/bench_tps.txt
    echo "one $(single_tps true)" >> $tmp/bench_tps.txt
    hold off
    echo "held $(single_tps true)" >> $tmp/bench_tps.txt
    hold on
done
# the held rounds' deliveries wait for a commit that wakes a worker: a
# webhook enabled again does
q -c "UPDATE seatmgr.webhooks SET enabled = false" -c "UPDATE seatmgr.webhooks SET enabled = true"
until [ "$(q -c "SELECT count(*) FROM seatmgr.deliveries WHERE status = 'pending'")" = 0 ]; do sleep 0.1; done
tnone=$(awk '$1 == "none" {print $2}' $tmp/bench_tps.txt | median)
tone=$(awk '$1 == "one" {print $2}' $tmp/bench_tps.txt | median)
theld=$(awk '$1 == "held" {print $2}' $tmp/bench_tps.txt | median)
echo "$N single-invite transactions, pgbench -c 4 (medians of 3 interleaved rounds, tps): no enabled webhook $tnone, one webhook $tone (worker sending meanwhile), one webhook $theld (worker held off: what the transaction itself pays)"
for c in none one held; do echo "  $c, every round: $(awk -v c=$c '$1 == c {printf "%s ", $2}' $tmp/bench_tps.txt)"; done
awk -v n="$tnone" -v o="$tone" -v h="$theld" 'BEGIN { printf "  one webhook: %+.1f%% time per invite with the worker sending on the same cores, %+.1f%% in the transaction itself\n", (n/o-1)*100, (n/h-1)*100 }'
q -c "DELETE FROM seatmgr.deliveries"
start=$(date +%s.%N)
q -c "INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 1, user_id FROM seatmgr.users"
until [ "$(q -c "SELECT count(*) FROM seatmgr.deliveries WHERE status = 'pending'")" = 0 ]; do sleep 0.1; done
end=$(date +%s.%N)
q -c "SELECT count(*) FILTER (WHERE status = 'delivered') || ' delivered, ' || count(*) FILTER (WHERE status <> 'delivered') || ' not; '
        || round(extract(epoch FROM max(delivered_at) - min(created_at))::numeric, 2) || ' s from the commit to the last delivered, '
        || round(count(*) / extract(epoch FROM max(delivered_at) - min(created_at))::numeric) || ' deliveries/s (worker)'
        FROM seatmgr.deliveries"
awk -v s="$start" -v e="$end" -v n="$N" 'BEGIN { printf "  wall clock, commit included: %.2f s, %d deliveries/s\n", e - s, n / (e - s) }'
psql -X -q -d postgres -c "DROP DATABASE $db WITH (FORCE)"
