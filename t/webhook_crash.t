#!/usr/bin/env bash
# R17 across crashes: kill -9 of a backend during a burst of commits, and of
# the delivery worker in the middle of a batch; afterwards every committed
# license event has been delivered (counted by webhook-id at a receiver that
# verifies each request with standardwebhooks), and nothing of a rolled-back
# transaction was sent.
source "$(dirname "$0")/tap.sh"
source "$(dirname "$0")/webhook/common.sh"
echo "1..8"
db=seatmgr_webhook_crash
dir=$(mktemp -d); chmod 755 "$dir"
secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
echo "$secret" > "$dir/secrets"; touch "$dir/log"
port=$((HOOKPORT + 3))
start_receiver $port "$dir"
trap 'kill $receiver_pid 2>/dev/null; rm -rf "$dir"' EXIT

q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" 2>/dev/null
q -d $db -c "CREATE EXTENSION seatmgr"
q -d $db <<SQL
INSERT INTO seatmgr.domains (name) VALUES ('acme.com');
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Eng');
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'E');
-- each request takes 0.3 s: the worker is always in the middle of a batch
INSERT INTO seatmgr.webhooks (url, secret) VALUES ('http://127.0.0.1:$port/slowish', '$secret');
SQL
# a burst: 400 transactions (about 10 s), each inviting one new user; every 4th rolled back
burst=$dir/burst.sql
for i in $(seq 1 400); do
    if [ $((i % 4)) = 0 ]; then end=ROLLBACK; who=rb$i; else end=COMMIT; who=u$i; fi
    echo "BEGIN; SELECT pg_sleep(0.02); INSERT INTO seatmgr.users (domain_id, email) VALUES (1, '$who@acme.com');
INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 1, user_id FROM seatmgr.users WHERE email = '$who@acme.com'; $end;"
done > "$burst"
PGAPPNAME=seatmgr_burst psql -X -q -d $db -v ON_ERROR_STOP=0 -f "$burst" >/dev/null 2>&1 &
burst_pid=$!
ok 'wait_for 30 "[ \$(q -d $db -c \"SELECT count(*) FROM seatmgr.users\") -ge 60 ]"' "a burst of commits is running"
pid=$(q -d $db -c "SELECT pid FROM pg_stat_activity WHERE datname = '$db' AND application_name = 'seatmgr_burst'")
kill -9 "$pid"
wait $burst_pid 2>/dev/null
wait_for 60 'q -d $db -c "SELECT 1" >/dev/null 2>&1'
ok '[ -n "$pid" ]' "a backend of the burst was killed with SIGKILL ($pid); the server restarted"

# the worker restarts with the server; 300 more invites in one statement keep
# it busy (32 requests at a time, 0.3 s each), and it is killed mid-batch
worker() { q -d $db -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'seatmgr delivery' AND datname = '$db'"; }
ok 'wait_for 30 "[ -n \"\$(worker)\" ]"' "the delivery worker runs again after the restart"
q -d $db -c "INSERT INTO seatmgr.users (domain_id, email) SELECT 1, 'bulk' || i || '@acme.com' FROM generate_series(1, 300) i" \
      -c "INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 1, user_id FROM seatmgr.users WHERE email LIKE 'bulk%'"
n0=$(wc -l < "$dir/log")
wait_for 30 '[ $(wc -l < "$dir/log") -gt $((n0 + 40)) ]'
wpid=$(worker)
pending=$(q -d $db -c "SELECT count(*) FROM seatmgr.deliveries WHERE status = 'pending'")
kill -9 "$wpid"
ok '[ -n "$wpid" ] && [ "$pending" -gt 0 ]' "the delivery worker ($wpid) was killed with SIGKILL in the middle of its work ($pending deliveries pending)"
wait_for 60 'q -d $db -c "SELECT 1" >/dev/null 2>&1'

done_all() { [ "$(q -d $db -c "SELECT count(*) FROM seatmgr.deliveries WHERE status <> 'delivered'")" = 0 ]; }
ok 'wait_for 120 done_all' "after both crashes every delivery is delivered"
received $db
committed=$(q -d $db -c "SELECT count(*) FROM seatmgr.license_events")
ok '[ "$(q -d $db -c "SELECT count(*) FROM seatmgr.license_events e WHERE NOT EXISTS (SELECT 1 FROM seatmgr.deliveries d JOIN recv r ON r.line->>'"'id'"' = d.message_id WHERE (d.payload->'"'data'"'->>'"'event_id'"')::bigint = e.event_id AND (r.line->>'"'verified'"')::boolean)")" = 0 ]' \
   "every committed event ($committed) reached the receiver, signed (counted by webhook-id)"
ok '[ "$(q -d $db -c "SELECT count(*) FROM recv r WHERE NOT EXISTS (SELECT 1 FROM seatmgr.deliveries d WHERE d.message_id = r.line->>'"'id'"')")" = 0 ]' \
   "no request carried a webhook-id that is not a committed delivery"
ok '[ "$(q -d $db -c "SELECT count(*) FROM recv WHERE line->>'"'body'"' ~ '"'\"rb[0-9]+@acme.com\"'"'")" = 0 ]' \
   "nothing of a rolled-back transaction was sent"
diag "requests: $(q -d $db -c 'SELECT count(*) FROM recv'), distinct webhook-ids: $(q -d $db -c "SELECT count(DISTINCT line->>'id') FROM recv"), deliveries: $(q -d $db -c 'SELECT count(*) FROM seatmgr.deliveries')"
q -d postgres -c "DROP DATABASE $db WITH (FORCE)" 2>/dev/null
exit $tap_failed
