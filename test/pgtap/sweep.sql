-- pgTAP: the sweep, R7 (deactivate), R8 (grant), R10 (preview), R12
-- (history), R13 (runs of one domain) of SPEC.md, in one session.
BEGIN;
CREATE EXTENSION seatmgr;
SELECT no_plan();

INSERT INTO seatmgr.domains (name) VALUES ('acme.com');
INSERT INTO seatmgr.divisions (domain_id, name, product, seat_limit) VALUES
  (1, 'Trello', 'trello', 4),      -- 1: the division the sweep runs on
  (1, 'Jira', 'jira', NULL),       -- 2: another product
  (1, 'Trello 2', 'trello', NULL); -- 3: same product as 1
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'T'), (1, 2, 'J');
INSERT INTO seatmgr.groups (domain_id, name) VALUES (1, 'Two products'), (1, 'One product'), (1, 'Excluded');
INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (1, 1), (1, 2), (2, 1), (2, 3);

-- people: name, days since last activity (NULL: never)
CREATE TEMP TABLE people (name text, idle int, admin bool DEFAULT false, svc bool DEFAULT false);
INSERT INTO people VALUES
  ('old', 200, false, false), ('excl', 200, false, false), ('exclgrp', 200, false, false),
  ('admin', 200, true, false), ('svc', 200, false, true), ('multi', 200, false, false),
  ('same', 200, false, false), ('never', NULL, false, false), ('fresh', 5, false, false),
  ('newbie', 200, false, false);
INSERT INTO seatmgr.users (domain_id, email, is_admin, is_service_account, last_active_at)
SELECT 1, name || '@acme.com', admin, svc, now() - idle * interval '1 day' FROM people;
CREATE TEMP VIEW u AS SELECT user_id, split_part(email, '@', 1) AS name FROM seatmgr.users;
CREATE FUNCTION pg_temp.uid(text) RETURNS bigint LANGUAGE sql AS $$ SELECT user_id FROM u WHERE name = $1 $$;

-- licences in Trello (unlimited for now), granted a year ago, except the newbie
UPDATE seatmgr.divisions SET seat_limit = NULL WHERE division_id = 1;
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
SELECT 1, user_id, now() - interval '365 days' FROM u
 WHERE name IN ('old', 'excl', 'exclgrp', 'admin', 'svc', 'never', 'fresh');
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (1, pg_temp.uid('newbie'), now() - interval '10 days');
INSERT INTO seatmgr.group_members (group_id, user_id, added_at) VALUES
  (1, pg_temp.uid('multi'), now() - interval '365 days'),
  (2, pg_temp.uid('same'), now() - interval '365 days'),
  (3, pg_temp.uid('exclgrp'), now() - interval '365 days');
INSERT INTO seatmgr.exclusions (domain_id, user_id) VALUES (1, pg_temp.uid('excl'));
INSERT INTO seatmgr.exclusions (domain_id, group_id) VALUES (1, 3);
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after) VALUES (1, '90 days');

CREATE TEMP VIEW plan AS
SELECT u.name, p.action, p.reason FROM seatmgr_run(1, preview => true) p JOIN u USING (user_id);

-- R7 ------------------------------------------------------------------------------
SELECT set_eq($$SELECT name, action, reason FROM plan$$,
  $$VALUES ('old', 'deactivated', 'inactive'), ('never', 'deactivated', 'inactive'), ('same', 'deactivated', 'inactive'),
           ('excl', 'skipped', 'excluded'), ('exclgrp', 'skipped', 'excluded group'),
           ('admin', 'skipped', 'admin'), ('svc', 'skipped', 'service account'),
           ('multi', 'skipped', 'multi-product group')$$,
  'R7: inactive seats are deactivated; each exception is reported skipped with its reason; the rest is not listed');
SELECT is((SELECT count(*)::int FROM plan WHERE name IN ('fresh', 'newbie')), 0,
          'R7: an active user and a newcomer (granted within T) are not touched');
