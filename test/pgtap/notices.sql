-- pgTAP: notices before a seat is taken (R14), answering them (R15),
-- undoing a run (R16) and seatmgr_simulate, sentence by sentence of
-- SPEC.md sections 3, 4 and 9, in one session.  Runs happen at the clock's
-- time; a deadline is moved into the past by writing the notice as the
-- superuser, as a restore may.
BEGIN;
CREATE EXTENSION seatmgr;
SELECT no_plan();

INSERT INTO seatmgr.domains (name) VALUES ('acme.com');
INSERT INTO seatmgr.divisions (domain_id, name, seat_price) VALUES
  (1, 'Eng', 10),              -- 1: unlimited, priced
  (1, 'Ops', NULL);            -- 2: for undo under a limit, no price
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'E'), (1, 2, 'O');

-- people: name, days since last activity
CREATE TEMP TABLE people (name text, idle int, admin bool DEFAULT false);
INSERT INTO people (name, idle) VALUES ('ann', 200), ('bob', 200), ('cat', 200), ('dan', 200), ('eve', 200),
  ('fay', 200), ('gus', 200), ('hal', 5), ('jon', 200), ('kim', 200), ('lee', 200);
INSERT INTO people VALUES ('ivy', 200, true);
INSERT INTO seatmgr.users (domain_id, email, is_admin, last_active_at)
SELECT 1, name || '@acme.com', admin, now() - idle * interval '1 day' FROM people;
CREATE TEMP VIEW u AS SELECT user_id, split_part(email, '@', 1) AS name FROM seatmgr.users;
CREATE FUNCTION pg_temp.uid(text) RETURNS bigint LANGUAGE sql AS $$ SELECT user_id FROM u WHERE name = $1 $$;
CREATE FUNCTION pg_temp.notice(text) RETURNS bigint LANGUAGE sql AS
  $$ SELECT notice_id FROM seatmgr.notices WHERE user_id = pg_temp.uid($1) ORDER BY notice_id DESC LIMIT 1 $$;
CREATE FUNCTION pg_temp.status(text, bigint DEFAULT 1) RETURNS text LANGUAGE sql AS
  $$ SELECT status FROM seatmgr.licenses WHERE user_id = pg_temp.uid($1) AND division_id = $2 $$;
-- every open notice of division 1 runs out
CREATE FUNCTION pg_temp.deadlines_pass() RETURNS void LANGUAGE sql AS
  $$ UPDATE seatmgr.notices SET deadline = now() - interval '1 second' WHERE closed_at IS NULL $$;

INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
SELECT 1, user_id, now() - interval '365 days' FROM u WHERE name IN ('ann', 'bob', 'cat', 'dan', 'eve', 'fay', 'hal', 'ivy');
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after, notice_period) VALUES (1, '90 days', '7 days');

CREATE TEMP VIEW plan AS
SELECT u.name, p.action, p.reason FROM seatmgr_run(1, preview => true) p JOIN u USING (user_id);

-- R14: the first step, a notice ---------------------------------------------------
SELECT set_eq($$SELECT name, action, reason FROM plan$$,
  $$VALUES ('ann', 'warned', 'inactive'), ('bob', 'warned', 'inactive'), ('cat', 'warned', 'inactive'),
           ('dan', 'warned', 'inactive'), ('eve', 'warned', 'inactive'), ('fay', 'warned', 'inactive'),
           ('ivy', 'skipped', 'admin')$$,
  'R14: a preview shows the warned rows a run would write (reason inactive); exceptions stay skipped');
CREATE TEMP TABLE previewed AS SELECT user_id, action, reason, last_active_at FROM seatmgr_run(1, preview => true);
SELECT is((SELECT count(*)::int FROM seatmgr.notices), 0, 'R14: a preview opens no notice');
CREATE TEMP TABLE run1 AS SELECT * FROM seatmgr_run(1);
SELECT set_eq($$SELECT user_id, action, reason, last_active_at FROM run1$$,
              $$SELECT user_id, action, reason, last_active_at FROM previewed$$,
              'R14/R10: the run writes exactly the previewed warned rows');
SELECT results_eq($$SELECT count(*)::int, count(DISTINCT o.run_id)::int, bool_and(o.run_id = r.run_id),
                           bool_and(o.deadline = r.started_at + interval '7 days'), bool_and(o.issued_at = r.started_at),
                           bool_and(o.closed_at IS NULL AND o.outcome IS NULL AND o.answer IS NULL),
                           bool_and(o.domain_id = 1)
                      FROM seatmgr.notices o JOIN seatmgr.runs r ON r.run_id = (SELECT max(run_id) FROM run1)$$,
                  $$VALUES (6, 1, true, true, true, true, true)$$,
                  'R14: a run opens one notice per warned licence, deadline = the run''s start + N, issued by the run');
SELECT is((SELECT count(*)::int FROM seatmgr.license_events e JOIN run1 r ON r.user_id = e.user_id
            WHERE e.event = 'warned' AND e.run_id = r.run_id AND e.division_id = 1), 6,
          'R14: a license_events row warned per notice, with the run');
SELECT is((SELECT count(*)::int FROM seatmgr.run_changes WHERE action = 'warned' AND reason = 'inactive'), 6,
          'R14: a run change warned, reason inactive, per notice');
