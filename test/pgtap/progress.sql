-- pgTAP: seatmgr.progress (issue 12) and who sees its rows (SPEC section 8,
-- R20).  The view is cluster-wide, like pg_stat_progress_vacuum: a row of
-- this database is shown to a role whose scope covers its division; a row
-- of another database only to superusers and members of pg_read_all_stats,
-- with its division's name NULL.  Two runs are held in "computing changes"
-- by sessions of dblink that lock seatmgr.exclusions: a real run of Eng
-- (acme.com) in this database and a preview in a second database.  The runs
-- commit, so this file runs outside a transaction, in databases of its own
-- that it drops at the end.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
DROP DATABASE IF EXISTS seatmgr_tap_progress;
DROP DATABASE IF EXISTS seatmgr_tap_progress2;
CREATE DATABASE seatmgr_tap_progress;
CREATE DATABASE seatmgr_tap_progress2;
DROP ROLE IF EXISTS seatmgr_tp_reader_acme, seatmgr_tp_admin_other, seatmgr_tp_reader_all,
  seatmgr_tp_app_all, seatmgr_tp_stats;

-- the second database: one division, its preview to be held
\c seatmgr_tap_progress2
SET client_min_messages = warning;
CREATE EXTENSION seatmgr;
INSERT INTO seatmgr.domains (name) VALUES ('elsewhere.com');
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Far');
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after) VALUES (1, '30 days');

\c seatmgr_tap_progress
SET client_min_messages = warning;
CREATE EXTENSION pgtap;
CREATE EXTENSION dblink;
CREATE EXTENSION seatmgr;
SELECT plan(25);

-- acme.com (1): Eng (1); other.com (2): Theirs (2)
INSERT INTO seatmgr.domains (name) VALUES ('acme.com'), ('other.com');
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Eng'), (2, 'Theirs');
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'E');
INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES (1, 'idle@acme.com', now() - interval '1 year');
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (1, 1, '2024-01-01');
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after) VALUES (1, '30 days'), (2, '30 days');

CREATE ROLE seatmgr_tp_reader_acme; CREATE ROLE seatmgr_tp_admin_other; CREATE ROLE seatmgr_tp_reader_all;
CREATE ROLE seatmgr_tp_app_all;     CREATE ROLE seatmgr_tp_stats;
SELECT seatmgr_allow('seatmgr_tp_reader_acme', 'reader', domain_id => 1);
SELECT seatmgr_allow('seatmgr_tp_admin_other', 'admin', domain_id => 2);
SELECT seatmgr_allow('seatmgr_tp_reader_all', 'reader');
SELECT seatmgr_allow('seatmgr_tp_app_all', 'app');
-- a monitoring role: reads other databases' progress, and one domain of this one
SELECT seatmgr_allow('seatmgr_tp_stats', 'reader', domain_id => 2);
GRANT pg_read_all_stats TO seatmgr_tp_stats;

SELECT is((SELECT count(*)::int FROM seatmgr.progress), 0, 'issue 12: seatmgr.progress is empty while nothing runs');

-- hold both runs in "computing changes": their change set reads seatmgr.exclusions
\o /dev/null
SELECT dblink_connect('hold', 'dbname=' || current_database() || ' port=' || current_setting('port') || ' host=' || split_part(current_setting('unix_socket_directories'), ',', 1));
SELECT dblink_exec('hold', 'BEGIN');
SELECT dblink_exec('hold', 'LOCK TABLE seatmgr.exclusions IN ACCESS EXCLUSIVE MODE');
SELECT dblink_connect('hold2', 'dbname=seatmgr_tap_progress2' || ' port=' || current_setting('port') || ' host=' || split_part(current_setting('unix_socket_directories'), ',', 1));
SELECT dblink_exec('hold2', 'BEGIN');
SELECT dblink_exec('hold2', 'LOCK TABLE seatmgr.exclusions IN ACCESS EXCLUSIVE MODE');
SELECT dblink_connect('run', 'dbname=' || current_database() || ' port=' || current_setting('port') || ' host=' || split_part(current_setting('unix_socket_directories'), ',', 1));
SELECT dblink_send_query('run', 'SELECT count(*) FROM seatmgr_run(1)');
SELECT dblink_connect('run2', 'dbname=seatmgr_tap_progress2' || ' port=' || current_setting('port') || ' host=' || split_part(current_setting('unix_socket_directories'), ',', 1));
SELECT dblink_send_query('run2', 'SELECT count(*) FROM seatmgr_run(1, preview => true)');
DO $$
BEGIN
  FOR i IN 1..300 LOOP
    EXIT WHEN (SELECT count(*) FROM seatmgr.progress p
                 JOIN pg_stat_activity a ON a.pid = p.pid AND a.wait_event_type = 'Lock') = 2;
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
\o