UPDATE seatmgr.policies SET protect_admins = false, protect_service_accounts = false;
SELECT set_eq($$SELECT name, action FROM plan WHERE name IN ('admin', 'svc')$$,
              $$VALUES ('admin', 'deactivated'), ('svc', 'deactivated')$$,
              'R7: admins and service accounts are deactivated when not protected');
UPDATE seatmgr.policies SET protect_admins = true, protect_service_accounts = true;

-- R10: preview writes nothing, and equals the real run
CREATE TEMP TABLE before_run AS
SELECT (SELECT count(*) FROM seatmgr.runs) AS runs, (SELECT count(*) FROM seatmgr.run_changes) AS changes,
       (SELECT count(*) FROM seatmgr.license_events) AS events,
       (SELECT string_agg(concat(user_id, division_id, status), ',' ORDER BY user_id, division_id) FROM seatmgr.licenses) AS lic;
CREATE TEMP TABLE previewed AS SELECT user_id, action, reason, last_active_at FROM seatmgr_run(1, preview => true);
SELECT is((SELECT count(*)::int FROM previewed WHERE true), 8, 'R10: the preview lists the changes');
SELECT results_eq($$SELECT runs, changes, events, lic FROM before_run$$,
  $$SELECT (SELECT count(*) FROM seatmgr.runs), (SELECT count(*) FROM seatmgr.run_changes),
           (SELECT count(*) FROM seatmgr.license_events),
           (SELECT string_agg(concat(user_id, division_id, status), ',' ORDER BY user_id, division_id) FROM seatmgr.licenses)$$,
  'R10: a preview writes nothing');
SELECT is((SELECT count(*)::int FROM seatmgr_run(1, preview => true) WHERE run_id IS NULL), 8, 'R10: a preview has no run_id');
CREATE TEMP TABLE ran AS SELECT * FROM seatmgr_run(1);
SELECT set_eq($$SELECT user_id, action, reason, last_active_at FROM ran$$,
              $$SELECT user_id, action, reason, last_active_at FROM previewed$$,
              'R10: the real run makes exactly the previewed changes');

-- R7 applied, R12 history
SELECT results_eq($$SELECT u.name, l.status FROM seatmgr.licenses l JOIN u USING (user_id)
                    WHERE l.division_id = 1 ORDER BY u.name$$,
  $$VALUES ('admin', 'active'::text), ('excl', 'active'), ('exclgrp', 'active'), ('fresh', 'active'),
           ('multi', 'active'), ('never', 'deactivated'), ('newbie', 'active'), ('old', 'deactivated'),
           ('same', 'deactivated'), ('svc', 'active')$$,
  'R7: the run deactivated exactly the inactive, unprotected licences');
SELECT is((SELECT count(*)::int FROM seatmgr.license_sources WHERE user_id = pg_temp.uid('old') AND division_id = 1), 1,
          'R7: deactivation keeps the sources');
SELECT is((SELECT deactivated_by_run FROM seatmgr.licenses WHERE user_id = pg_temp.uid('old') AND division_id = 1),
          (SELECT max(run_id) FROM ran), 'R7: deactivated_by_run names the run');
SELECT results_eq($$SELECT trigger, status, users_added, users_deactivated FROM seatmgr.runs$$,
                  $$VALUES ('manual'::text, 'succeeded'::text, 0, 3)$$,
                  'R12: one runs row per real run, with its counts');
SELECT is((SELECT count(*)::int FROM seatmgr.run_changes), 8, 'R12: one run_changes row per user added, deactivated or skipped');
SELECT is((SELECT count(*)::int FROM seatmgr.license_events WHERE run_id = (SELECT max(run_id) FROM ran) AND event = 'deactivated'), 3,
          'R12: a license_events row per deactivation, with the run');
SELECT is((SELECT count(*)::int FROM seatmgr_run_export((SELECT max(run_id) FROM ran))), 8, 'R12: the export has the run''s rows');
SELECT results_eq($$SELECT division, trigger, status, users_added, users_deactivated FROM seatmgr.run_history$$,
                  $$VALUES ('Trello'::text, 'manual'::text, 'succeeded'::text, 0, 3)$$, 'R12: run_history');
