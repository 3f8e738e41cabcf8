#!/usr/bin/env bash
# R17-R19 end to end: the delivery worker sends every event type to a real
# receiver on 127.0.0.1 that verifies each request with the standardwebhooks
# package from npm (t/webhook/receiver.js); a rolled-back change sends
# nothing; a receiver answering 500, timing out, refusing connections or
# answering garbage gets retries with growing gaps and finally `failed`;
# seatmgr_redeliver sends the same webhook-id again; filters hold; CALL
# seatmgr_deliver() delivers in the calling session; README's receiver works;
# seatmgr.database_names decides which databases the worker serves.
source "$(dirname "$0")/tap.sh"
source "$(dirname "$0")/webhook/common.sh"
echo "1..28"
db=seatmgr_webhooks_test
dir=$(mktemp -d); chmod 755 "$dir"
secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
echo "$secret" > "$dir/secrets"; touch "$dir/log"
start_receiver $HOOKPORT "$dir"
trap 'kill $receiver_pid ${example_pid:-} 2>/dev/null; hook_settings_reset; rm -rf "$dir"' EXIT
# quick retries for the test: 1 s, then 2, 4; 4 attempts; 1 s to answer
hook_settings 1s 4 1s

q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" 2>/dev/null
q -d $db -c "CREATE EXTENSION seatmgr"
q -d $db <<SQL
INSERT INTO seatmgr.domains (name) VALUES ('acme.com'), ('other.com');
INSERT INTO seatmgr.divisions (domain_id, name, seat_limit) VALUES (1, 'Eng', 2), (2, 'Theirs', NULL);
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'E'), (1, 1, 'E2'), (2, 2, 'T');
INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES
  (1, 'ann@acme.com', now() - interval '1 year'), (1, 'bob@acme.com', now()), (1, 'cat@acme.com', now()),
  (2, 'zed@other.com', now()), (1, 'rolledback@acme.com', now());
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after) VALUES (1, '30 days');
INSERT INTO seatmgr.webhooks (domain_id, url, secret, event_types) VALUES
  (NULL, 'http://127.0.0.1:$HOOKPORT/ok/all', '$secret', NULL),
  (1, 'http://127.0.0.1:$HOOKPORT/ok/acme-granted', '$secret', '{license.granted}'),
  (2, 'http://127.0.0.1:$HOOKPORT/ok/other', '$secret', NULL);
SQL
# every event type: granted, waitlisted, deactivated (a run), run.finished, reactivated, removed, warned
q -d $db >/dev/null <<'SQL'
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (1, 1, '2024-01-01'), (1, 2, now());
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 3);
SELECT count(*) FROM seatmgr_run(1);
DELETE FROM seatmgr.team_members WHERE user_id = 2;
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (2, 1);
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (3, 4);
-- warned (R14): an idle licence of other.com under a policy with a notice period
INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES (2, 'old@other.com', now() - interval '1 year');
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
  SELECT 3, user_id, '2024-01-01' FROM seatmgr.users WHERE email = 'old@other.com';
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after, notice_period) VALUES (2, '30 days', '7 days');
SELECT count(*) FROM seatmgr_run(2);
SQL
# a change rolled back
q -d $db -c "BEGIN" -c "INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (2, 5)" -c "ROLLBACK"
q -d $db -c "SELECT count(*) FROM seatmgr.deliveries" >/dev/null

all_sent() { [ "$(q -d $db -c "SELECT count(*) FROM seatmgr.deliveries WHERE status = 'pending'")" = 0 ]; }
ok 'wait_for 30 all_sent' "R19: the worker delivers every pending delivery (no CALL)"
received $db
ok '[ "$(q -d $db -c "SELECT count(*) FROM seatmgr.deliveries WHERE status <> '"'delivered'"'")" = 0 ]' \
   "R18: a 2xx answer marks every delivery delivered"
ok '[ "$(q -d $db -c "SELECT count(*) FROM recv WHERE NOT (line->>'"'verified'"')::boolean")" = 0 ]' \
   "R18: standardwebhooks verifies the signature of every request ($(q -d $db -c 'SELECT count(*) FROM recv') requests)"