SELECT is((SELECT count(*)::int FROM seatmgr.licenses WHERE division_id = 1 AND status = 'active'), 8,
          'R14: a warned licence stays active and keeps its seat');
SELECT results_eq($$SELECT users_warned, users_deactivated, users_added FROM seatmgr.runs$$,
                  $$VALUES (6, 0, 0)$$, 'R14: runs.users_warned counts the notices the run opened');
SELECT is((SELECT count(*)::int FROM seatmgr.license_events e JOIN seatmgr.notices o
             ON o.user_id = e.user_id AND o.division_id = e.division_id AND o.run_id = e.run_id
            WHERE e.event = 'warned'), 6,
          'R14: (user_id, division_id, run_id) of a warned event finds exactly its notice');

-- R14 and section 9: a running notice ----------------------------------------------
SELECT is((SELECT count(*)::int FROM plan WHERE action <> 'skipped'), 0,
          'R14: a license whose notice is still running is not reported by the run');
CREATE TEMP TABLE run2 AS SELECT * FROM seatmgr_run(1);
SELECT is((SELECT count(*)::int FROM seatmgr.notices), 6, 'R14: a license has at most one open notice: a second run opens none');
SELECT is((SELECT count(*)::int FROM run2 WHERE action <> 'skipped'), 0, 'R14: the second run reports no running notice');
SELECT throws_ok($$INSERT INTO seatmgr.notices (domain_id, user_id, division_id, run_id, issued_at, deadline)
                   VALUES (1, pg_temp.uid('ann'), 1, 1, now(), now())$$, '23505', NULL,
                 'R14: a license has at most one open notice (a unique index holds it)');
SELECT matches((SELECT verdict FROM seatmgr_explain(pg_temp.uid('ann'))),
               '^notice [0-9]+ open until .*: runs keep the seat until then',
               'R14: seatmgr_explain names a running notice and its deadline');

-- R14: closing without deactivating --------------------------------------------------
SELECT seatmgr_touch(pg_temp.uid('bob'));                                        -- active again
INSERT INTO seatmgr.exclusions (domain_id, user_id) VALUES (1, pg_temp.uid('cat'));  -- an exception now applies
DELETE FROM seatmgr.team_members WHERE user_id = pg_temp.uid('dan');              -- licence gone (removed)
SELECT matches((SELECT verdict FROM seatmgr_explain(pg_temp.uid('bob'))), 'closes notice [0-9]+ \(active again\)',
               'R14: seatmgr_explain says the next run closes a notice whose user is active again');
SELECT set_eq($$SELECT name, action, reason FROM plan$$,
              $$VALUES ('cat', 'skipped', 'excluded'), ('ivy', 'skipped', 'admin')$$,
              'R14: closing a notice is not a row of the preview');
CREATE TEMP TABLE run3 AS SELECT * FROM seatmgr_run(1);
SELECT results_eq($$SELECT u.name, o.outcome, o.closed_at IS NOT NULL FROM seatmgr.notices o JOIN u USING (user_id)
                     WHERE u.name IN ('bob', 'cat', 'dan') ORDER BY u.name$$,
                  $$VALUES ('bob', 'active again'::text, true), ('cat', 'active again', true), ('dan', 'license gone', true)$$,
                  'R14: a run closes a notice: active again (activity within T, or an exception now applies), license gone');
SELECT results_eq($$SELECT pg_temp.status('bob'), pg_temp.status('cat')$$, $$VALUES ('active'::text, 'active'::text)$$,
                  'R14: closing a notice does not deactivate');
SELECT set_eq($$SELECT u.name, c.action FROM seatmgr.run_changes c JOIN u USING (user_id) WHERE c.run_id = (SELECT max(run_id) FROM run3)$$,
              $$VALUES ('cat', 'skipped'), ('ivy', 'skipped')$$,
              'R14: closing a notice writes no run change (only warned and deactivated do)');

-- R14: the second step, after the deadline ---------------------------------------------
-- section 9: the deadline has passed when deadline <= the run's start
UPDATE seatmgr.notices SET deadline = now() + interval '1 hour' WHERE user_id = pg_temp.uid('eve');
UPDATE seatmgr.notices SET deadline = now() WHERE user_id IN (pg_temp.uid('ann'), pg_temp.uid('fay'));
SELECT matches((SELECT verdict FROM seatmgr_explain(pg_temp.uid('ann'))), 'deactivates it: notice [0-9]+ ran until',
               'R14: seatmgr_explain says a run deactivates a licence whose notice ran out');
SELECT set_eq($$SELECT name, action, reason FROM plan WHERE name IN ('ann', 'eve', 'fay')$$,
              $$VALUES ('ann', 'deactivated', 'inactive'), ('fay', 'deactivated', 'inactive')$$,
              'R14: a run deactivates only when the deadline has passed (deadline <= its start) and R7 still selects it');
CREATE TEMP TABLE run4 AS SELECT * FROM seatmgr_run(1);
SELECT results_eq($$SELECT u.name, o.outcome, l.status, coalesce(l.deactivated_by_run = o.closed_by, false)
                      FROM (SELECT n.*, (SELECT max(run_id) FROM run4) AS closed_by FROM seatmgr.notices n) o
                      JOIN u USING (user_id) JOIN seatmgr.licenses l ON l.user_id = o.user_id AND l.division_id = 1
                     WHERE u.name IN ('ann', 'eve', 'fay') ORDER BY u.name$$,
                  $$VALUES ('ann', 'deactivated'::text, 'deactivated'::text, true), ('eve', NULL, 'active', false),
                           ('fay', 'deactivated', 'deactivated', true)$$,
                  'R14: the later run deactivates (notice outcome deactivated); a notice still running stays open');