SELECT is((SELECT next_run_at FROM seatmgr.policies WHERE division_id = 1), NULL, 'R11: a manual run does not move next_run_at');

-- R8 -------------------------------------------------------------------------------
-- free people of the domain with recent activity; seat_limit 7 leaves one free seat
INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES
  (1, 'a1@acme.com', now() - interval '1 day'), (1, 'a2@acme.com', now() - interval '2 days'),
  (1, 'a3@acme.com', now() - interval '40 days'), (1, 'a4@acme.com', now() - interval '3 days');
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (2, pg_temp.uid('a4'));   -- a4 holds Jira: not free
INSERT INTO seatmgr.exclusions (domain_id, user_id) SELECT 1, pg_temp.uid('a2');      -- a2 excluded
UPDATE seatmgr.divisions SET seat_limit = 9 WHERE division_id = 1;   -- 7 active: 2 free seats
UPDATE seatmgr.policies SET grant_active_within = '30 days';
-- 'old' becomes active again: free with a deactivated licence
SELECT seatmgr_touch(pg_temp.uid('old'), now() - interval '10 hours');
SELECT set_eq($$SELECT name, action, reason FROM plan WHERE action <> 'skipped' OR reason = 'no seat'$$,
  $$VALUES ('a1', 'added', 'recently active'), ('old', 'added', 'recently active')$$,
  'R8 domain scope: free, non-excluded users active within W; not those licensed elsewhere or idle longer than W');
UPDATE seatmgr.divisions SET seat_limit = 8 WHERE division_id = 1;   -- one free seat
SELECT set_eq($$SELECT name, action, reason FROM plan WHERE action <> 'skipped' OR reason = 'no seat'$$,
  $$VALUES ('old', 'added', 'recently active'), ('a1', 'skipped', 'no seat')$$,
  'R8: most recently active first; those left without a seat are skipped, no seat');
UPDATE seatmgr.policies SET grant_scope = 'division';
SELECT set_eq($$SELECT name, action, reason FROM plan WHERE action <> 'skipped' OR reason = 'no seat'$$,
  $$VALUES ('old', 'added', 'recently active')$$,
  'R8 division scope: only users holding a deactivated or waitlisted licence there');
UPDATE seatmgr.policies SET grant_scope = 'domain';
UPDATE seatmgr.divisions SET seat_limit = 9 WHERE division_id = 1;
CREATE TEMP TABLE ran2 AS SELECT * FROM seatmgr_run(1);
SELECT results_eq($$SELECT u.name, l.status, s.kind, s.ref_id FROM seatmgr.licenses l JOIN u USING (user_id)
                      JOIN seatmgr.license_sources s USING (user_id, division_id)
                     WHERE l.division_id = 1 AND u.name = 'a1'$$,
                  $$SELECT 'a1'::text, 'active'::text, 'auto'::text, max(run_id) FROM ran2$$,
                  'R8: a granted licence has source auto:<run_id>');
SELECT results_eq($$SELECT l.status, l.deactivated_at IS NULL, array_agg(s.kind ORDER BY s.kind)
                      FROM seatmgr.licenses l JOIN seatmgr.license_sources s USING (user_id, division_id)
                     WHERE l.division_id = 1 AND l.user_id = pg_temp.uid('old') GROUP BY 1, 2$$,
                  $$VALUES ('active'::text, true, ARRAY['auto', 'team'])$$,
                  'R8: a deactivated licence is reactivated with an auto source next to its old ones');
SELECT is((SELECT event FROM seatmgr.license_events WHERE user_id = pg_temp.uid('old') ORDER BY event_id DESC LIMIT 1),
          'reactivated', 'R8/R12: event reactivated');
-- a licence holds at most one auto source: deactivate a1 by hand and run again
UPDATE seatmgr.licenses SET status = 'deactivated' WHERE user_id = pg_temp.uid('a1') AND division_id = 1;
UPDATE seatmgr.seat_counts SET active = active - 1 WHERE division_id = 1;
CREATE TEMP TABLE ran3 AS SELECT * FROM seatmgr_run(1);
SELECT results_eq($$SELECT ref_id FROM seatmgr.license_sources WHERE user_id = pg_temp.uid('a1') AND kind = 'auto'$$,
                  $$SELECT max(run_id) FROM ran3$$,
                  'R8: a licence holds at most one auto source, the latest run''s');