ok '[ "$(q -d $db -c "SELECT string_agg(DISTINCT ((line->>'"'body'"')::jsonb->>'"'type'"'), '"','"' ORDER BY ((line->>'"'body'"')::jsonb->>'"'type'"')) FROM recv WHERE line->>'"'path'"' = '"'/ok/all'"'")" = \
      "license.deactivated,license.granted,license.reactivated,license.removed,license.waitlisted,license.warned,run.finished" ]' \
   "R17: every event type arrives"
ok '[ "$(q -d $db -c "SELECT count(*) FROM recv r JOIN seatmgr.notices n ON n.notice_id = ((r.line->>'"'body'"')::jsonb->'"'data'"'->>'"'notice_id'"')::bigint AND n.deadline = ((r.line->>'"'body'"')::jsonb->'"'data'"'->>'"'deadline'"')::timestamptz WHERE (r.line->>'"'body'"')::jsonb->>'"'type'"' = '"'license.warned'"'")" = 2 ]' \
   "R17: license.warned arrives with its notice's id and deadline (at both matching webhooks)"
ok '[ "$(q -d $db -c "SELECT count(*) FROM seatmgr.deliveries d WHERE NOT EXISTS (SELECT 1 FROM recv r WHERE r.line->>'"'id'"' = d.message_id AND (r.line->>'"'body'"')::jsonb = d.payload AND r.line->>'"'contentType'"' = '"'application/json'"' AND r.line->>'"'method'"' = '"'POST'"')")" = 0 ]' \
   "R18: each delivery is a POST of its documented payload, content-type application/json, webhook-id = message_id"
ok '[ "$(q -d $db -c "SELECT count(*) FROM recv r WHERE abs((r.line->>'"'timestamp'"')::bigint - (r.line->>'"'at'"')::bigint / 1000) > 5")" = 0 ]' \
   "R18: webhook-timestamp is the Unix time of the request"
ok '[ "$(q -d $db -c "SELECT count(*) FROM seatmgr.license_events")" = "$(q -d $db -c "SELECT count(*) FROM recv WHERE line->>'"'path'"' = '"'/ok/all'"' AND (line->>'"'body'"')::jsonb->>'"'type'"' LIKE '"'license.%'"'")" ]' \
   "R17: the webhook of every domain gets one request per license event"
ok '[ "$(q -d $db -c "SELECT string_agg(DISTINCT (line->>'"'body'"')::jsonb->>'"'type'"' || '"'/'"' || ((line->>'"'body'"')::jsonb->'"'data'"'->>'"'domain'"'), '"','"') FROM recv WHERE line->>'"'path'"' = '"'/ok/acme-granted'"'")" = "license.granted/acme.com" ]' \
   "R17: the event-type filter holds (acme's granted-only webhook got only grants of acme)"
ok '[ "$(q -d $db -c "SELECT string_agg(DISTINCT (line->>'"'body'"')::jsonb->'"'data'"'->>'"'domain'"', '"','"') FROM recv WHERE line->>'"'path'"' = '"'/ok/other'"'")" = "other.com" ]' \
   "R17: the domain filter holds (other.com's webhook got only other.com's events)"
ok '[ "$(q -d $db -c "SELECT count(*) FROM recv WHERE line->>'"'body'"' LIKE '"'%rolledback@acme.com%'"'")" = 0 ]' \
   "R17: a rolled-back change sends nothing"

# failures: 500, a timeout, a refused connection, garbage, a redirect to file:
q -d $db >/dev/null <<SQL
UPDATE seatmgr.webhooks SET enabled = false;
INSERT INTO seatmgr.webhooks (domain_id, url, secret, event_types) VALUES
  (2, 'http://127.0.0.1:$HOOKPORT/fail', '$secret', '{license.granted}'),
  (2, 'http://127.0.0.1:$HOOKPORT/slow', '$secret', '{license.granted}'),
  (2, 'http://127.0.0.1:$((HOOKPORT + 2))/refused', '$secret', '{license.granted}'),
  (2, 'http://127.0.0.1:$HOOKPORT/garbage', '$secret', '{license.granted}'),
  (2, 'http://127.0.0.1:$HOOKPORT/redirect', '$secret', '{license.granted}');