SELECT is((SELECT count(*)::int FROM run4 WHERE action = 'deactivated' AND reason = 'inactive'), 2,
          'R14: run change deactivated for each');

-- R14, section 9: waiters get no notice; notice_period NULL ------------------------------
UPDATE seatmgr.divisions SET seat_limit = 5 WHERE division_id = 1;   -- 5 active: full
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (1, pg_temp.uid('gus'), now() - interval '365 days');
SELECT is(pg_temp.status('gus'), 'waitlisted', 'setup: gus waits');
SELECT set_eq($$SELECT name, action FROM plan WHERE name = 'gus'$$, $$VALUES ('gus', 'deactivated')$$,
              'R14: waitlisted licences hold no seat and get no notice: an idle waiter is deactivated directly');
UPDATE seatmgr.divisions SET seat_limit = NULL WHERE division_id = 1;
SELECT is(pg_temp.status('gus'), 'active', 'setup: gus has a seat');
UPDATE seatmgr.licenses SET granted_at = now() - interval '365 days' WHERE user_id = pg_temp.uid('gus');
UPDATE seatmgr.policies SET notice_period = NULL WHERE division_id = 1;
SELECT set_eq($$SELECT name, action FROM plan WHERE action <> 'skipped'$$,
              $$VALUES ('eve', 'deactivated'), ('gus', 'deactivated')$$,
              'R14: with notice_period NULL, R7 deactivates at once as before');
CREATE TEMP TABLE run5 AS SELECT * FROM seatmgr_run(1);
SELECT results_eq($$SELECT o.outcome, pg_temp.status('eve') FROM seatmgr.notices o WHERE o.user_id = pg_temp.uid('eve')$$,
                  $$VALUES ('withdrawn'::text, 'deactivated'::text)$$,
                  'R14, section 9: a notice still open when notice_period becomes NULL is closed withdrawn by the next run');
SELECT is((SELECT count(*)::int FROM seatmgr.notices WHERE user_id = pg_temp.uid('gus')), 0,
          'R14: with notice_period NULL no notice is opened');
-- revoke_inactive_after NULL withdraws too
UPDATE seatmgr.policies SET notice_period = '7 days' WHERE division_id = 1;
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (1, pg_temp.uid('jon'), now() - interval '365 days');
SELECT is((SELECT action FROM seatmgr_run(1) WHERE user_id = pg_temp.uid('jon')), 'warned', 'setup: jon warned');
UPDATE seatmgr.policies SET revoke_inactive_after = NULL WHERE division_id = 1;
SELECT is((SELECT count(*)::int FROM seatmgr_run(1)), 0, 'setup: a run without T reports nothing');
SELECT results_eq($$SELECT o.outcome, pg_temp.status('jon') FROM seatmgr.notices o WHERE o.user_id = pg_temp.uid('jon')$$,
                  $$VALUES ('withdrawn'::text, 'active'::text)$$,
                  'R14, section 9: a notice still open when revoke_inactive_after becomes NULL is closed withdrawn');
UPDATE seatmgr.policies SET revoke_inactive_after = '90 days' WHERE division_id = 1;

-- R15: answering ------------------------------------------------------------------------
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
SELECT 1, user_id, now() - interval '365 days' FROM u WHERE name IN ('kim', 'lee');
CREATE TEMP TABLE run6 AS SELECT * FROM seatmgr_run(1);
SELECT set_eq($$SELECT u.name FROM run6 JOIN u USING (user_id) WHERE action = 'warned'$$, $$VALUES ('jon'), ('kim'), ('lee')$$,
              'setup: jon, kim and lee warned');
SELECT is(seatmgr_answer_notice(pg_temp.notice('kim'), 'keep'), 'kept', 'R15: keep returns the outcome kept');
SELECT results_eq($$SELECT o.answer, o.outcome, o.answered_at = now(), o.closed_at = now(),
                           (SELECT last_active_at FROM seatmgr.users WHERE user_id = o.user_id) = now(), pg_temp.status('kim')
                      FROM seatmgr.notices o WHERE o.notice_id = pg_temp.notice('kim')$$,
                  $$VALUES ('keep'::text, 'kept'::text, true, true, true, 'active'::text)$$,
                  'R15: keep records activity for the user now (as seatmgr_touch) and closes the notice kept');
SELECT is((SELECT count(*)::int FROM plan WHERE name = 'kim'), 0, 'R15: a kept licence is not in the next run');
-- release: the seat is freed and the waitlist served (R6)
UPDATE seatmgr.divisions SET seat_limit = (SELECT count(*) FROM seatmgr.licenses WHERE division_id = 1 AND status = 'active')
 WHERE division_id = 1;
INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES (1, 'wes@acme.com', now());
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, pg_temp.uid('wes'));
SELECT is(pg_temp.status('wes'), 'waitlisted', 'setup: wes waits');
CREATE TEMP TABLE ev_before AS SELECT max(event_id) AS id FROM seatmgr.license_events;
SELECT is(seatmgr_answer_notice(pg_temp.notice('lee'), 'release'), 'released', 'R15: release returns the outcome released');
SELECT results_eq($$SELECT pg_temp.status('lee'), (SELECT deactivated_by_run IS NULL AND deactivated_at IS NOT NULL
                      FROM seatmgr.licenses WHERE user_id = pg_temp.uid('lee') AND division_id = 1),
                           (SELECT outcome || '/' || answer FROM seatmgr.notices WHERE notice_id = pg_temp.notice('lee'))$$,
                  $$VALUES ('deactivated'::text, true, 'released/release'::text)$$,
                  'R15: release deactivates the licence at once (deactivated_by_run stays NULL) and closes the notice released');
SELECT set_eq($$SELECT u.name, e.event FROM seatmgr.license_events e JOIN u USING (user_id) WHERE e.event_id > (SELECT id FROM ev_before)$$,
              $$VALUES ('lee', 'deactivated'), ('wes', 'granted')$$,
              'R15: release leaves event deactivated, frees the seat and serves the waitlist (R6)');
SELECT is(pg_temp.status('wes'), 'active', 'R15: the waiter got the freed seat');
-- errors
SELECT throws_ok($$SELECT seatmgr_answer_notice(pg_temp.notice('kim'), 'keep')$$, '55000',
                 'notice ' || pg_temp.notice('kim') || ' is already closed: kept',
                 'R15: answering a closed notice is an error (55000) naming the notice and its outcome');
SELECT throws_ok($$SELECT seatmgr_answer_notice(pg_temp.notice('lee'), 'keep')$$, '55000',
                 'notice ' || pg_temp.notice('lee') || ' is already closed: released',
                 'R15: a released notice is closed');
SELECT throws_ok($$SELECT seatmgr_answer_notice(pg_temp.notice('kim'), 'maybe')$$, '22023',
                 'answer "maybe" is not keep or release',
                 'R15: an answer other than keep or release is an error (22023) naming it, checked before the notice''s state');
SELECT throws_ok($$SELECT seatmgr_answer_notice(pg_temp.notice('jon'), 'KEEP')$$, '22023',
                 'answer "KEEP" is not keep or release', 'R15: answers are lower case');
SELECT throws_ok($$SELECT seatmgr_answer_notice(424242, 'keep')$$, '42704', 'notice 424242 does not exist',
                 'R15: an unknown notice is 42704');
SELECT throws_ok($$SELECT seatmgr_answer_notice(NULL, 'keep')$$, '22004', 'notice_id must not be NULL', 'R15: NULL notice_id is 22004');
SELECT throws_ok($$SELECT seatmgr_answer_notice(pg_temp.notice('jon'), NULL)$$, '22004', 'answer must not be NULL', 'R15: NULL answer is 22004');
SELECT is((SELECT outcome FROM seatmgr.notices WHERE notice_id = pg_temp.notice('jon')), NULL, 'R15: a failed answer changes nothing');

-- R16: undo -------------------------------------------------------------------------------
-- division 2: 3 seats; a run deactivates two active licences and an idle waiter
UPDATE seatmgr.divisions SET seat_limit = 3 WHERE division_id = 2;
INSERT INTO seatmgr.users (domain_id, email, last_active_at)
SELECT 1, n || '@acme.com', now() - interval '200 days' FROM unnest(ARRAY['o1', 'o2', 'o3', 'o4']) n;
INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES (1, 'o5@acme.com', now());
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
SELECT 2, user_id, now() - interval '365 days' FROM u WHERE name IN ('o1', 'o2', 'o3', 'o4') ORDER BY user_id;
SELECT results_eq($$SELECT pg_temp.status('o1', 2), pg_temp.status('o2', 2), pg_temp.status('o3', 2), pg_temp.status('o4', 2)$$,
                  $$VALUES ('active'::text, 'active'::text, 'active'::text, 'waitlisted'::text)$$, 'setup: o4 waits');
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after, grant_active_within) VALUES (2, '90 days', '30 days');
UPDATE seatmgr.users SET last_active_at = now() WHERE user_id = pg_temp.uid('o3');
CREATE TEMP TABLE r7 AS SELECT * FROM seatmgr_run(2);
SELECT set_eq($$SELECT u.name, action, reason FROM r7 JOIN u USING (user_id)$$,
              $$VALUES ('o1', 'deactivated', 'inactive'), ('o2', 'deactivated', 'inactive'), ('o4', 'deactivated', 'inactive'),
                       ('o5', 'added', 'recently active')$$, 'setup: the run to undo');
-- o2 changed since: a new source reactivated it
SELECT seatmgr_grant_license(pg_temp.uid('o2'), 2);
SELECT is((SELECT active FROM seatmgr.division_seats WHERE division_id = 2), 3::bigint, 'setup: division 2 is full');
-- one seat for the give-back
UPDATE seatmgr.divisions SET seat_limit = 4 WHERE division_id = 2;
CREATE TEMP TABLE undo1 AS SELECT * FROM seatmgr_undo_run((SELECT max(run_id) FROM r7));
SELECT set_eq($$SELECT u.name, action, reason FROM undo1 JOIN u USING (user_id)$$,
              $$VALUES ('o1', 'added', 'undo'), ('o4', 'added', 'undo'), ('o2', 'skipped', 'changed since')$$,
              'R16: run changes added, reason undo, for each licence given back, skipped, changed since, for one that changed');
