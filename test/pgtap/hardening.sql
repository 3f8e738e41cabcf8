-- pgTAP: what issue 7's cautious DBA probed, as the contract of SPEC
-- section 5 and R21 states it.  Each failed statement changes nothing.
BEGIN;
CREATE EXTENSION seatmgr;
SELECT no_plan();

INSERT INTO seatmgr.domains (name) VALUES ('acme.com'), ('other.com');
INSERT INTO seatmgr.divisions (domain_id, name, seat_limit, seat_price) VALUES
  (1, 'Eng', 3, 10), (1, 'Open', NULL, 5), (2, 'Theirs', NULL, NULL);          -- 1, 2, 3
INSERT INTO seatmgr.divisions (domain_id, name, paid) VALUES (1, 'Community', false); -- 4
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'E'), (1, 2, 'O'), (2, 3, 'T'), (1, 4, 'C');
INSERT INTO seatmgr.users (domain_id, email, last_active_at)
SELECT 1, 'u' || i || '@acme.com', now() - interval '1 day' FROM generate_series(1, 6) i;
INSERT INTO seatmgr.users (domain_id, email) VALUES (2, 'x@other.com');                -- 7
INSERT INTO seatmgr.groups (domain_id, name) VALUES (1, 'Staff');
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES
  (1, 1, '2026-01-01'), (1, 2, '2026-01-02'), (2, 3, '2026-01-03'), (2, 4, '2026-01-04');

CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql AS $$
  SELECT concat_ws(' | ',
    (SELECT string_agg(concat_ws(',', user_id, division_id, status, granted_at), ';' ORDER BY user_id, division_id) FROM seatmgr.licenses),
    (SELECT count(*) FROM seatmgr.license_sources), (SELECT count(*) FROM seatmgr.license_events),
    (SELECT string_agg(concat_ws(',', user_id, last_active_at), ';' ORDER BY user_id) FROM seatmgr.users),
    (SELECT count(*) FROM seatmgr.team_members), (SELECT count(*) FROM seatmgr.group_members),
    (SELECT count(*) FROM seatmgr.policies), (SELECT count(*) FROM seatmgr.runs),
    (SELECT string_agg(concat_ws(',', division_id, seat_limit, seat_price), ';' ORDER BY division_id) FROM seatmgr.divisions))
$$;
CREATE FUNCTION pg_temp.bad(sql text, code text, msg text, description text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  before text := pg_temp.state();
BEGIN
  RETURN NEXT throws_ok(sql, code, msg, description);
  RETURN NEXT is(pg_temp.state(), before, description || ': nothing changed');
END $$;

-- NULLs: refused naming the column (23502) or the argument (22004), never read as an id
SELECT pg_temp.bad($$INSERT INTO seatmgr.users (domain_id, email) VALUES (1, NULL)$$, '23502',
                   'null value in column "email" of relation "users" violates not-null constraint', 'section 5: a NULL e-mail');
SELECT pg_temp.bad($$UPDATE seatmgr.users SET email = NULL WHERE user_id = 1$$, '23502',
                   'null value in column "email" of relation "users" violates not-null constraint', 'section 5: an e-mail set to NULL');
SELECT pg_temp.bad($$UPDATE seatmgr.domains SET name = NULL$$, '23502',
                   'null value in column "name" of relation "domains" violates not-null constraint', 'section 5: a domain name set to NULL');
SELECT pg_temp.bad($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (NULL, 5)$$, '23502',
                   'null value in column "team_id" of relation "team_members" violates not-null constraint', 'section 5: a NULL team is not team 0');
SELECT pg_temp.bad($$INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id) VALUES (NULL, 'P', 1, 5)$$, '23502',
                   'null value in column "object_type" of relation "shares" violates not-null constraint', 'section 5: a NULL object type');
SELECT pg_temp.bad($$INSERT INTO seatmgr.policies (division_id, run_every) VALUES (1, NULL)$$, '23502',
                   'null value in column "run_every" of relation "policies" violates not-null constraint', 'section 5: a NULL run_every');