-- R8 waitlist first, oldest first; waiters inactive longer than T are deactivated instead
UPDATE seatmgr.policies SET grant_active_within = NULL;
SELECT seatmgr_touch(ARRAY[pg_temp.uid('a3'), pg_temp.uid('a2')], now());
UPDATE seatmgr.divisions SET seat_limit = (SELECT count(*) FROM seatmgr.licenses WHERE division_id = 1 AND status = 'active')
 WHERE division_id = 1;
INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES (1, 'w_idle@acme.com', now() - interval '300 days');
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES
  (1, pg_temp.uid('w_idle'), now() - interval '200 days'),
  (1, pg_temp.uid('a3'), now() - interval '100 days'),
  (1, pg_temp.uid('a2'), now() - interval '50 days');
SELECT is((SELECT active FROM seatmgr.seat_counts WHERE division_id = 1),
          (SELECT count(*) FROM seatmgr.licenses WHERE division_id = 1 AND status = 'active'),
          'R6: the seat counter agrees with the licences after runs');
SELECT results_eq($$SELECT u.name, l.status FROM seatmgr.licenses l JOIN u USING (user_id)
                    WHERE l.division_id = 1 AND u.name IN ('w_idle', 'a3', 'a2') ORDER BY u.name$$,
                  $$VALUES ('a2', 'waitlisted'::text), ('a3', 'waitlisted'), ('w_idle', 'waitlisted')$$,
                  'R6: the full division waitlists the three');
-- fresh loses its seat: one seat freed by R7 this run
UPDATE seatmgr.users SET last_active_at = now() - interval '100 days' WHERE user_id = pg_temp.uid('fresh');
SELECT set_eq($$SELECT name, action, reason FROM plan WHERE name IN ('fresh', 'w_idle', 'a3', 'a2')$$,
  $$VALUES ('fresh', 'deactivated', 'inactive'), ('w_idle', 'deactivated', 'inactive'),
           ('a3', 'added', 'waitlist')$$,
  'R8: seats freed by R7 go to the waitlist, oldest first; an idle waiter is deactivated instead');

-- R13: runs of two divisions of one domain never give one free user two seats
INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES (1, 'free@acme.com', now());
INSERT INTO seatmgr.policies (division_id, grant_active_within) VALUES (2, '30 days'), (3, '30 days');
SELECT is((SELECT count(*)::int FROM seatmgr_run(2) WHERE user_id = pg_temp.uid('free') AND action = 'added'), 1,
          'R13: the first division''s run gives the free user a seat');
SELECT is((SELECT count(*)::int FROM seatmgr_run(3) WHERE user_id = pg_temp.uid('free')), 0,
          'R13: the second division''s run sees the user is no longer free');
SELECT is((SELECT count(*)::int FROM seatmgr.licenses WHERE user_id = pg_temp.uid('free') AND status = 'active'), 1,
          'R13: one seat for one free user');
-- seatmgr_run(NULL) runs every division with a policy once
CREATE TEMP TABLE runs_before AS SELECT max(run_id) AS last FROM seatmgr.runs;
SELECT lives_ok($$SELECT * FROM seatmgr_run()$$, 'seatmgr_run(NULL) runs every division with a policy');
SELECT results_eq($$SELECT division_id::int FROM seatmgr.runs WHERE run_id > (SELECT last FROM runs_before) ORDER BY 1$$,
                  $$VALUES (1), (2), (3)$$,
                  'seatmgr_run(NULL) runs each of the three divisions with a policy once');
SELECT ok((SELECT bool_and(r.started_at >= p.finished_at)
             FROM seatmgr.runs r JOIN seatmgr.runs p ON p.run_id = r.run_id - 1
            WHERE r.run_id > (SELECT last FROM runs_before) + 1),
          'R12: each run of seatmgr_run(NULL) starts when the one before it finished: durations are its own');

SELECT * FROM finish();
ROLLBACK;