SELECT results_eq($$SELECT pg_temp.status('o1', 2), pg_temp.status('o4', 2), pg_temp.status('o5', 2)$$,
                  $$VALUES ('active'::text, 'waitlisted'::text, 'active'::text)$$,
                  'R16: a licence the run deactivated becomes active again; a waiter goes back to the waitlist; seats it granted stay');
SELECT results_eq($$SELECT granted_at >= now(), deactivated_at IS NULL AND deactivated_by_run IS NULL
                      FROM seatmgr.licenses WHERE user_id = pg_temp.uid('o1') AND division_id = 2$$,
                  $$VALUES (true, true)$$, 'R16: the clock restarts');
SELECT results_eq($$SELECT trigger, status, undoes_run_id, users_added, users_deactivated
                      FROM seatmgr.runs WHERE run_id = (SELECT max(run_id) FROM undo1)$$,
                  $$SELECT 'undo'::text, 'succeeded'::text, max(run_id), 1, 0 FROM r7$$,
                  'R16: the undo is a run of its own: trigger undo, undoes_run_id');
SELECT is((SELECT count(DISTINCT run_id)::int FROM undo1 WHERE division_id = 2 AND email IS NOT NULL), 1,
          'R16: it returns rows like seatmgr_run');
SELECT set_eq($$SELECT u.name, e.event FROM seatmgr.license_events e JOIN u USING (user_id) WHERE e.run_id = (SELECT max(run_id) FROM undo1)$$,
              $$VALUES ('o1', 'reactivated'), ('o4', 'waitlisted')$$, 'R16: each licence given back leaves an event');
SELECT throws_ok($$SELECT * FROM seatmgr_undo_run((SELECT max(run_id) FROM r7))$$, '55000',
                 'run ' || (SELECT max(run_id) FROM r7) || ' was already undone by run ' || (SELECT max(run_id) FROM undo1),
                 'R16: a run can be undone once (55000 naming the run)');
SELECT throws_ok($$SELECT * FROM seatmgr_undo_run((SELECT max(run_id) FROM undo1))$$, '55000',
                 'run ' || (SELECT max(run_id) FROM undo1) || ' is an undo (of run ' || (SELECT max(run_id) FROM r7) || ') and cannot be undone',
                 'R16: undoing an undo is an error (55000 naming the run)');
INSERT INTO seatmgr.runs (division_id, trigger, status, error) VALUES (2, 'scheduled', 'failed', 'boom');
SELECT throws_ok($$SELECT * FROM seatmgr_undo_run((SELECT max(run_id) FROM seatmgr.runs))$$, '55000',
                 'run ' || (SELECT max(run_id) FROM seatmgr.runs) || ' failed and changed nothing: only a succeeded run can be undone',
                 'R16: undoing a failed run is an error (55000 naming the run)');
SELECT throws_ok($$SELECT * FROM seatmgr_undo_run(424242)$$, '23503', 'run 424242 does not exist', 'R16: an unknown run is an error');
SELECT throws_ok($$SELECT * FROM seatmgr_undo_run(NULL)$$, '22004', 'run_id must not be NULL', 'R16: NULL run_id is 22004');
-- a full division with on_full = 'error': the give-back is waitlisted, never an error
UPDATE seatmgr.divisions SET on_full = 'error' WHERE division_id = 2;
UPDATE seatmgr.users SET last_active_at = now() - interval '200 days' WHERE user_id = pg_temp.uid('o5');
UPDATE seatmgr.licenses SET granted_at = now() - interval '365 days' WHERE user_id = pg_temp.uid('o5');
CREATE TEMP TABLE r8 AS SELECT * FROM seatmgr_run(2);
SELECT set_eq($$SELECT u.name, action FROM r8 JOIN u USING (user_id)$$,
              $$VALUES ('o5', 'deactivated'), ('o4', 'added')$$, 'setup: o5 deactivated, o4 gets its seat');
UPDATE seatmgr.users SET last_active_at = now() WHERE user_id = pg_temp.uid('o5');
SELECT is((SELECT free_seats FROM seatmgr.division_seats WHERE division_id = 2), 0::bigint, 'setup: full again');
CREATE TEMP TABLE undo2 AS SELECT * FROM seatmgr_undo_run((SELECT max(run_id) FROM r8));
SELECT results_eq($$SELECT u.name, action, reason, pg_temp.status('o5', 2) FROM undo2 JOIN u USING (user_id)$$,
                  $$VALUES ('o5', 'added', 'undo', 'waitlisted'::text)$$,
                  'R16, section 9: giving back never fails on capacity: in a full division (on_full error too) it is waitlisted, reported added, undo');
SELECT is((SELECT count(*)::int FROM seatmgr.licenses WHERE division_id = 2 AND status = 'active'), 4, 'R16: R6 holds');
-- notices of the undone run are withdrawn; a release is never given back
UPDATE seatmgr.divisions SET seat_limit = NULL, on_full = 'waitlist' WHERE division_id = 2;
UPDATE seatmgr.policies SET notice_period = '7 days', grant_active_within = NULL WHERE division_id = 2;
UPDATE seatmgr.users SET last_active_at = now() - interval '200 days' WHERE user_id IN (pg_temp.uid('o1'), pg_temp.uid('o3'));
UPDATE seatmgr.licenses SET granted_at = now() - interval '365 days' WHERE user_id IN (pg_temp.uid('o1'), pg_temp.uid('o3'));
CREATE TEMP TABLE r9 AS SELECT * FROM seatmgr_run(2);
SELECT set_eq($$SELECT u.name, action FROM r9 JOIN u USING (user_id)$$, $$VALUES ('o1', 'warned'), ('o3', 'warned')$$, 'setup: two notices');
SELECT is(seatmgr_answer_notice((SELECT notice_id FROM seatmgr.notices WHERE user_id = pg_temp.uid('o3') AND division_id = 2), 'release'),
          'released', 'setup: o3 releases');
