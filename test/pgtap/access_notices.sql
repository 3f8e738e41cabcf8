-- pgTAP: who may answer notices, undo runs and simulate (SPEC section 8,
-- R20): app and admin in scope answer notices, admin undoes runs, reader and
-- admin simulate; seatmgr.notices is scoped like licences and written by
-- seatmgr only.  Messages name ids only.
BEGIN;
CREATE EXTENSION seatmgr;
SELECT no_plan();

-- acme.com (1): Eng (1), Sales (2); other.com (2): Theirs (3)
INSERT INTO seatmgr.domains (name) VALUES ('acme.com'), ('other.com');
INSERT INTO seatmgr.divisions (domain_id, name, seat_price) VALUES (1, 'Eng', 10), (1, 'Sales', 5), (2, 'Theirs', NULL);
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'E'), (1, 2, 'S'), (2, 3, 'T');
INSERT INTO seatmgr.users (domain_id, email, last_active_at)
SELECT 1, 'u' || i || '@acme.com', now() - interval '100 days' FROM generate_series(1, 6) i;   -- 1-6
INSERT INTO seatmgr.users (domain_id, email, last_active_at)
SELECT 2, 'z' || i || '@other.com', now() - interval '100 days' FROM generate_series(1, 2) i;  -- 7-8
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES
  (1, 1, now() - interval '1 year'), (1, 2, now() - interval '1 year'), (1, 3, now() - interval '1 year'),
  (2, 4, now() - interval '1 year'), (2, 5, now() - interval '1 year'),
  (3, 7, now() - interval '1 year'), (3, 8, now() - interval '1 year');
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after, notice_period) VALUES
  (1, '30 days', '7 days'), (2, '30 days', '7 days'), (3, '30 days', NULL);
SELECT count(*) FROM seatmgr_run(1);   -- run 1: notices 1-3 (Eng)
SELECT count(*) FROM seatmgr_run(2);   -- run 2: notices 4-5 (Sales)
SELECT count(*) FROM seatmgr_run(3);   -- run 3: deactivates z1, z2 (other.com)
UPDATE seatmgr.policies SET notice_period = '7 days' WHERE division_id = 3;
SELECT seatmgr_grant_license(7, 3);    -- z1 active again
UPDATE seatmgr.licenses SET granted_at = now() - interval '1 year' WHERE user_id = 7;
SELECT count(*) FROM seatmgr_run(3);   -- run 4: notice 6 (other.com)
SELECT results_eq($$SELECT notice_id, user_id, division_id FROM seatmgr.notices ORDER BY 1$$,
                  $$VALUES (1::bigint, 1::bigint, 1::bigint), (2, 2, 1), (3, 3, 1), (4, 4, 2), (5, 5, 2), (6, 7, 3)$$, 'setup: six notices');

CREATE ROLE seatmgr_t_app_all;    CREATE ROLE seatmgr_t_app_acme;
CREATE ROLE seatmgr_t_reader_acme; CREATE ROLE seatmgr_t_reader_eng;
CREATE ROLE seatmgr_t_admin_all;  CREATE ROLE seatmgr_t_admin_eng;
SELECT seatmgr_allow('seatmgr_t_app_all', 'app');
SELECT seatmgr_allow('seatmgr_t_app_acme', 'app', domain_id => 1);
SELECT seatmgr_allow('seatmgr_t_reader_acme', 'reader', domain_id => 1);
SELECT seatmgr_allow('seatmgr_t_reader_eng', 'reader', division_id => 1);
SELECT seatmgr_allow('seatmgr_t_admin_all', 'admin');
SELECT seatmgr_allow('seatmgr_t_admin_eng', 'admin', division_id => 1);

CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql SECURITY DEFINER AS $$
  SELECT concat_ws(' | ',
    (SELECT string_agg(concat_ws(',', notice_id, outcome), ';' ORDER BY notice_id) FROM seatmgr.notices),
    (SELECT string_agg(concat_ws(',', user_id, division_id, status), ';' ORDER BY user_id, division_id) FROM seatmgr.licenses),
    (SELECT count(*) FROM seatmgr.runs), (SELECT count(*) FROM seatmgr.license_events),
    (SELECT string_agg(concat_ws(',', user_id, last_active_at), ';' ORDER BY user_id) FROM seatmgr.users))