SELECT pg_temp.bad($$SELECT seatmgr_grant_license(NULL, 1)$$, '22004', 'user_id must not be NULL', 'section 5: seatmgr_grant_license raises on a NULL id');
SELECT pg_temp.bad($$SELECT seatmgr_grant_license(5, NULL)$$, '22004', 'division_id must not be NULL', 'section 5: seatmgr_grant_license raises on a NULL division');
SELECT pg_temp.bad($$SELECT seatmgr_remove_license(NULL, 1)$$, '22004', 'user_id must not be NULL', 'section 5: seatmgr_remove_license raises on a NULL id');
SELECT pg_temp.bad($$SELECT * FROM seatmgr_explain(NULL)$$, '22004', 'user_id must not be NULL', 'section 5: seatmgr_explain raises on a NULL id');
SELECT pg_temp.bad($$SELECT * FROM seatmgr_run_export(NULL)$$, '22004', 'run_id must not be NULL', 'section 5: seatmgr_run_export raises on a NULL id');
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after) VALUES (1, '30 days');
SELECT pg_temp.bad($$SELECT * FROM seatmgr_run(1, preview => NULL)$$, '22004', 'preview must not be NULL',
                   'section 5: seatmgr_run(1, preview => NULL) is an error, not a real run');
SELECT pg_temp.bad($$SELECT seatmgr_touch(NULL::bigint)$$, '22004', 'user_id must not be NULL', 'section 5: seatmgr_touch raises on a NULL id');
SELECT pg_temp.bad($$SELECT seatmgr_schedule(NULL)$$, '22004', 'schedule must not be NULL', 'section 5: seatmgr_schedule raises on a NULL schedule');
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
            JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'seatmgr'
           WHERE p.proisstrict), 0, 'section 5: no seatmgr function is STRICT (they raise instead of returning NULL)');

-- times: finite, and at most one minute ahead of the server's clock (R21)
SELECT pg_temp.bad($$SELECT seatmgr_touch(1, now() + interval '2 minutes')$$, '22023', NULL,
                   'R21: activity cannot be recorded in the future');
SELECT pg_temp.bad($$SELECT seatmgr_touch(ARRAY[1, 2], 'infinity')$$, '22023', 'activity time must be a finite time, not "infinity"',
                   'R21: nor at an infinite time');
SELECT lives_ok($$SELECT seatmgr_touch(1, clock_timestamp() + interval '30 seconds')$$, 'R21: half a minute ahead (clock skew) is accepted');
SELECT pg_temp.bad($$UPDATE seatmgr.users SET last_active_at = '2100-01-01' WHERE user_id = 2$$, '22023', NULL,
                   'section 5: last_active_at in the future is refused (a user touched to 2100 would never be swept)');
SELECT pg_temp.bad($$INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES (1, 'n@acme.com', '-infinity')$$, '22023',
                   'last_active_at must be a finite time, not "-infinity"', 'section 5: an infinite last_active_at');
SELECT pg_temp.bad($$INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (1, 5, now() + interval '1 day')$$, '22023', NULL,
                   'section 5: added_at in the future');
SELECT pg_temp.bad($$INSERT INTO seatmgr.group_members (group_id, user_id, added_at) VALUES (1, 5, 'infinity')$$, '22023',
                   'added_at must be a finite time, not "infinity"', 'section 5: an infinite group added_at');
SELECT pg_temp.bad($$INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id, shared_at) VALUES ('goal', 'G', 1, 5, now() + interval '1 year')$$,
                   '22023', NULL, 'section 5: shared_at in the future');
SELECT pg_temp.bad($$UPDATE seatmgr.policies SET enabled = true, next_run_at = 'infinity' WHERE division_id = 1$$, '22023',
                   'next_run_at must be a finite time, not "infinity"', 'section 5: an infinite next_run_at');

-- intervals and prices
SELECT pg_temp.bad($$UPDATE seatmgr.policies SET revoke_inactive_after = '1000000 years' WHERE division_id = 1$$, '22023',
                   'revoke_inactive_after must be at most 100 years, not "1000000 years"', 'section 5: an interval over 100 years');
SELECT pg_temp.bad($$UPDATE seatmgr.policies SET run_every = '100 years 1 day' WHERE division_id = 1$$, '22023',
                   'run_every must be at most 100 years, not "100 years 1 day"', 'section 5: just over 100 years');
SELECT lives_ok($$UPDATE seatmgr.policies SET grant_active_within = '100 years' WHERE division_id = 1$$, 'section 5: exactly 100 years is accepted');
UPDATE seatmgr.policies SET grant_active_within = NULL WHERE division_id = 1;
SELECT pg_temp.bad($$UPDATE seatmgr.divisions SET seat_price = 'NaN' WHERE division_id = 1$$, '22023',
                   'seat_price must be a finite amount of at least 0, not NaN', 'section 5: a NaN seat_price');
SELECT pg_temp.bad($$UPDATE seatmgr.divisions SET seat_price = '-Infinity' WHERE division_id = 1$$, '22023',
                   'seat_price must be a finite amount of at least 0, not -Infinity', 'section 5: an infinite seat_price');
