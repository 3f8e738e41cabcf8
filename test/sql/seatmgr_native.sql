-- seatmgr_native: what a run says and exports as a PostgreSQL user expects it
-- (issue 12; SPEC sections 4 and 9, "Times"): the NOTICE that ends a manual
-- run or an undo, seatmgr_run_summary, an export that reads the same
-- whatever DateStyle and TimeZone, and the domain in run_history and
-- next_runs.  Each run's log lines are checked by t/runlog.pl.
CREATE EXTENSION seatmgr;
SET timezone = 'UTC';
\set VERBOSITY default
-- two customers, each with a division called Enterprise
INSERT INTO seatmgr.domains (name) VALUES ('acme.com'), ('globex.com');
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Enterprise'), (2, 'Enterprise');
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'A'), (2, 2, 'G');
INSERT INTO seatmgr.users (domain_id, email, last_active_at, is_admin) VALUES
  (1, 'ann@acme.com', '2020-03-01 23:30:00.25+00', false),   -- idle: deactivated
  (1, 'bob@acme.com', '2020-03-02 08:00:00+00', true),       -- idle admin: skipped
  (2, 'gus@globex.com', '2020-03-03 12:00:00.000001+00', false);
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES
  (1, 1, '2020-01-01'), (1, 2, '2020-01-01'), (2, 3, '2020-01-01');
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after) VALUES (1, '30 days'), (2, '30 days');

-- seatmgr.log_run_summary: the level of the runs' server log lines (t/runlog.pl)
SHOW seatmgr.log_run_summary;
SET seatmgr.log_run_summary = 'loud';
SET seatmgr.log_run_summary = debug1;
RESET seatmgr.log_run_summary;

-- a preview is a query: its rows, no NOTICE
SELECT user_id, email, action, reason FROM seatmgr_run(1, preview => true);
-- a manual run ends with one NOTICE of its counts
SELECT run_id, user_id, email, action, reason FROM seatmgr_run(1);
-- every division with a policy: one NOTICE per run (runs 2 and 3, globex.com's)
SELECT run_id, division_id, email, action FROM seatmgr_run(NULL);
-- an undo is a run too (R16)
SELECT run_id, email, action, reason FROM seatmgr_undo_run(1);

-- the summary form: a run's counts without its rows
SELECT run_id, division_id, domain, division, trigger, status, deactivated, added, warned, skipped, error,
       finished_at >= started_at AS timed
  FROM seatmgr_run_summary(1);
SELECT run_id, domain, trigger, status, deactivated, added, warned, skipped FROM seatmgr_run_summary(4);
-- a composite, one row per run
SELECT s.run_id, s.domain, s.deactivated, s.skipped
  FROM seatmgr.runs r, LATERAL seatmgr_run_summary(r.run_id) s ORDER BY r.run_id;
SELECT * FROM seatmgr_run_summary(99);
SELECT * FROM seatmgr_run_summary(NULL);

-- run_history and next_runs name the domain: the two Enterprises differ
SELECT run_id, division_id, division, domain, trigger, status, users_added, users_deactivated
  FROM seatmgr.run_history ORDER BY run_id;
SELECT division_id, division, domain, enabled FROM seatmgr.next_runs ORDER BY division_id;

-- the export (SPEC section 9: times ISO 8601 in UTC), first in ISO and UTC
SET DateStyle = 'ISO, MDY';
CREATE TEMP TABLE export_utc AS SELECT * FROM seatmgr_run_export(1);
SELECT run_id, division, email, action, reason, last_active_at, domain FROM export_utc;
SELECT pg_typeof(run_date) AS run_date_type, pg_typeof(last_active_at) AS last_active_at_type
  FROM export_utc LIMIT 1;
-- the same rows in other sessions' settings: times in UTC, run_date the UTC date
SET DateStyle = 'SQL, DMY';
SET TimeZone = 'America/New_York';
SELECT run_id, division, email, action, reason, last_active_at, domain FROM seatmgr_run_export(1);
SELECT count(*) AS differing FROM ((SELECT * FROM seatmgr_run_export(1)) EXCEPT ALL (SELECT * FROM export_utc)) d;
SET DateStyle = 'German';
SET TimeZone = 'Pacific/Kiritimati';
SELECT run_id, division, email, action, reason, last_active_at, domain FROM seatmgr_run_export(1);
SELECT count(*) AS differing FROM ((SELECT * FROM seatmgr_run_export(1)) EXCEPT ALL (SELECT * FROM export_utc)) d;
SELECT bool_and(e.run_date = (r.started_at AT TIME ZONE 'UTC')::date) AS run_date_is_utc
  FROM seatmgr_run_export(1) e JOIN seatmgr.runs r USING (run_id);
RESET DateStyle;
RESET TimeZone;
-- the other customer's run names its own domain
SELECT run_id, division, email, action, domain FROM seatmgr_run_export(3);

SET seatmgr.allow_drop_with_licenses = on;
DROP EXTENSION seatmgr;