$$;
CREATE FUNCTION pg_temp.denied(sql text, msg text, description text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  before text := pg_temp.state();
BEGIN
  RETURN NEXT throws_ok(sql, '42501', msg, description);
  RETURN NEXT is(pg_temp.state(), before, description || ': nothing changed');
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.state(), pg_temp.denied(text, text, text) TO PUBLIC;

-- the privileges of each kind
SELECT ok(has_function_privilege('seatmgr_t_app_acme', 'seatmgr_answer_notice(bigint, text)', 'EXECUTE')
          AND has_table_privilege('seatmgr_t_app_acme', 'seatmgr.notices', 'SELECT')
          AND NOT has_function_privilege('seatmgr_t_app_acme', 'seatmgr_undo_run(bigint)', 'EXECUTE')
          AND NOT has_function_privilege('seatmgr_t_app_acme', 'seatmgr_simulate(bigint, interval, interval, interval)', 'EXECUTE'),
          'section 8: app answers notices (on behalf of the person warned) and reads them; no undo, no simulate');
SELECT ok(has_function_privilege('seatmgr_t_reader_acme', 'seatmgr_simulate(bigint, interval, interval, interval)', 'EXECUTE')
          AND has_table_privilege('seatmgr_t_reader_acme', 'seatmgr.notices', 'SELECT')
          AND NOT has_function_privilege('seatmgr_t_reader_acme', 'seatmgr_answer_notice(bigint, text)', 'EXECUTE')
          AND NOT has_function_privilege('seatmgr_t_reader_acme', 'seatmgr_undo_run(bigint)', 'EXECUTE'),
          'section 8: reader simulates and reads notices; it neither answers nor undoes');
SELECT ok(has_function_privilege('seatmgr_t_admin_eng', 'seatmgr_answer_notice(bigint, text)', 'EXECUTE')
          AND has_function_privilege('seatmgr_t_admin_eng', 'seatmgr_undo_run(bigint)', 'EXECUTE')
          AND has_function_privilege('seatmgr_t_admin_eng', 'seatmgr_simulate(bigint, interval, interval, interval)', 'EXECUTE'),
          'section 8: admin answers notices, undoes runs and simulates');
SELECT seatmgr_disallow('seatmgr_t_reader_eng', 'reader', division_id => 1);
SELECT ok(NOT has_table_privilege('seatmgr_t_reader_eng', 'seatmgr.notices', 'SELECT')
          AND NOT has_function_privilege('seatmgr_t_reader_eng', 'seatmgr_simulate(bigint, interval, interval, interval)', 'EXECUTE'),
          'section 8: seatmgr_disallow takes the new privileges back');
SELECT seatmgr_allow('seatmgr_t_reader_eng', 'reader', division_id => 1);

-- R20: notices are scoped like licences
SET ROLE seatmgr_t_reader_acme;
SELECT results_eq($$SELECT array_agg(notice_id ORDER BY notice_id) FROM seatmgr.notices$$, $$VALUES ('{1,2,3,4,5}'::bigint[])$$,
                  'R20: a domain-scoped role sees its domain''s notices only');
RESET ROLE;
SET ROLE seatmgr_t_reader_eng;
SELECT results_eq($$SELECT array_agg(notice_id ORDER BY notice_id) FROM seatmgr.notices$$, $$VALUES ('{1,2,3}'::bigint[])$$,
                  'R20: a division-scoped role sees its division''s notices only');
RESET ROLE;
GRANT UPDATE ON seatmgr.notices TO seatmgr_t_admin_all;
SET ROLE seatmgr_t_admin_all;
SELECT pg_temp.denied($$UPDATE seatmgr.notices SET outcome = 'kept', closed_at = now()$$,
                      'permission denied for table seatmgr.notices: only seatmgr writes it',
                      'section 5: applications never write seatmgr.notices, whatever privileges were granted');
RESET ROLE;
REVOKE UPDATE ON seatmgr.notices FROM seatmgr_t_admin_all;

-- R15: who answers
SET ROLE seatmgr_t_app_acme;
SELECT is(seatmgr_answer_notice(1, 'keep'), 'kept', 'section 8: app in scope answers a notice (keep)');
SELECT pg_temp.denied($$SELECT seatmgr_answer_notice(6, 'keep')$$, 'permission denied for notice 6',
                      'R20: app scoped to another domain gets 42501 naming the notice');
RESET ROLE;
SET ROLE seatmgr_t_app_all;
SELECT is(seatmgr_answer_notice(2, 'release'), 'released', 'section 8: unscoped app answers a notice (release)');
RESET ROLE;
SET ROLE seatmgr_t_admin_eng;
SELECT is(seatmgr_answer_notice(3, 'keep'), 'kept', 'section 8: admin in scope answers a notice');
SELECT pg_temp.denied($$SELECT seatmgr_answer_notice(4, 'keep')$$, 'permission denied for notice 4',
                      'R20: admin scoped to another division gets 42501 naming the notice');
RESET ROLE;
SET ROLE seatmgr_t_reader_acme;
SELECT pg_temp.denied($$SELECT seatmgr_answer_notice(4, 'keep')$$, 'permission denied for function seatmgr_answer_notice',
                      'section 8: a reader does not answer notices');
RESET ROLE;

-- R16: who undoes
SET ROLE seatmgr_t_admin_eng;
SELECT pg_temp.denied($$SELECT * FROM seatmgr_undo_run(3)$$, 'permission denied for run 3',
                      'R20: admin scoped to another division gets 42501 naming the run');
SELECT is((SELECT count(*)::int FROM seatmgr_undo_run(1)), 0, 'section 8: admin in scope undoes a run of its division');
RESET ROLE;
SET ROLE seatmgr_t_admin_all;
SELECT is((SELECT count(*)::int FROM seatmgr_undo_run(3) WHERE action = 'added'), 1,
          'section 8: unscoped admin undoes a run of any domain (z2 given back; z1 changed since)');
RESET ROLE;
SET ROLE seatmgr_t_reader_acme;
SELECT pg_temp.denied($$SELECT * FROM seatmgr_undo_run(2)$$, 'permission denied for function seatmgr_undo_run',
                      'section 8: a reader does not undo runs');
RESET ROLE;
SET ROLE seatmgr_t_app_all;
SELECT pg_temp.denied($$SELECT * FROM seatmgr_undo_run(2)$$, 'permission denied for function seatmgr_undo_run',
                      'section 8: app does not undo runs');
RESET ROLE;

-- seatmgr_simulate: who simulates
SET ROLE seatmgr_t_reader_eng;
SELECT ok((SELECT count(*) FROM seatmgr_simulate(1, NULL, '300 days')) > 0, 'section 8: reader in scope simulates');
SELECT pg_temp.denied($$SELECT * FROM seatmgr_simulate(2, '1 day', NULL)$$, 'permission denied for division 2',
                      'R20: reader scoped to another division gets 42501 naming the division');
RESET ROLE;
SET ROLE seatmgr_t_admin_eng;
SELECT ok((SELECT count(*) FROM seatmgr_simulate(1, NULL, '300 days')) > 0, 'section 8: admin in scope simulates');
SELECT pg_temp.denied($$SELECT * FROM seatmgr_simulate(3, '1 day', NULL)$$, 'permission denied for division 3',
                      'R20: admin scoped elsewhere gets 42501 naming the division');
RESET ROLE;
SET ROLE seatmgr_t_app_all;
SELECT pg_temp.denied($$SELECT * FROM seatmgr_simulate(1, '1 day', NULL)$$, 'permission denied for function seatmgr_simulate',
                      'section 8: app does not simulate');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