SELECT pg_temp.bad($$INSERT INTO seatmgr.divisions (domain_id, name, seat_price) VALUES (1, 'Neg', -0.01)$$, '22023',
                   'seat_price must be a finite amount of at least 0, not -0.01', 'section 5: a negative seat_price');

-- duplicates name both objects; every cross-domain link is refused
SELECT pg_temp.bad($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 1)$$, '23505',
                   'user 1 is already a member of team 1', 'section 5: a duplicate membership names the user and the team');
SELECT pg_temp.bad($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 5), (1, 5)$$, '23505',
                   'user 5 is already a member of team 1', 'section 5: a duplicate within one INSERT');
INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (1, 2);
SELECT pg_temp.bad($$INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (1, 2)$$, '23505',
                   'division 2 is already granted by group 1', 'section 5: a duplicate group grant');
SELECT pg_temp.bad($$INSERT INTO seatmgr.policies (division_id) VALUES (1)$$, '23505',
                   'division 1 already has a policy', 'section 5: a duplicate policy');
SELECT pg_temp.bad($$INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id, division_id) VALUES ('project', 'P', 1, 5, 3)$$,
                   '23514', NULL, 'section 5: a share whose division is of another domain');

-- R4: a policy on an unpaid division grants nothing
INSERT INTO seatmgr.policies (division_id, grant_active_within) VALUES (4, '30 days');
SELECT is((SELECT count(*)::int FROM seatmgr_run(4, preview => true)), 0, 'R4: a preview of an unpaid division grants nothing');
SELECT is((SELECT count(*)::int FROM seatmgr_run(4)), 0, 'R4: a run of an unpaid division grants nothing');
SELECT is((SELECT count(*)::int FROM seatmgr.licenses WHERE division_id = 4), 0, 'R4: unpaid divisions hold no licenses');

-- section 5: deleting a division or a domain leaves removed events
SELECT is((SELECT count(*)::int FROM seatmgr.licenses WHERE division_id = 2), 2, 'fixture: Open holds two licenses');
DELETE FROM seatmgr.divisions WHERE division_id = 2;
SELECT results_eq($$SELECT user_id, event FROM seatmgr.license_events WHERE division_id = 2 AND event = 'removed' ORDER BY user_id$$,
                  $$VALUES (3::bigint, 'removed'::text), (4, 'removed')$$,
                  'section 5: deleting a division leaves a removed event for each of its licenses');
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (3, 7);
DELETE FROM seatmgr.domains WHERE domain_id = 2;
SELECT results_eq($$SELECT user_id, division_id, event FROM seatmgr.license_events WHERE division_id = 3 ORDER BY event_id$$,
                  $$VALUES (7::bigint, 3::bigint, 'granted'::text), (7, 3, 'removed')$$,
                  'section 5: deleting a domain leaves a removed event for each of its licenses');

-- section 5: only seatmgr writes the maintained tables, whatever was granted
CREATE ROLE seatmgr_test_app;
GRANT USAGE ON SCHEMA seatmgr TO seatmgr_test_app;
GRANT ALL ON ALL TABLES IN SCHEMA seatmgr TO seatmgr_test_app;
SET LOCAL ROLE seatmgr_test_app;
SELECT pg_temp.bad($$INSERT INTO seatmgr.licenses (user_id, division_id, status, granted_at) VALUES (5, 1, 'active', now())$$, '42501',
                   'permission denied for table seatmgr.licenses: only seatmgr writes it', 'section 5: no role writes licenses (an active license over the limit)');
SELECT pg_temp.bad($$INSERT INTO seatmgr.license_events (user_id, division_id, event, actor) VALUES (1, 1, 'granted', 'postgres')$$, '42501',
                   'permission denied for table seatmgr.license_events: only seatmgr writes it', 'section 5: no role forges an event');
SELECT pg_temp.bad($$UPDATE seatmgr.license_sources SET kind = 'admin', ref_id = NULL$$, '42501',
                   'permission denied for table seatmgr.license_sources: only seatmgr writes it', 'section 5: no role rewrites sources');
SELECT pg_temp.bad($$UPDATE seatmgr.seat_counts SET active = 0$$, '42501',
                   'permission denied for table seatmgr.seat_counts: only seatmgr writes it', 'section 5: no role resets the seat counter');
SELECT pg_temp.bad($$DELETE FROM seatmgr.runs$$, '42501',
                   'permission denied for table seatmgr.runs: only seatmgr writes it', 'section 5: no role deletes runs');
