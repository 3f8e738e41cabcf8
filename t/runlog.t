#!/usr/bin/env bash
# Run logs (issue 12): every real run, manual, scheduled or undo, writes a
# line to the server log when it starts and one when it ends, at the level
# of seatmgr.log_run_summary (default log), naming the run, the division,
# its domain and the database, never a user; a preview writes none; a
# failed run says so with its error.  Reads the log of the cluster of
# scripts/test.sh ($PGHOST/log).
source "$(dirname "$0")/tap.sh"
echo "1..12"
db=seatmgr_runlog_test
log=$PGHOST/log
q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" 2>/dev/null
q -d $db -c "CREATE EXTENSION seatmgr"
q -d $db <<'SQL'
INSERT INTO seatmgr.domains (name) VALUES ('acme.com');
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Eng');
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'T');
INSERT INTO seatmgr.users (domain_id, email, last_active_at, is_admin) VALUES
  (1, 'idle@acme.com', now() - interval '1 year', false), (1, 'boss@acme.com', now() - interval '1 year', true);
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (1, 1, '2024-01-01'), (1, 2, '2024-01-01');
UPDATE seatmgr.licenses SET granted_at = '2024-01-01';
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after) VALUES (1, '30 days');
SQL

mark() { wc -c < "$log"; }
# the seatmgr run lines the server logged since mark $1
since() { tail -c +$(($1 + 1)) "$log" | grep 'seatmgr: run ' || true; }
run1='seatmgr: run 1 of division 1 ("Eng", domain acme.com) in database "'$db'"'

m=$(mark)
q -d $db -c "SELECT count(*) FROM seatmgr_run(1, preview => true)" >/dev/null
ok '[ -z "$(since $m)" ]' "a preview logs nothing"

m=$(mark)
q -d $db -c "SELECT count(*) FROM seatmgr_run(1)" >/dev/null 2>&1
lines=$(since $m)
ok '[[ $lines == *"LOG:  $run1 started (manual)"* ]]' "a manual run logs its start, with its division, domain and database"
ok '[[ $(printf "%s\n" "$lines" | grep succeeded) =~ "LOG:  $run1 succeeded in "[0-9]+" ms: 1 deactivated, 0 added, 0 warned, 1 skipped"$ ]]' \
   "... and its summary: duration and counts by action"
ok '[ "$(printf "%s\n" "$lines" | wc -l)" = 2 ] && [[ $lines != *@* ]]' "two lines a run, and no e-mail in them"

m=$(mark)
q -d $db -c "SELECT count(*) FROM seatmgr_undo_run(1)" >/dev/null 2>&1
lines=$(since $m)
ok '[[ $lines == *"LOG:  seatmgr: run 2 of division 1 (\"Eng\", domain acme.com) in database \"$db\" started (undo of run 1)"* ]] && [[ $lines =~ "run 2 ".*" succeeded in "[0-9]+" ms: 0 deactivated, 1 added, 0 warned, 0 skipped" ]]' \
   "an undo logs its start (naming the run it undoes) and its summary"

m=$(mark)
q -d $db -c "UPDATE seatmgr.policies SET enabled = true, next_run_at = now() - interval '1 minute'" -c "CALL seatmgr_sweep()" >/dev/null 2>&1
lines=$(since $m)
# the undo restarted idle's clock (R16): only the admin is reported
ok '[[ $lines == *"seatmgr: run 3 of division 1 (\"Eng\", domain acme.com) in database \"$db\" started (scheduled)"* ]] && [[ $lines =~ "run 3 ".*" succeeded in "[0-9]+" ms: 0 deactivated, 0 added, 0 warned, 1 skipped" ]]' \
   "a scheduled run logs its start and its summary"

# seatmgr.log_run_summary: off writes nothing; notice shows the lines to the client too
m=$(mark)
PGOPTIONS="-c seatmgr.log_run_summary=off" q -d $db -c "SELECT count(*) FROM seatmgr_run(1)" >/dev/null 2>&1
ok '[ -z "$(since $m)" ]' "seatmgr.log_run_summary = off: a run logs nothing"
out=$(PGOPTIONS="-c seatmgr.log_run_summary=notice" q -d $db -c "SELECT count(*) FROM seatmgr_run(1)" 2>&1)
ok '[[ $out == *"NOTICE:  seatmgr: run 5 of division 1 (\"Eng\", domain acme.com) in database \"$db\" started (manual)"* ]]' \
   "seatmgr.log_run_summary = notice: the client sees the lines too"
ok '[[ $out == *"NOTICE:  run 5 of division 1 (\"Eng\", domain acme.com) succeeded: 0 deactivated, 0 added, 0 warned, 1 skipped"* ]]' \
   "a manual run ends with a NOTICE of its counts"
ok '[ "$(q -d postgres -c "SELECT context FROM pg_settings WHERE name = '"'"'seatmgr.log_run_summary'"'"'")" = superuser ]' \
   "only a superuser changes seatmgr.log_run_summary"

# a run that fails: another session holds the division as a run would
hold() { q -d $db -c "BEGIN" -c "SELECT 1 FROM seatmgr.divisions WHERE division_id = 1 FOR NO KEY UPDATE" -c "SELECT pg_sleep(3)" -c "COMMIT" >/dev/null & }
hold; sleep 1
m=$(mark)
PGOPTIONS="-c lock_timeout=200" q -d $db -c "SELECT count(*) FROM seatmgr_run(1)" >/dev/null 2>&1
lines=$(since $m)
wait
ok '[[ $lines =~ "LOG:  seatmgr: run 6 of division 1 (\"Eng\", domain acme.com) in database \"$db\" failed in "[0-9]+" ms: canceling statement due to lock timeout" ]]' \
   "a manual run that fails logs the error"
hold; sleep 1
m=$(mark)
PGOPTIONS="-c lock_timeout=200" q -d $db -c "UPDATE seatmgr.policies SET next_run_at = now() - interval '1 minute'" -c "CALL seatmgr_sweep()" >/dev/null 2>&1
lines=$(since $m)
wait
ok '[[ $lines =~ "WARNING:  seatmgr: run 7 of division 1 (\"Eng\", domain acme.com) in database \"$db\" failed in "[0-9]+" ms: canceling statement due to lock timeout" ]]' \
   "a scheduled run that fails: a warning with the error (R12)"

q -d postgres -c "DROP DATABASE $db" 2>/dev/null
exit $tap_failed
