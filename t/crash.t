#!/usr/bin/env bash
# R12 after a crash: a backend killed (SIGKILL) in the middle of a scheduled
# run leaves no partial changes, and after the restart the run is 'failed'.
source "$(dirname "$0")/tap.sh"
echo "1..6"
db=seatmgr_crash_test
q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" 2>/dev/null
q -d $db -c "CREATE EXTENSION seatmgr"
q -d $db <<'SQL'
INSERT INTO seatmgr.domains (name) VALUES ('acme.com');
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Eng');
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'T');
INSERT INTO seatmgr.users (domain_id, email, last_active_at)
SELECT 1, 'u' || i || '@acme.com', now() - interval '1 year' FROM generate_series(1, 50) i;
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) SELECT 1, user_id, '2024-01-01' FROM seatmgr.users;
INSERT INTO seatmgr.policies (division_id, enabled, revoke_inactive_after, next_run_at)
VALUES (1, true, '30 days', now() - interval '1 minute');
-- the run hangs in the middle of applying its changes
CREATE FUNCTION public.slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(120); RETURN NEW; END $$;
CREATE TRIGGER slow BEFORE INSERT ON seatmgr.license_events FOR EACH ROW EXECUTE FUNCTION public.slow();
SQL
before=$(q -d $db -c "SELECT string_agg(user_id || status, ',' ORDER BY user_id) FROM seatmgr.licenses")

psql -X -q -d $db -c "CALL seatmgr_sweep()" >/dev/null 2>&1 &
ok 'wait_for 30 "[ \"\$(q -d $db -c \"SELECT status FROM seatmgr.runs\")\" = in_progress ]"' \
   "the scheduled run shows in_progress to other sessions while it runs"
pid=$(q -d $db -c "SELECT pid FROM pg_stat_activity WHERE query LIKE 'CALL seatmgr_sweep()%' AND pid <> pg_backend_pid()")
ok '[ "$(q -d $db -c "SELECT concat_ws('"'"' '"'"', datname, trigger, preview, phase, changes_total, changes_done) FROM seatmgr.progress WHERE pid = $pid")" = "$db scheduled f applying changes 50 0" ]' \
   "seatmgr.progress shows it applying its first chunk: 0 of 50 changes done ($pid)"
kill -9 "$pid"
wait 2>/dev/null
# the postmaster restarts every backend; wait for it to accept connections again
wait_for 60 'q -d $db -c "SELECT 1" >/dev/null 2>&1'
# the launcher worker marks the interrupted run failed at start-up
wait_for 30 '[ "$(q -d $db -c "SELECT status FROM seatmgr.runs")" = failed ]'
ok '[ "$(q -d $db -c "SELECT status FROM seatmgr.runs")" = failed ]' "after the restart the run is failed (launcher at start-up)"
ok '[[ "$(q -d $db -c "SELECT error FROM seatmgr.runs")" == "run interrupted"* ]]' "its error says why"
ok '[ "$(q -d $db -c "SELECT string_agg(user_id || status, '"'"','"'"' ORDER BY user_id) FROM seatmgr.licenses")" = "$before" ]' \
   "no licence changed"
ok '[ "$(q -d $db -c "SELECT (SELECT count(*) FROM seatmgr.run_changes) + (SELECT count(*) FROM seatmgr.license_events WHERE run_id IS NOT NULL)")" = 0 ]' \
   "no run_changes and no license_events of the interrupted run"
q -d postgres -c "DROP DATABASE $db" 2>/dev/null
exit $tap_failed