CREATE TEMP TABLE undo3 AS SELECT * FROM seatmgr_undo_run((SELECT max(run_id) FROM r9));
SELECT results_eq($$SELECT u.name, o.outcome FROM seatmgr.notices o JOIN u USING (user_id) WHERE o.run_id = (SELECT max(run_id) FROM r9) ORDER BY 1$$,
                  $$VALUES ('o1', 'withdrawn'::text), ('o3', 'released')$$,
                  'R16: the undone run''s notices still open are closed withdrawn');
SELECT results_eq($$SELECT count(*)::int, pg_temp.status('o3', 2) FROM undo3$$, $$VALUES (0, 'deactivated'::text)$$,
                  'R15/R16: a release is not a run: the undo never gives that seat back');

-- seatmgr_simulate ---------------------------------------------------------------------------
UPDATE seatmgr.divisions SET seat_limit = NULL WHERE division_id = 1;
-- division 1 as it is now; the same thresholds as its policy sum its preview
SELECT results_eq($$SELECT action, reason, users FROM seatmgr_simulate(1, '90 days', NULL, '7 days') ORDER BY 1, 2$$,
                  $$SELECT action, reason, count(*) FROM seatmgr_run(1, preview => true) GROUP BY 1, 2 ORDER BY 1, 2$$,
                  'simulate: with the policy''s thresholds it sums what a run would do now (the same change set as a preview)');
SELECT results_eq($$SELECT action, reason, users, monthly_cost_change FROM seatmgr_simulate(1, '1 day', NULL) WHERE action = 'deactivated'$$,
                  $$SELECT 'deactivated'::text, 'inactive'::text, count(*), -10 * count(*)::numeric
                      FROM seatmgr.licenses l JOIN seatmgr.users us USING (user_id)
                     WHERE l.division_id = 1 AND l.status = 'active' AND NOT us.is_admin
                       AND greatest(us.last_active_at, l.granted_at) < now() - interval '1 day'
                       AND NOT EXISTS (SELECT 1 FROM seatmgr.exclusions e WHERE e.user_id = us.user_id)$$,
                  'simulate: other thresholds; a deactivated seat costs -seat_price a month');
SELECT is((SELECT count(*)::int FROM seatmgr_simulate(1, NULL, NULL) WHERE action <> 'skipped' OR reason <> 'no seat'), 0,
          'simulate: a NULL threshold switches that step off');
SELECT ok((SELECT bool_and(monthly_cost_change = 0) FROM seatmgr_simulate(1, '1 day', NULL, '7 days') WHERE action IN ('warned', 'skipped')),
          'simulate: monthly_cost_change is 0 on warned and skipped rows');
SELECT ok((SELECT count(*) > 0 FROM seatmgr_simulate(1, '1 day', NULL, '7 days') WHERE action = 'warned'),
          'simulate: notice_period turns deactivations into warnings');
SELECT results_eq($$SELECT action, reason, users, monthly_cost_change FROM seatmgr_simulate(1, NULL, '300 days') WHERE action = 'added'$$,
                  $$SELECT 'added'::text, 'recently active'::text, count(*), 10 * count(*)::numeric
                      FROM seatmgr.users us WHERE us.domain_id = 1
                       AND NOT EXISTS (SELECT 1 FROM seatmgr.licenses l WHERE l.user_id = us.user_id AND l.status = 'active')
                       AND NOT EXISTS (SELECT 1 FROM seatmgr.exclusions e WHERE e.user_id = us.user_id)$$,
                  'simulate: a seat given costs +seat_price a month');
SELECT ok((SELECT bool_and(monthly_cost_change IS NULL) AND count(*) > 0 FROM seatmgr_simulate(2, '1 day', '300 days')),
          'simulate: monthly_cost_change is NULL when the division has no seat_price');
-- a division without a policy: the defaults (admins protected)
INSERT INTO seatmgr.divisions (domain_id, name, seat_price) VALUES (1, 'Nopol', 5);
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 3, 'N');
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
SELECT 3, user_id, now() - interval '365 days' FROM u WHERE name IN ('ivy', 'ann');
SELECT results_eq($$SELECT action, reason, users, monthly_cost_change FROM seatmgr_simulate(3, '90 days', NULL)$$,
                  $$VALUES ('deactivated'::text, 'inactive'::text, 1::bigint, -5::numeric), ('skipped', 'admin', 1, 0)$$,
                  'simulate: without a policy the other settings are the defaults (admins protected)');
CREATE TEMP TABLE counts AS
SELECT (SELECT count(*) FROM seatmgr.runs) r, (SELECT count(*) FROM seatmgr.notices) n,
       (SELECT count(*) FROM seatmgr.license_events) e, (SELECT count(*) FROM seatmgr.run_changes) c;