-- the superuser sees both, as pg_stat_progress_vacuum shows every database
SELECT results_eq(
  $$SELECT datname::text COLLATE "default", datid = (SELECT oid FROM pg_database WHERE datname = p.datname), run_id IS NULL, division_id,
           division, preview, trigger, phase, changes_total, changes_done
      FROM seatmgr.progress p ORDER BY datname$$,
  $$VALUES ('seatmgr_tap_progress', true, false, 1::bigint, 'Eng', false, 'manual', 'computing changes', NULL::bigint, 0::bigint),
           ('seatmgr_tap_progress2', true, true, 1::bigint, NULL, true, 'manual', 'computing changes', NULL::bigint, 0::bigint)$$,
  'issue 12: the superuser sees the runs of every database: datid, datname, a real run and a preview (run_id NULL), no division name for another database');
SELECT is((SELECT run_id FROM seatmgr.progress WHERE datname = current_database()), 1::bigint,
          'issue 12: the manual run in progress is shown with its run_id');
SELECT is((SELECT count(*)::int FROM seatmgr.runs), 0,
          'issue 12: ... while seatmgr.runs (and run_history) cannot show it before it commits');

-- scoped roles: a row of this database when their scope covers its division (R20)
SET ROLE seatmgr_tp_reader_acme;
SELECT results_eq($$SELECT datname::text COLLATE "default", division_id, division FROM seatmgr.progress$$,
                  $$VALUES ('seatmgr_tap_progress', 1::bigint, 'Eng')$$,
                  'R20: a reader of acme.com sees the run of Eng, not the other database''s');
RESET ROLE;
SET ROLE seatmgr_tp_reader_all;
SELECT results_eq($$SELECT datname::text COLLATE "default", division FROM seatmgr.progress$$,
                  $$VALUES ('seatmgr_tap_progress', 'Eng')$$,
                  'R20: an unscoped reader sees the runs of this database only: seatmgr''s grants say nothing of another');
RESET ROLE;
SET ROLE seatmgr_tp_admin_other;
SELECT is((SELECT count(*)::int FROM seatmgr.progress), 0,
          'R20: an admin of other.com does not see the run of acme.com''s division, nor the other database''s');
SELECT is((SELECT count(*)::int FROM seatmgr.progress_rows()), 0,
          'R20: nor through seatmgr.progress_rows() itself: the function applies the scopes');
RESET ROLE;
SET ROLE seatmgr_tp_stats;
SELECT results_eq($$SELECT datname::text COLLATE "default", division_id, division, preview FROM seatmgr.progress$$,
                  $$VALUES ('seatmgr_tap_progress2', 1::bigint, NULL::text, true)$$,
                  'issue 12: a member of pg_read_all_stats sees the other database''s row (division NULL), and here only its own scope''s');
RESET ROLE;
SET ROLE seatmgr_tp_app_all;
SELECT throws_ok('SELECT * FROM seatmgr.progress', '42501', NULL, 'R20: an app role may not read seatmgr.progress');
SELECT throws_ok('SELECT * FROM seatmgr.progress_rows()', '42501', NULL, 'R20: nor call seatmgr.progress_rows()');
RESET ROLE;
SELECT ok(NOT has_function_privilege('public', 'seatmgr.progress_rows()', 'EXECUTE'),
          'R21: seatmgr.progress_rows() is not executable by PUBLIC');