SELECT pg_temp.bad($$TRUNCATE seatmgr.run_changes$$, '42501',
                   'permission denied for table seatmgr.run_changes: only seatmgr writes it', 'section 5: no role truncates run changes');
-- the application's own writes still work through the triggers, given app access (R20)
RESET ROLE;
SELECT seatmgr_allow('seatmgr_test_app', 'app');
SET LOCAL ROLE seatmgr_test_app;
SELECT lives_ok($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 5)$$, 'section 5: the same role still invites (seatmgr writes the license)');
RESET ROLE;
SELECT is((SELECT status FROM seatmgr.licenses WHERE user_id = 5 AND division_id = 1), 'active', 'R1: the invite granted the license');

-- R21: every SECURITY DEFINER function pins search_path; nothing for PUBLIC that changes licenses
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
            JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'seatmgr'
           WHERE p.prosecdef AND (p.proconfig IS NULL OR NOT 'search_path=pg_catalog, pg_temp' = ANY (p.proconfig))), 0,
          'R21: every SECURITY DEFINER function pins search_path = pg_catalog, pg_temp');
SELECT ok(NOT has_function_privilege('seatmgr_test_app', 'seatmgr_schedule(text)', 'EXECUTE')
          AND NOT has_function_privilege('seatmgr_test_app', 'seatmgr_unschedule()', 'EXECUTE')
          AND NOT has_function_privilege('seatmgr_test_app', 'seatmgr.progress_rows()', 'EXECUTE')
          AND NOT has_function_privilege('seatmgr_test_app', 'seatmgr_run(bigint, boolean)', 'EXECUTE'),
          'R21: scheduling, progress and runs are not executable by PUBLIC');

-- section 5: a restore (a superuser session with row_security = off, as pg_dump
-- and pg_restore set) loads the maintained tables itself: the triggers stand aside
SET LOCAL row_security = off;
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (1, 6, '2026-01-06');
SELECT is((SELECT count(*)::int FROM seatmgr.licenses WHERE user_id = 6), 0, 'section 5: during a restore the triggers derive nothing');
INSERT INTO seatmgr.licenses (user_id, division_id, status, granted_at) VALUES (6, 1, 'waitlisted', '2026-01-06');
SELECT is((SELECT status FROM seatmgr.licenses WHERE user_id = 6), 'waitlisted', 'section 5: the dumped license is loaded as it was');
SET LOCAL row_security = on;
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (2, 6);
SELECT is((SELECT count(*)::int FROM seatmgr.licenses WHERE user_id = 6), 1, 'section 5: outside a restore the triggers are back (Open is gone: nothing granted)');

-- R6/R8: an idle waiter that an exception protects is not deactivated by a
-- run; it keeps waiting and gets a freed seat in waitlist order
INSERT INTO seatmgr.divisions (domain_id, name, seat_limit) VALUES (1, 'Queue', 1);
INSERT INTO seatmgr.teams (domain_id, division_id, name)
SELECT 1, division_id, 'Q' FROM seatmgr.divisions WHERE name = 'Queue';
INSERT INTO seatmgr.users (domain_id, email, last_active_at, is_service_account) VALUES
  (1, 'holder@acme.com', now() - interval '60 days', false), (1, 'bot@acme.com', now() - interval '300 days', true);
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
SELECT t.team_id, u.user_id, now() - interval '200 days' + u.user_id * interval '1 second'
  FROM seatmgr.teams t, seatmgr.users u WHERE t.name = 'Q' AND u.email IN ('holder@acme.com', 'bot@acme.com');
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after)
SELECT division_id, '30 days' FROM seatmgr.divisions WHERE name = 'Queue';
SELECT results_eq($$SELECT email, action, reason FROM seatmgr_run((SELECT division_id FROM seatmgr.divisions WHERE name = 'Queue')) ORDER BY email$$,
                  $$VALUES ('bot@acme.com'::text, 'added'::text, 'waitlist'::text), ('holder@acme.com', 'deactivated', 'inactive')$$,
                  'R6/R8: the seat R7 frees goes to the waiting service account, which protection keeps from deactivation');
SELECT is((SELECT count(*)::int FROM seatmgr.licenses l JOIN seatmgr.divisions d USING (division_id)
            WHERE d.name = 'Queue' AND l.status = 'waitlisted'), 0, 'R6: no waiter left beside a free seat');

-- invariants after all of the above
SELECT is((SELECT active FROM seatmgr.seat_counts WHERE division_id = 1),
          (SELECT count(*) FROM seatmgr.licenses WHERE division_id = 1 AND status = 'active'), 'R6: the seat counter equals the active licenses');

SELECT * FROM finish();
ROLLBACK;