SELECT * FROM seatmgr_simulate(1, '1 day', '300 days', '1 day');
SELECT results_eq($$SELECT r, n, e, c FROM counts$$,
                  $$SELECT (SELECT count(*) FROM seatmgr.runs), (SELECT count(*) FROM seatmgr.notices),
                           (SELECT count(*) FROM seatmgr.license_events), (SELECT count(*) FROM seatmgr.run_changes)$$,
                  'simulate: writes nothing');
SELECT throws_ok($$SELECT * FROM seatmgr_simulate(1, '0 days', NULL)$$, '22023',
                 'revoke_inactive_after must be a positive interval, not "00:00:00"', 'simulate: a non-positive threshold is 22023 naming it');
SELECT throws_ok($$SELECT * FROM seatmgr_simulate(1, NULL, '200 years')$$, '22023',
                 'grant_active_within must be at most 100 years, not "200 years"', 'simulate: a threshold over 100 years is 22023');
SELECT throws_ok($$SELECT * FROM seatmgr_simulate(1, NULL, NULL, '-1 day')$$, '22023',
                 'notice_period must be a positive interval, not "-1 days"', 'simulate: a bad notice_period is 22023');
SELECT throws_ok($$SELECT * FROM seatmgr_simulate(NULL, NULL, NULL)$$, '22004', 'division_id must not be NULL', 'simulate: NULL division_id is 22004');
SELECT throws_ok($$SELECT * FROM seatmgr_simulate(424242, NULL, NULL)$$, '23503', 'division 424242 does not exist', 'simulate: an unknown division');
-- policies: notice_period is checked like the other intervals
SELECT throws_ok($$UPDATE seatmgr.policies SET notice_period = '0 days' WHERE division_id = 1$$, '23514',
                 'notice_period must be a positive interval, not "00:00:00"', 'R14: notice_period must be positive');

-- a deleted division's notices go with it (no foreign key ties them)
SELECT ok((SELECT count(*) FROM seatmgr.notices WHERE division_id = 2) > 0, 'setup: division 2 has notices');
DELETE FROM seatmgr.divisions WHERE division_id = 2;
SELECT is((SELECT count(*)::int FROM seatmgr.notices WHERE division_id = 2), 0,
          'R14: deleting a division deletes its notices');

-- R14: a notice outlives its licence; a licence no longer active -------------------------
-- division Edge: nine notices, then each licence goes another way
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Edge');
CREATE FUNCTION pg_temp.edge() RETURNS bigint LANGUAGE sql AS $$ SELECT division_id FROM seatmgr.divisions WHERE name = 'Edge' $$;
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, pg_temp.edge(), 'X');
CREATE FUNCTION pg_temp.xteam() RETURNS bigint LANGUAGE sql AS $$ SELECT team_id FROM seatmgr.teams WHERE name = 'X' $$;
INSERT INTO seatmgr.users (domain_id, email, last_active_at)
SELECT 1, n || '@acme.com', now() - interval '200 days' FROM unnest(ARRAY['pa', 'pb', 'pc', 'pd', 'pe', 'pf', 'pg', 'ph', 'pi']) n;
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
SELECT pg_temp.xteam(), user_id, now() - interval '365 days' FROM u WHERE name IN ('pa', 'pb', 'pc', 'pd', 'pe', 'pf', 'pg', 'ph', 'pi');
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after, notice_period) VALUES (pg_temp.edge(), '90 days', '7 days');
CREATE TEMP TABLE e1 AS SELECT * FROM seatmgr_run(pg_temp.edge());
SELECT is((SELECT count(*)::int FROM e1 WHERE action = 'warned'), 9, 'setup: nine notices in division Edge');
CREATE TEMP TABLE edge_old AS
SELECT u.name, o.notice_id FROM seatmgr.notices o JOIN u USING (user_id) WHERE o.division_id = pg_temp.edge();
-- pa: removed (R5), invited again long ago: an idle licence of its own
DELETE FROM seatmgr.team_members WHERE team_id = pg_temp.xteam() AND user_id = pg_temp.uid('pa');
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (pg_temp.xteam(), pg_temp.uid('pa'), now() - interval '365 days');
-- pi: the same, and the removed licence's notice has run out: the new licence is warned, not deactivated
DELETE FROM seatmgr.team_members WHERE team_id = pg_temp.xteam() AND user_id = pg_temp.uid('pi');
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (pg_temp.xteam(), pg_temp.uid('pi'), now() - interval '365 days');
UPDATE seatmgr.notices SET deadline = now() - interval '1 second' WHERE user_id = pg_temp.uid('pi');
-- pb: removed, invited again now: active within T
DELETE FROM seatmgr.team_members WHERE team_id = pg_temp.xteam() AND user_id = pg_temp.uid('pb');
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (pg_temp.xteam(), pg_temp.uid('pb'));
-- pc: removed (R5), not given again; pg: removed by seatmgr_remove_license (R4); ph: the user deleted
DELETE FROM seatmgr.team_members WHERE team_id = pg_temp.xteam() AND user_id = pg_temp.uid('pc');
SELECT seatmgr_remove_license(pg_temp.uid('pg'), pg_temp.edge());
DELETE FROM seatmgr.users WHERE user_id = pg_temp.uid('ph');
SELECT results_eq($$SELECT pg_temp.status('pa', pg_temp.edge()), pg_temp.status('pb', pg_temp.edge()), pg_temp.status('pc', pg_temp.edge()), pg_temp.status('pg', pg_temp.edge())$$,
                  $$VALUES ('active'::text, 'active'::text, NULL::text, NULL::text)$$, 'setup: pa and pb hold new licences, pc and pg none');