INSERT INTO seatmgr.users (domain_id, email) VALUES (2, 'failing@other.com');
INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 3, user_id FROM seatmgr.users WHERE email = 'failing@other.com';
SQL
failed_all() { [ "$(q -d $db -c "SELECT count(*) FROM seatmgr.deliveries WHERE webhook_id > 3 AND status = 'failed' AND attempts = 4")" = 5 ]; }
ok 'wait_for 40 failed_all' "R18: 500, timeout, refused connection, garbage and a redirect each end failed after the last of 4 attempts"
received $db
gaps() {   # the gaps (ms) between the requests of one path, in order
    q -d $db -c "SELECT string_agg(gap::text, ' ' ORDER BY at) FROM (SELECT (line->>'at')::bigint AS at,
                 (line->>'at')::bigint - lag((line->>'at')::bigint) OVER (ORDER BY (line->>'at')::bigint) AS gap
                 FROM recv WHERE line->>'path' = '$1') g WHERE gap IS NOT NULL"
}
growing() {   # each gap at least 1.4 times the one before (the back-off doubles; each gap also holds the batch's 1 s timeout)
    local prev=0 g
    [ "$(echo $1 | wc -w)" = 3 ] || return 1
    for g in $1; do [ "$prev" = 0 ] || [ "$g" -ge $((prev * 14 / 10)) ] || return 1; prev=$g; done
}
g500=$(gaps /fail); gslow=$(gaps /slow); ggarbage=$(gaps /garbage)
ok 'growing "$g500"' "R18: a receiver answering 500 gets 4 attempts with growing gaps ($g500 ms)"
ok 'growing "$gslow"' "R18: a receiver that times out gets 4 attempts with growing gaps ($gslow ms)"
ok 'growing "$ggarbage"' "R18: a receiver answering garbage gets 4 attempts with growing gaps ($ggarbage ms)"
ok '[ "$(q -d $db -c "SELECT count(DISTINCT line->>'"'id'"') FROM recv WHERE line->>'"'path'"' IN ('"'/fail'"', '"'/slow'"', '"'/garbage'"')")" = 3 ]' \
   "R18: every retry carries the same webhook-id"
ok '[ "$(q -d $db -c "SELECT last_status || '"' '"' || last_error FROM seatmgr.deliveries d JOIN seatmgr.webhooks w USING (webhook_id) WHERE w.url LIKE '"'%/fail'"'")" = "500 HTTP status 500" ]' \
   "R18: the last status and error are stored (500)"
ok '[[ "$(q -d $db -c "SELECT last_error FROM seatmgr.deliveries d JOIN seatmgr.webhooks w USING (webhook_id) WHERE w.url LIKE '"'%/refused'"'")" == *"connect"* ]]' \
   "R18: a refused connection is stored as the error"
ok '[ "$(q -d $db -c "SELECT last_status FROM seatmgr.deliveries d JOIN seatmgr.webhooks w USING (webhook_id) WHERE w.url LIKE '"'%/redirect'"'")" = 302 ] &&
    [ "$(q -d $db -c "SELECT count(*) FROM recv WHERE line->>'"'path'"' = '"'/redirect'"'")" = 4 ]' \
   "R18: a redirect (to file:) is not followed: a failed attempt"

# seatmgr_redeliver sends the same webhook-id again
q -d $db -c "UPDATE seatmgr.webhooks SET enabled = (url LIKE '%/ok/%')" >/dev/null
id=$(q -d $db -c "SELECT min(delivery_id) FROM seatmgr.deliveries d JOIN seatmgr.webhooks w USING (webhook_id) WHERE w.url LIKE '%/ok/all'")
msg=$(q -d $db -c "SELECT message_id FROM seatmgr.deliveries WHERE delivery_id = $id")
q -d $db -c "SELECT seatmgr_redeliver($id)" >/dev/null
ok 'wait_for 20 "[ \"\$(q -d $db -c \"SELECT status FROM seatmgr.deliveries WHERE delivery_id = $id\")\" = delivered ]"' \
   "R18: a redelivered delivery is delivered again"
received $db
ok '[ "$(q -d $db -c "SELECT count(*) FROM recv WHERE line->>'"'id'"' = '"'$msg'"' AND (line->>'"'verified'"')::boolean")" = 2 ]' \
   "R18: seatmgr_redeliver sent the same webhook-id again, signed"

