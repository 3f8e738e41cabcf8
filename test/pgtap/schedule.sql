-- pgTAP: R11 (schedule) and R12 (history of scheduled runs, failed runs).
-- CALL seatmgr_sweep() commits, so this file runs outside a transaction, in
-- a database of its own that it drops at the end.
\set ON_ERROR_STOP on
DROP DATABASE IF EXISTS seatmgr_tap_schedule;
CREATE DATABASE seatmgr_tap_schedule;
\c seatmgr_tap_schedule
SET client_min_messages = warning;
CREATE EXTENSION pgtap;
CREATE EXTENSION seatmgr;
SELECT plan(22);

INSERT INTO seatmgr.domains (name) VALUES ('acme.com');
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Due'), (1, 'Later'), (1, 'Off'), (1, 'Broken');
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'D'), (1, 4, 'B');
INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES
  (1, 'idle@acme.com', now() - interval '1 year'), (1, 'idle2@acme.com', now() - interval '1 year');
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (1, 1, '2024-01-01'), (2, 2, '2024-01-01');

-- R11: next_run_at is maintained
INSERT INTO seatmgr.policies (division_id, enabled, run_every, revoke_inactive_after) VALUES (1, true, '1 day', '30 days');
-- (each statement is its own transaction here: the INSERT's now() is a moment earlier)
SELECT ok((SELECT next_run_at BETWEEN now() + interval '1 day' - interval '10 seconds' AND now() + interval '1 day'
             FROM seatmgr.policies WHERE division_id = 1),
          'R11: enabling sets next_run_at to now() + run_every');
INSERT INTO seatmgr.policies (division_id, enabled, run_every, next_run_at) VALUES (2, true, '7 days', '2030-01-01');
SELECT is((SELECT next_run_at FROM seatmgr.policies WHERE division_id = 2), '2030-01-01'::timestamptz,
          'R11: ... unless it is given');
INSERT INTO seatmgr.policies (division_id, enabled, revoke_inactive_after) VALUES (3, false, '30 days');
SELECT is((SELECT next_run_at FROM seatmgr.policies WHERE division_id = 3), NULL, 'R11: a disabled policy has no next_run_at');
UPDATE seatmgr.policies SET enabled = false WHERE division_id = 2;
SELECT is((SELECT next_run_at FROM seatmgr.policies WHERE division_id = 2), NULL, 'R11: disabling sets next_run_at to NULL');
UPDATE seatmgr.policies SET enabled = true WHERE division_id = 2;
SELECT ok((SELECT next_run_at BETWEEN now() + interval '7 days' - interval '10 seconds' AND now() + interval '7 days'
             FROM seatmgr.policies WHERE division_id = 2),
          'R11: enabling again sets now() + run_every');
UPDATE seatmgr.policies SET next_run_at = '2031-06-01' WHERE division_id = 2;
SELECT is((SELECT next_run_at FROM seatmgr.policies WHERE division_id = 2), '2031-06-01'::timestamptz,
          'R11: an admin may set next_run_at to choose the next run');

-- due and not due
UPDATE seatmgr.policies SET next_run_at = now() - interval '1 minute' WHERE division_id = 1;
CALL seatmgr_sweep();
SELECT results_eq($$SELECT division_id::int, trigger, status, users_deactivated FROM seatmgr.runs ORDER BY run_id$$,
                  $$VALUES (1, 'scheduled'::text, 'succeeded'::text, 1)$$,
                  'R11: a due policy runs (scheduled), a policy not due or disabled does not');
SELECT is((SELECT next_run_at FROM seatmgr.policies WHERE division_id = 1),
          (SELECT started_at + interval '1 day' FROM seatmgr.runs WHERE division_id = 1),
          'R11: the run sets next_run_at to its own start plus run_every');
SELECT is((SELECT status FROM seatmgr.licenses WHERE user_id = 1), 'deactivated', 'R7/R11: the scheduled run did its work');
SELECT is((SELECT count(*)::int FROM seatmgr.run_changes WHERE run_id = 1), 1, 'R12: the scheduled run has its run_changes');
CALL seatmgr_sweep();
SELECT is((SELECT count(*)::int FROM seatmgr.runs), 1, 'R11: a policy that ran is not due again before run_every');

-- manual runs don't move the schedule; disabled policies can be run by hand
CREATE TEMP TABLE before AS SELECT division_id, next_run_at FROM seatmgr.policies;
SELECT lives_ok($$SELECT * FROM seatmgr_run(1)$$, 'R11: a manual run of an enabled policy');
SELECT lives_ok($$SELECT * FROM seatmgr_run(3)$$, 'R11: disabled policies can still be run by hand');
SELECT set_eq($$SELECT division_id, next_run_at FROM seatmgr.policies$$, $$SELECT * FROM before$$,
              'R11: manual runs never move next_run_at');
SELECT is((SELECT trigger FROM seatmgr.runs WHERE division_id = 3), 'manual', 'R12: manual runs are recorded as manual');

-- R12: a scheduled run that fails is recorded failed with its error, and applies nothing
CREATE FUNCTION public.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.event = 'deactivated' AND NEW.division_id = 4 THEN
    RAISE EXCEPTION 'audit log is read-only today';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER refuse BEFORE INSERT ON seatmgr.license_events FOR EACH ROW EXECUTE FUNCTION public.refuse();
INSERT INTO seatmgr.policies (division_id, enabled, revoke_inactive_after, next_run_at)
VALUES (4, true, '30 days', now() - interval '1 minute');
SET client_min_messages = error;   -- the sweep reports the failure as a WARNING
CALL seatmgr_sweep();
SET client_min_messages = warning;
SELECT results_eq($$SELECT trigger, status, error FROM seatmgr.runs WHERE division_id = 4$$,
                  $$VALUES ('scheduled'::text, 'failed'::text, 'audit log is read-only today'::text)$$,
                  'R12: a failed scheduled run is recorded as failed with the error');
SELECT is((SELECT status FROM seatmgr.licenses WHERE user_id = 2), 'active', 'R12: nothing of a failed run is applied');
SELECT is((SELECT count(*)::int FROM seatmgr.run_changes c JOIN seatmgr.runs r USING (run_id) WHERE r.division_id = 4), 0,
          'R12: a failed run leaves no run_changes');
SELECT isnt((SELECT finished_at FROM seatmgr.runs WHERE division_id = 4), NULL, 'R12: a failed run has finished_at');
SELECT cmp_ok((SELECT next_run_at FROM seatmgr.policies WHERE division_id = 4), '>', now(),
              'R11: a failed run still moves next_run_at: it started');
SELECT is((SELECT count(*)::int FROM seatmgr.progress), 0, 'seatmgr.progress is empty when nothing runs');
DROP TRIGGER refuse ON seatmgr.license_events;

-- a crash leaves a run in_progress; the next sweep marks it failed
INSERT INTO seatmgr.runs (division_id, trigger, status) VALUES (2, 'scheduled', 'in_progress');
CALL seatmgr_sweep();
SELECT alike((SELECT error FROM seatmgr.runs WHERE division_id = 2), 'run interrupted%',
            'R12: a run left in_progress by a crash is marked failed with the reason');

SELECT * FROM finish();
\c postgres
DROP DATABASE seatmgr_tap_schedule;