-- pd, pf: deactivated by hand (as a restore may); pd and pe then come back into a full division: waitlisted
UPDATE seatmgr.licenses SET status = 'deactivated', deactivated_at = now()
 WHERE division_id = pg_temp.edge() AND user_id IN (pg_temp.uid('pd'), pg_temp.uid('pf'));
DELETE FROM seatmgr.team_members WHERE team_id = pg_temp.xteam() AND user_id = pg_temp.uid('pe');
UPDATE seatmgr.divisions SET seat_limit = (SELECT count(*) FROM seatmgr.licenses WHERE division_id = pg_temp.edge() AND status = 'active')
 WHERE division_id = pg_temp.edge();
SELECT seatmgr_grant_license(pg_temp.uid('pd'), pg_temp.edge());
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (pg_temp.xteam(), pg_temp.uid('pe'));
SELECT results_eq($$SELECT pg_temp.status('pd', pg_temp.edge()), pg_temp.status('pe', pg_temp.edge()), pg_temp.status('pf', pg_temp.edge())$$,
                  $$VALUES ('waitlisted'::text, 'waitlisted'::text, 'deactivated'::text)$$, 'setup: pd and pe wait, pf is deactivated');
SELECT is((SELECT count(*)::int FROM seatmgr.notices WHERE division_id = pg_temp.edge() AND closed_at IS NULL), 9, 'setup: the nine notices are still open');
SELECT matches((SELECT verdict FROM seatmgr_explain(pg_temp.uid('pb')) WHERE division_id = pg_temp.edge()),
               'closes notice [0-9]+ \(license gone\)',
               'R14: seatmgr_explain says the next run closes license gone the notice of a licence removed and given again');
SELECT matches((SELECT verdict FROM seatmgr_explain(pg_temp.uid('pd')) WHERE division_id = pg_temp.edge()),
               'closes notice [0-9]+ \(license gone\)',
               'R14: seatmgr_explain says the next run closes license gone the notice of a waitlisted licence');
CREATE TEMP TABLE previewed_edge AS SELECT user_id, action, reason, last_active_at FROM seatmgr_run(pg_temp.edge(), preview => true);
SELECT set_eq($$SELECT u.name, p.action, p.reason FROM previewed_edge p JOIN u USING (user_id)$$,
              $$VALUES ('pa', 'warned', 'inactive'), ('pi', 'warned', 'inactive')$$,
              'R14: a licence removed and given again has no open notice of its own: an idle one is warned anew, even when the removed licence''s notice ran out');
CREATE TEMP TABLE e2 AS SELECT * FROM seatmgr_run(pg_temp.edge());
CREATE FUNCTION pg_temp.edge_run() RETURNS bigint LANGUAGE sql AS
  $$ SELECT max(run_id) FROM seatmgr.runs WHERE division_id = pg_temp.edge() $$;
SELECT set_eq($$SELECT user_id, action, reason, last_active_at FROM e2$$,
              $$SELECT user_id, action, reason, last_active_at FROM previewed_edge$$,
              'R14/R10: that run writes exactly its preview');
SELECT results_eq($$SELECT e.name, o.outcome, o.closed_at = r.started_at
                      FROM edge_old e JOIN seatmgr.notices o USING (notice_id)
                      JOIN seatmgr.runs r ON r.run_id = pg_temp.edge_run() ORDER BY 1$$,
                  $$VALUES ('pa', 'license gone'::text, true), ('pb', 'license gone', true), ('pc', 'license gone', true),
                           ('pd', 'license gone', true), ('pe', 'license gone', true), ('pf', 'license gone', true),
                           ('pg', 'license gone', true), ('ph', 'license gone', true), ('pi', 'license gone', true)$$,
                  'R14: the next run closes license gone a notice whose licence was removed (R5, R4, the user deleted), given again, waitlisted or deactivated');
SELECT results_eq($$SELECT u.name, o.run_id = pg_temp.edge_run(), o.closed_at IS NULL
                      FROM seatmgr.notices o JOIN u USING (user_id)
                     WHERE o.division_id = pg_temp.edge() AND o.notice_id NOT IN (SELECT notice_id FROM edge_old)$$,
                  $$VALUES ('pa', true, true), ('pi', true, true)$$,
                  'R14: the licence given again gets its own notice, the only open one of its user');
SELECT results_eq($$SELECT pg_temp.status('pa', pg_temp.edge()), pg_temp.status('pb', pg_temp.edge()), pg_temp.status('pd', pg_temp.edge()),
                           pg_temp.status('pe', pg_temp.edge()), pg_temp.status('pi', pg_temp.edge())$$,
                  $$VALUES ('active'::text, 'active'::text, 'waitlisted'::text, 'waitlisted'::text, 'active'::text)$$,
                  'R14: closing license gone changes no licence');
CREATE TEMP TABLE e3 AS SELECT * FROM seatmgr_run(pg_temp.edge());
SELECT results_eq($$SELECT count(*)::int, (SELECT count(*)::int FROM seatmgr.notices WHERE division_id = pg_temp.edge() AND closed_at IS NULL) FROM e3$$,
                  $$VALUES (0, 2)$$, 'R14: the new notices run on in the run after (not taken for the removed licence''s)');

SELECT * FROM finish();
ROLLBACK;