# CALL seatmgr_deliver(): in the calling transaction, invisible to the worker
out=$(q -d $db -c "BEGIN" -c "INSERT INTO seatmgr.users (domain_id, email) VALUES (2, 'called@other.com')" \
        -c "INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 3, user_id FROM seatmgr.users WHERE email = 'called@other.com'" \
        -c "CALL seatmgr_deliver()" \
        -c "SELECT string_agg(status, ',') FROM seatmgr.deliveries WHERE payload->'data'->>'email' = 'called@other.com'" -c "COMMIT")
ok '[ "$out" = "delivered,delivered" ]' "R19: CALL seatmgr_deliver() delivers in the calling session ($out)"
received $db
ok '[ "$(q -d $db -c "SELECT count(*) FROM recv WHERE line->>'"'body'"' LIKE '"'%called@other.com%'"' AND (line->>'"'verified'"')::boolean")" = 2 ]' \
   "R19: ... once each, signed"

# README's receiver (t/webhook/example.js) verifies a delivery
(cd "$HOOKDIR" && WEBHOOK_SECRET=$secret PORT=$((HOOKPORT + 1)) exec node example.js >"$dir/example.out" 2>&1) &
example_pid=$!
sleep 1
q -d $db >/dev/null <<SQL
UPDATE seatmgr.webhooks SET enabled = false;
INSERT INTO seatmgr.webhooks (domain_id, url, secret) VALUES (2, 'http://127.0.0.1:$((HOOKPORT + 1))/', '$secret');
INSERT INTO seatmgr.users (domain_id, email) VALUES (2, 'yan@other.com');
INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 3, user_id FROM seatmgr.users WHERE email = 'yan@other.com';
SQL
ok 'wait_for 20 "grep -q \"license.granted yan@other.com\" $dir/example.out"' "README's receiver (t/webhook/example.js) verifies a delivery and logs it"
ok '[ "$(q -d $db -c "SELECT status FROM seatmgr.deliveries d JOIN seatmgr.webhooks w USING (webhook_id) WHERE w.url LIKE '"'%:$((HOOKPORT + 1))/'"'")" = delivered ]' \
   "README's receiver answered 204 to a valid signature"
# seatmgr.database_names: a reload that leaves this database out stops its
# worker (deliveries wait, pending); naming it again delivers them
workers() { q -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'seatmgr delivery' AND datname = '$db'"; }
q -d postgres -c "ALTER SYSTEM SET seatmgr.database_names = 'postgres'" -c "SELECT pg_reload_conf()" >/dev/null
ok 'wait_for 20 "[ \"\$(workers)\" = 0 ]"' "R19: a reload of seatmgr.database_names without this database stops its delivery worker"
q -d $db >/dev/null <<SQL
INSERT INTO seatmgr.users (domain_id, email) VALUES (2, 'held@other.com');
INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 3, user_id FROM seatmgr.users WHERE email = 'held@other.com';
SQL
sleep 3
ok '[ "$(q -d $db -c "SELECT string_agg(status, '"','"') FROM seatmgr.deliveries WHERE payload->'"'data'"'->>'"'email'"' = '"'held@other.com'"'")" = pending ] && [ "$(workers)" = 0 ]' \
   "R19: ... and its deliveries wait, pending, with no worker started for them"
q -d postgres -c "ALTER SYSTEM RESET seatmgr.database_names" -c "SELECT pg_reload_conf()" >/dev/null
q -d $db -c "INSERT INTO seatmgr.users (domain_id, email) VALUES (2, 'wakes@other.com')" >/dev/null
q -d $db -c "INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 3, user_id FROM seatmgr.users WHERE email = 'wakes@other.com'" >/dev/null
ok 'wait_for 20 "[ \"\$(q -d $db -c \"SELECT string_agg(status, '"','"' ORDER BY delivery_id) FROM seatmgr.deliveries WHERE payload->'"'data'"'->>'"'email'"' IN ('"'held@other.com'"', '"'wakes@other.com'"')\")\" = delivered,delivered ]"' \
   "R19: named again, the next commit starts a worker that delivers the ones that waited too"
[ "$tap_failed" = 0 ] && q -d postgres -c "DROP DATABASE $db WITH (FORCE)" 2>/dev/null
exit $tap_failed
