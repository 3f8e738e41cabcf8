#!/usr/bin/env bash
# R11 with a real pg_cron: the job seatmgr_schedule() creates runs
# seatmgr_sweep(), and a 'scheduled' run appears.  pg_cron 1.4's finest
# schedule is one minute, so this test waits up to two and a half.
source "$(dirname "$0")/tap.sh"
echo "1..8"
db=seatmgr_cron_test
q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" 2>/dev/null
q -d postgres -c "CREATE EXTENSION IF NOT EXISTS pg_cron"
q -d $db -c "CREATE EXTENSION seatmgr"
q -d $db <<'SQL'
INSERT INTO seatmgr.domains (name) VALUES ('acme.com');
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Eng');
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'T');
INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES (1, 'idle@acme.com', now() - interval '1 year');
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (1, 1, '2024-01-01');
INSERT INTO seatmgr.policies (division_id, enabled, revoke_inactive_after, next_run_at)
VALUES (1, true, '30 days', now() - interval '1 minute');
SQL

# where pg_cron is not installed, the error's hint is the call to run in the cron database
out=$(psql -X -d $db -c "SELECT seatmgr_schedule('* * * * *')" 2>&1)
hint=$(printf '%s\n' "$out" | sed -n 's/^HINT:  .*run: //p')
ok '[[ $out == *"ERROR:  pg_cron is not installed in database \"$db\""* ]]' "seatmgr_schedule() without pg_cron in this database: a clear error"
ok '[[ $hint == "SELECT cron.schedule_in_database('"'"'seatmgr_sweep:$db'"'"', '"'"'* * * * *'"'"', '"'"'CALL public.seatmgr_sweep()'"'"', '"'"'$db'"'"');" ]]' \
   "its hint is the exact cron.schedule_in_database call"
jobid=$(q -d postgres -c "$hint")
ok '[[ $jobid =~ ^[0-9]+$ ]]' "running the hint in the cron database schedules the job ($jobid)"

wait_for 150 '[ "$(q -d $db -c "SELECT status FROM seatmgr.runs WHERE trigger = '"'"'scheduled'"'"'")" = succeeded ]'
ok '[ "$(q -d $db -c "SELECT status FROM seatmgr.runs WHERE trigger = '"'"'scheduled'"'"'")" = succeeded ]' \
   "pg_cron ran CALL seatmgr_sweep(): a scheduled run appears (R11)"
ok '[ "$(q -d $db -c "SELECT status FROM seatmgr.licenses WHERE user_id = 1")" = deactivated ]' "the scheduled run did its work (R7)"
ok '[ "$(q -d postgres -c "SELECT count(*) FROM cron.job_run_details WHERE jobid = $jobid AND status = '"'"'succeeded'"'"'")" -ge 1 ]' \
   "cron.job_run_details records the job as succeeded"
q -d postgres -c "SELECT cron.unschedule($jobid)" >/dev/null

# in the cron database itself, seatmgr_schedule() and seatmgr_unschedule() manage the job
q -d postgres -c "CREATE EXTENSION IF NOT EXISTS seatmgr" 
id2=$(q -d postgres -c "SELECT seatmgr_schedule('*/5 * * * *')")
ok '[ "$(q -d postgres -c "SELECT schedule || '"'"' '"'"' || command FROM cron.job WHERE jobid = $id2")" = "*/5 * * * * CALL public.seatmgr_sweep()" ]' \
   "seatmgr_schedule() in the cron database creates the job"
ok '[ "$(q -d postgres -c "SELECT seatmgr_unschedule()")" = t ] && [ "$(q -d postgres -c "SELECT seatmgr_unschedule()")" = f ]' \
   "seatmgr_unschedule() removes it, then finds none"

q -d postgres -c "DROP EXTENSION seatmgr" -c "DROP DATABASE $db" 2>/dev/null
exit $tap_failed