SELECT ok(NOT has_function_privilege('public', 'seatmgr._progress_tick(bigint, bigint)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'seatmgr._progress_tick_support(internal)', 'EXECUTE'),
          'R21: seatmgr._progress_tick and its support function are not executable by PUBLIC');

-- issue 12: seatmgr._progress_tick, the clause of the change set's
-- statement that counts licenses_done, is always true and planned as if it
-- were not there (support function: selectivity 1, no cost)
SELECT is((SELECT pg_catalog.count(*)::int FROM seatmgr.licenses l WHERE seatmgr._progress_tick(l.user_id, l.user_id)),
          (SELECT pg_catalog.count(*)::int FROM seatmgr.licenses l),
          'issue 12: seatmgr._progress_tick keeps every row');
CREATE FUNCTION pg_temp.plan_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE p json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || sql INTO p;
  RETURN (p -> 0 -> 'Plan' ->> 'Plan Rows') || ' rows, cost ' || (p -> 0 -> 'Plan' ->> 'Total Cost');
END $$;
SELECT is(pg_temp.plan_of('SELECT * FROM seatmgr.users u JOIN seatmgr.licenses l ON l.user_id = u.user_id AND seatmgr._progress_tick(l.user_id, u.user_id)'),
          pg_temp.plan_of('SELECT * FROM seatmgr.users u JOIN seatmgr.licenses l ON l.user_id = u.user_id'),
          'issue 12: as a join clause, seatmgr._progress_tick changes neither the estimated rows nor the cost');
SELECT is(pg_temp.plan_of('SELECT * FROM seatmgr.licenses l WHERE l.division_id = 1 AND seatmgr._progress_tick(l.user_id, l.user_id)'),
          pg_temp.plan_of('SELECT * FROM seatmgr.licenses l WHERE l.division_id = 1'),
          'issue 12: nor as a filter of a scan');
SELECT throws_ok('SELECT seatmgr._progress_tick(NULL, 1)', '22004', 'license_user_id must not be NULL',
                 'section 5: seatmgr._progress_tick refuses a NULL argument');

-- R13: a second manual run while the first is held: its hint points to seatmgr.progress
SELECT throws_ok('SELECT * FROM seatmgr_run(1)', '55P03', 'a run of division 1 is already in progress',
                 'R13: a second manual run of the division fails with 55P03');
CREATE FUNCTION pg_temp.hint_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
  EXECUTE sql;
  RETURN NULL;
EXCEPTION WHEN lock_not_available THEN
  GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
  RETURN h;
END $$;
SELECT is(pg_temp.hint_of('SELECT * FROM seatmgr_run(1)'),
          'Wait for it to finish; seatmgr.progress shows it while it runs: SELECT * FROM seatmgr.progress WHERE division_id = 1;',
          'R13: its hint is the query on seatmgr.progress that shows the run in progress');

-- let both go: their rows leave the view when they end
\o /dev/null
SELECT dblink_exec('hold', 'COMMIT');
SELECT dblink_exec('hold2', 'COMMIT');
\o
SELECT is((SELECT count FROM dblink_get_result('run') AS r(count bigint)), 1::bigint, 'the held run ends and deactivates its one idle user');
SELECT is((SELECT count FROM dblink_get_result('run2') AS r(count bigint)), 0::bigint, 'the held preview ends');
SELECT is((SELECT count(*)::int FROM seatmgr.progress), 0, 'issue 12: seatmgr.progress is empty again when the runs have ended');

-- a preview that fails inside a subtransaction (an EXCEPTION block; here
-- its lock_timeout while seatmgr.exclusions is held) leaves no row behind,
-- even before its transaction ends
\o /dev/null
SELECT dblink_exec('hold', 'BEGIN');
SELECT dblink_exec('hold', 'LOCK TABLE seatmgr.exclusions IN ACCESS EXCLUSIVE MODE');
\o
CREATE FUNCTION pg_temp.failed_preview() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_catalog.set_config('lock_timeout', '200ms', true);
  PERFORM * FROM seatmgr_run(1, preview => true);
  RETURN 'not held';
EXCEPTION WHEN lock_not_available THEN
  RETURN 'timed out';
END $$;
BEGIN;
SELECT is(pg_temp.failed_preview(), 'timed out', 'a preview held by the lock times out inside an EXCEPTION block');
SELECT is((SELECT count(*)::int FROM seatmgr.progress), 0,
          'issue 12: the preview whose subtransaction failed leaves no row behind, its transaction still open');
COMMIT;
\o /dev/null
SELECT dblink_exec('hold', 'COMMIT');
\o
SELECT is((SELECT count(*)::int FROM seatmgr.runs WHERE status = 'succeeded'), 1, 'the held run succeeded');

SELECT * FROM finish();
\o /dev/null
SELECT dblink_disconnect('hold'), dblink_disconnect('hold2'), dblink_disconnect('run'), dblink_disconnect('run2');
\c postgres
DROP DATABASE seatmgr_tap_progress;
DROP DATABASE seatmgr_tap_progress2;
DROP ROLE seatmgr_tp_reader_acme, seatmgr_tp_admin_other, seatmgr_tp_reader_all, seatmgr_tp_app_all, seatmgr_tp_stats;
