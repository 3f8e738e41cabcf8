-- pgTAP: money and time (SPEC sections 4 and 9 "Money", "Times"; issue 10):
-- seatmgr_seats_at, seatmgr_cost, seatmgr.billable_users, seatmgr.idle_seats,
-- seatmgr.license_periods and run_history's seat_change and
-- monthly_cost_change, each read as the owner and as scoped roles (R20).
--
-- Every licence change of the story below happens in this one transaction,
-- so its events are given fixed times in January 2020 afterwards
-- (pg_temp.stamp), as if each step had happened on its own day; the seats,
-- spans and costs are then known numbers (docs/money.md works the same story).
BEGIN;
CREATE EXTENSION seatmgr;
SELECT no_plan();
SET LOCAL timezone = 'UTC';   -- the periods and messages below are written in UTC

-- acme.com (1): Eng (1: 2 seats, 30 per seat per 30 days = 1 a day), Sales (2: 15),
-- Community (3: paid off later), Old (4: deleted later); other.com (2): Theirs (5, no price)
INSERT INTO seatmgr.domains (name) VALUES ('acme.com'), ('other.com');
INSERT INTO seatmgr.divisions (domain_id, name, seat_limit, seat_price) VALUES
  (1, 'Eng', 2, 30), (1, 'Sales', NULL, 15), (1, 'Community', NULL, 5), (1, 'Old', NULL, 10), (2, 'Theirs', NULL, NULL);
INSERT INTO seatmgr.users (domain_id, email)
SELECT 1, 'u' || i || '@acme.com' FROM generate_series(1, 5) i;                            -- 1-5
INSERT INTO seatmgr.users (domain_id, email) VALUES (2, 'zed@other.com');                   -- 6

-- the events written since the last stamp happened at t
CREATE FUNCTION pg_temp.stamp(t timestamptz) RETURNS void LANGUAGE sql AS $$
  UPDATE seatmgr.license_events SET at = t WHERE at >= '2021-01-01'
$$;
-- seatmgr_seats_at(t) as 'division:active ...'
CREATE FUNCTION pg_temp.seats(t timestamptz) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(division_id || ':' || active, ' ' ORDER BY division_id) FROM seatmgr_seats_at(t)
$$;
GRANT EXECUTE ON FUNCTION pg_temp.seats(timestamptz) TO PUBLIC;

-- 2020-01-01: u1 in Eng and Sales, zed in Theirs
SELECT seatmgr_grant_license(1, 1), seatmgr_grant_license(1, 2), seatmgr_grant_license(6, 5);
SELECT pg_temp.stamp('2020-01-01');
-- 2020-01-02: u2 takes Eng's second seat; u5 in Sales and Community, u4 in Community
SELECT seatmgr_grant_license(2, 1), seatmgr_grant_license(5, 2), seatmgr_grant_license(5, 3), seatmgr_grant_license(4, 3);
SELECT pg_temp.stamp('2020-01-02');
-- 2020-01-03: Eng is full, u3 waits; u5 in Old
SELECT is(seatmgr_grant_license(3, 1), 'waitlisted', 'story: u3 waits for a seat in Eng');
SELECT seatmgr_grant_license(5, 4);
SELECT pg_temp.stamp('2020-01-03');
UPDATE seatmgr.divisions SET paid = false WHERE division_id = 3;   -- keeps its licences (R4)
-- 2020-01-04: u1 leaves Eng, u3 gets the seat from the waitlist
SELECT seatmgr_remove_license(1, 1);
SELECT pg_temp.stamp('2020-01-04');
-- 2020-01-05: a run deactivates u2, idle since the grant
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after) VALUES (1, '30 days');
UPDATE seatmgr.licenses SET granted_at = '2020-01-02' WHERE user_id = 2 AND division_id = 1;
SELECT is((SELECT string_agg(user_id || ' ' || action, ', ') FROM seatmgr_run(1)), '2 deactivated', 'story: run 1 deactivates u2');
SELECT pg_temp.stamp('2020-01-05');
-- 2020-01-06: a team membership reactivates u2 (R9)
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'Eng team');
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 2);
SELECT pg_temp.stamp('2020-01-06');
-- 2020-01-07: u4 waits for Eng; 2020-01-08: u4 leaves the waitlist
SELECT is(seatmgr_grant_license(4, 1), 'waitlisted', 'story: u4 waits for a seat in Eng');
SELECT pg_temp.stamp('2020-01-07');
SELECT seatmgr_remove_license(4, 1);
SELECT pg_temp.stamp('2020-01-08');
-- 2020-01-09: run 2 deactivates u2 again
UPDATE seatmgr.licenses SET granted_at = '2020-01-06' WHERE user_id = 2 AND division_id = 1;
SELECT is((SELECT string_agg(user_id || ' ' || action, ', ') FROM seatmgr_run(1)), '2 deactivated', 'story: run 2 deactivates u2 again');
SELECT pg_temp.stamp('2020-01-09');
-- 2020-01-10: u2's deactivated licence is removed; division Old is deleted
SELECT seatmgr_remove_license(2, 1);
DELETE FROM seatmgr.divisions WHERE division_id = 4;
SELECT pg_temp.stamp('2020-01-10');
-- 2020-01-11: u3 in Sales too
SELECT seatmgr_grant_license(3, 2);
SELECT pg_temp.stamp('2020-01-11');

SELECT is((SELECT string_agg(event, ',' ORDER BY event_id) FROM seatmgr.license_events WHERE user_id = 2 AND division_id = 1),
          'granted,deactivated,reactivated,deactivated,removed', 'story: the events of u2 in Eng');

------------------------------------------------------------------------------
-- seatmgr_seats_at
------------------------------------------------------------------------------
SELECT is(pg_temp.seats('2019-12-31'), '1:0 2:0 3:0 5:0',
          'seatmgr_seats_at: before any grant, every division has 0 seats (a deleted division without seats is not listed)');
SELECT is(pg_temp.seats('2020-01-01'), '1:1 2:1 3:0 5:1',
          'seatmgr_seats_at: a grant counts from its own moment on');
SELECT is(pg_temp.seats('2020-01-02 12:00'), '1:2 2:2 3:2 5:1',
          'seatmgr_seats_at: after more grants');
SELECT is(pg_temp.seats('2020-01-03 12:00'), '1:2 2:2 3:2 4:1 5:1',
          'seatmgr_seats_at: a waitlisted licence holds no seat; a division deleted since is listed while it had seats');
SELECT is(pg_temp.seats('2020-01-04 12:00'), '1:2 2:2 3:2 4:1 5:1',
          'seatmgr_seats_at: a removal frees the seat, and the waiter given it from the waitlist holds it');
SELECT is(pg_temp.seats('2020-01-05'), '1:1 2:2 3:2 4:1 5:1',
          'seatmgr_seats_at: a deactivation ends the seat at its own moment');
SELECT is(pg_temp.seats('2020-01-06 12:00'), '1:2 2:2 3:2 4:1 5:1',
          'seatmgr_seats_at: a reactivation gives the seat back');
SELECT is(pg_temp.seats('2020-01-07 12:00'), '1:2 2:2 3:2 4:1 5:1',
          'seatmgr_seats_at: a grant into a full division (waitlisted) adds no seat');
SELECT is(pg_temp.seats('2020-01-08 12:00'), '1:2 2:2 3:2 4:1 5:1',
          'seatmgr_seats_at: removing a waitlisted licence frees no seat');
SELECT is(pg_temp.seats('2020-01-09 12:00'), '1:1 2:2 3:2 4:1 5:1',
          'seatmgr_seats_at: a second deactivation of the same licence');
SELECT is(pg_temp.seats('2020-01-10 12:00'), '1:1 2:2 3:2 5:1',
          'seatmgr_seats_at: removing a deactivated licence changes nothing; a deleted division is gone after its deletion');
SELECT is(pg_temp.seats(now()), (SELECT string_agg(division_id || ':' || active, ' ' ORDER BY division_id) FROM seatmgr.division_seats),
          'seatmgr_seats_at: now() gives the seats of seatmgr.division_seats');
SELECT is(pg_temp.seats(now() + interval '1 year'), pg_temp.seats(now()),
          'seatmgr_seats_at: a later moment gives the seats of now');
SELECT throws_ok($$SELECT * FROM seatmgr_seats_at(NULL)$$, '22004', 'at must not be NULL',
                 'seatmgr_seats_at: NULL is refused, naming the argument');
SELECT throws_ok($$SELECT * FROM seatmgr_seats_at('infinity')$$, '22023', 'at must be a finite time, not "infinity"',
                 'seatmgr_seats_at: an infinite time is refused, naming it');

------------------------------------------------------------------------------
-- seatmgr.license_periods
------------------------------------------------------------------------------
SELECT results_eq(
  $$SELECT user_id, division_id, period::text FROM seatmgr.license_periods ORDER BY user_id, division_id, period$$,
  $$VALUES (1::bigint, 1::bigint, '["2020-01-01 00:00:00+00","2020-01-04 00:00:00+00")'),
           (1, 2, '["2020-01-01 00:00:00+00",)'),
           (2, 1, '["2020-01-02 00:00:00+00","2020-01-05 00:00:00+00")'),
           (2, 1, '["2020-01-06 00:00:00+00","2020-01-09 00:00:00+00")'),
           (3, 1, '["2020-01-04 00:00:00+00",)'),
           (3, 2, '["2020-01-11 00:00:00+00",)'),
           (4, 3, '["2020-01-02 00:00:00+00",)'),
           (5, 2, '["2020-01-02 00:00:00+00",)'),
           (5, 3, '["2020-01-02 00:00:00+00",)'),
           (5, 4, '["2020-01-03 00:00:00+00","2020-01-10 00:00:00+00")'),
           (6, 5, '["2020-01-01 00:00:00+00",)')$$,
  'license_periods: one row per span a licence was active, open-ended while active; none for a licence that only waited');
SELECT ok((SELECT bool_and(upper_inf(period) = (l.status = 'active'))
             FROM seatmgr.license_periods p
             LEFT JOIN seatmgr.licenses l ON l.user_id = p.user_id AND l.division_id = p.division_id
            WHERE upper_inf(p.period) OR l.status = 'active'),
          'license_periods: exactly the active licences have an open-ended period');
SELECT is((SELECT count(*) FROM seatmgr.license_periods WHERE user_id = 2), 2::bigint,
          'license_periods: "was this user ever licensed": u2, who holds no licence now, had two periods');

------------------------------------------------------------------------------
-- seatmgr_cost
------------------------------------------------------------------------------
SELECT results_eq(
  $$SELECT division_id, division, seat_days, cost FROM seatmgr_cost('2020-01-01', '2020-01-11')$$,
  $$VALUES (1::bigint, 'Eng'::text, 16::numeric, 16::numeric), (2, 'Sales', 19, 9.5), (5, 'Theirs', 10, NULL)$$,
  'seatmgr_cost: seat-days over a period, seat_price per seat per 30 days; a row for every paid division, cost NULL without a price');
SELECT results_eq(
  $$SELECT seat_days, cost FROM seatmgr_cost('2020-01-01 00:00:00', '2020-01-01 00:14:24') WHERE division_id = 1$$,
  $$VALUES (0.01::numeric, 0.01::numeric)$$,
  'seatmgr_cost: prorated to the second (864 seconds of one seat at 30 per 30 days cost 0.01)');
SELECT is((SELECT round(seat_days * 86400, 9) FROM seatmgr_cost('2020-01-01 12:00:00', '2020-01-01 12:00:01') WHERE division_id = 1),
          1::numeric, 'seatmgr_cost: one second of one seat');
SELECT results_eq(
  $$SELECT division_id, seat_days, cost FROM seatmgr_cost('2020-01-05', '2020-01-05')$$,
  $$VALUES (1::bigint, 0::numeric, 0::numeric), (2, 0, 0), (5, 0, NULL)$$,
  'seatmgr_cost: an empty period costs 0');
SELECT results_eq(
  $$SELECT division_id, seat_days, cost FROM seatmgr_cost(now() - interval '1 day', now() + interval '30 days')$$,
  $$VALUES (1::bigint, 1::numeric, 1::numeric), (2, 3, 1.5), (5, 1, NULL)$$,
  'seatmgr_cost: only time up to least(to_at, now()) counts');
SELECT is((SELECT count(*) FROM seatmgr_cost(now() + interval '1 day', now() + interval '2 days') WHERE seat_days = 0), 3::bigint,
          'seatmgr_cost: a period in the future costs 0');
SELECT throws_ok($$SELECT * FROM seatmgr_cost(NULL, now())$$, '22004', 'from_at must not be NULL',
                 'seatmgr_cost: a NULL from_at is refused, naming it');
SELECT throws_ok($$SELECT * FROM seatmgr_cost(now(), NULL)$$, '22004', 'to_at must not be NULL',
                 'seatmgr_cost: a NULL to_at is refused, naming it');
SELECT throws_ok($$SELECT * FROM seatmgr_cost('2020-01-02', '2020-01-01')$$, '22023',
                 'from_at "2020-01-02 00:00:00+00" is later than to_at "2020-01-01 00:00:00+00"',
                 'seatmgr_cost: from_at later than to_at is refused, naming both');
SELECT throws_ok($$SELECT * FROM seatmgr_cost('-infinity', '2020-01-01')$$, '22023',
                 'from_at must be a finite time, not "-infinity"',
                 'seatmgr_cost: an infinite from_at is refused, naming it');
SELECT throws_ok($$SELECT * FROM seatmgr_cost('2020-01-01', 'infinity')$$, '22023',
                 'to_at must be a finite time, not "infinity"',
                 'seatmgr_cost: an infinite to_at is refused, naming it');

------------------------------------------------------------------------------
-- seatmgr.billable_users
------------------------------------------------------------------------------
SELECT results_eq(
  $$SELECT domain_id, domain, user_id, email, licenses, monthly_cost FROM seatmgr.billable_users ORDER BY domain_id, user_id$$,
  $$VALUES (1::bigint, 'acme.com'::text, 1::bigint, 'u1@acme.com'::text, 1::bigint, 15::numeric),
           (1, 'acme.com', 3, 'u3@acme.com', 2, 45),
           (1, 'acme.com', 5, 'u5@acme.com', 1, 15),
           (2, 'other.com', 6, 'zed@other.com', 1, NULL)$$,
  'billable_users: one row per user with an active licence in a paid division, counted once across two divisions (u3), not at all for an unpaid one (u4), with the licences and their monthly cost');
SELECT results_eq($$SELECT domain, count(*) FROM seatmgr.billable_users GROUP BY domain ORDER BY domain$$,
                  $$VALUES ('acme.com'::text, 3::bigint), ('other.com', 1)$$,
                  'billable_users: a count per domain is a GROUP BY away');

------------------------------------------------------------------------------
-- seatmgr.idle_seats
------------------------------------------------------------------------------
UPDATE seatmgr.licenses SET granted_at = now() - interval '40 days' WHERE user_id = 3 AND division_id = 1;
UPDATE seatmgr.users SET last_active_at = now() - interval '35 days' WHERE user_id = 3;
UPDATE seatmgr.licenses SET granted_at = now() - interval '100 days' WHERE user_id = 1 AND division_id = 2;
UPDATE seatmgr.licenses SET granted_at = now() - interval '80 days' WHERE user_id = 5 AND division_id = 2;
SELECT results_eq(
  $$SELECT domain_id, user_id, email, division_id, division, last_activity, idle_for, idle_after, seat_price
      FROM seatmgr.idle_seats ORDER BY division_id, user_id$$,
  $$VALUES (1::bigint, 3::bigint, 'u3@acme.com'::text, 1::bigint, 'Eng'::text, now() - interval '35 days', interval '35 days', interval '30 days', 30::numeric),
           (1, 1, 'u1@acme.com', 2, 'Sales', now() - interval '100 days', interval '100 days', interval '90 days', 15)$$,
  'idle_seats: the policy''s revoke_inactive_after (Eng, 30 days), or 90 days without a policy (Sales); last activity as R7 (the later of last_active_at and granted_at)');
INSERT INTO seatmgr.policies (division_id, grant_active_within) VALUES (2, '30 days');
SELECT is((SELECT string_agg(user_id || ':' || idle_after, ' ' ORDER BY user_id) FROM seatmgr.idle_seats WHERE division_id = 2),
          '1:90 days', 'idle_seats: 90 days with a policy without revoke_inactive_after');
UPDATE seatmgr.policies SET revoke_inactive_after = '60 days' WHERE division_id = 2;
SELECT is((SELECT string_agg(user_id || ':' || idle_after, ' ' ORDER BY user_id) FROM seatmgr.idle_seats WHERE division_id = 2),
          '1:60 days 5:60 days', 'idle_seats: a shorter revoke_inactive_after shows more idle seats');
SELECT is((SELECT count(*) FROM seatmgr.idle_seats WHERE user_id = 4), 0::bigint,
          'idle_seats: an unpaid division''s licence u4 never used (granted now) is not idle');

------------------------------------------------------------------------------
-- seatmgr.run_history: run_id, seat_change, monthly_cost_change
------------------------------------------------------------------------------
INSERT INTO seatmgr.runs (division_id, trigger, status, users_added, users_deactivated, error)
VALUES (1, 'scheduled', 'failed', 0, 0, 'boom');               -- run 3: what a failed scheduled run leaves
SELECT results_eq(
  $$SELECT run_id, status, users_added, users_deactivated, seat_change, monthly_cost_change FROM seatmgr.run_history ORDER BY run_id$$,
  $$VALUES (1::bigint, 'succeeded'::text, 0, 1, -1, -30::numeric), (2, 'succeeded', 0, 1, -1, -30), (3, 'failed', 0, 0, 0, NULL)$$,
  'run_history: run_id, seat_change = added - deactivated, monthly_cost_change = seat_change * seat_price, NULL for a failed run');
SELECT count(*) FROM seatmgr_run(2);   -- run 4: Sales, 60 days: deactivates u1 and u5 (no grant)
SELECT is((SELECT seat_change || ' ' || monthly_cost_change FROM seatmgr.run_history WHERE run_id = 4), '-2 -30',
          'run_history: a run of a division priced 15 that frees two seats saves 30 a month');
UPDATE seatmgr.divisions SET seat_price = NULL WHERE division_id = 2;
SELECT is((SELECT monthly_cost_change FROM seatmgr.run_history WHERE run_id = 4), NULL,
          'run_history: monthly_cost_change is NULL without a seat_price');

------------------------------------------------------------------------------
-- R20: scoped readers see their rows only
------------------------------------------------------------------------------
CREATE ROLE seatmgr_m_reader_acme; CREATE ROLE seatmgr_m_reader_eng; CREATE ROLE seatmgr_m_admin_eng; CREATE ROLE seatmgr_m_app;
SELECT seatmgr_allow('seatmgr_m_reader_acme', 'reader', domain_id => 1);
SELECT seatmgr_allow('seatmgr_m_reader_eng', 'reader', division_id => 1);
SELECT seatmgr_allow('seatmgr_m_admin_eng', 'admin', division_id => 1);
SELECT seatmgr_allow('seatmgr_m_app', 'app');
SELECT ok(has_function_privilege('seatmgr_m_reader_acme', 'seatmgr_seats_at(timestamptz)', 'EXECUTE')
          AND has_function_privilege('seatmgr_m_reader_acme', 'seatmgr_cost(timestamptz, timestamptz)', 'EXECUTE')
          AND has_function_privilege('seatmgr_m_admin_eng', 'seatmgr_seats_at(timestamptz)', 'EXECUTE')
          AND has_function_privilege('seatmgr_m_admin_eng', 'seatmgr_cost(timestamptz, timestamptz)', 'EXECUTE')
          AND has_table_privilege('seatmgr_m_reader_acme', 'seatmgr.billable_users', 'SELECT')
          AND has_table_privilege('seatmgr_m_reader_acme', 'seatmgr.idle_seats', 'SELECT')
          AND has_table_privilege('seatmgr_m_reader_acme', 'seatmgr.license_periods', 'SELECT')
          AND has_table_privilege('seatmgr_m_admin_eng', 'seatmgr.license_periods', 'SELECT'),
          'section 8: reader and admin may call seatmgr_seats_at and seatmgr_cost and read billable_users, idle_seats, license_periods');
SELECT ok(NOT has_function_privilege('seatmgr_m_app', 'seatmgr_seats_at(timestamptz)', 'EXECUTE')
          AND NOT has_function_privilege('seatmgr_m_app', 'seatmgr_cost(timestamptz, timestamptz)', 'EXECUTE')
          AND NOT has_table_privilege('seatmgr_m_app', 'seatmgr.billable_users', 'SELECT')
          AND NOT has_table_privilege('seatmgr_m_app', 'seatmgr.idle_seats', 'SELECT')
          AND NOT has_table_privilege('seatmgr_m_app', 'seatmgr.license_periods', 'SELECT'),
          'section 8: app may not call seatmgr_seats_at or seatmgr_cost nor read billable_users, idle_seats, license_periods');

SET LOCAL ROLE seatmgr_m_app;
SELECT throws_ok($$SELECT * FROM seatmgr_cost('2020-01-01', '2020-01-02')$$, '42501', 'permission denied for function seatmgr_cost',
                 'section 8: app may not call seatmgr_cost');
SELECT throws_ok($$SELECT * FROM seatmgr_seats_at('2020-01-01')$$, '42501', 'permission denied for function seatmgr_seats_at',
                 'section 8: app may not call seatmgr_seats_at');
SELECT throws_ok($$SELECT * FROM seatmgr.billable_users$$, '42501', 'permission denied for view billable_users',
                 'section 8: app may not read billable_users');

SET LOCAL ROLE seatmgr_m_reader_acme;
SELECT is(pg_temp.seats('2020-01-03 12:00'), '1:2 2:2 3:2',
          'R20: seatmgr_seats_at for a domain-scoped reader: the divisions of its domain only (not other.com''s, nor a deleted one)');
SELECT is((SELECT string_agg(division_id::text, ' ' ORDER BY division_id) FROM seatmgr_cost('2020-01-01', '2020-01-11')), '1 2',
          'R20: seatmgr_cost for a domain-scoped reader: the paid divisions of its domain only');
SELECT is((SELECT string_agg(DISTINCT division_id::text, ' ') FROM seatmgr.license_periods), '1 2 3',
          'R20: license_periods for a domain-scoped reader: the licences of its domain only');
SELECT is((SELECT string_agg(user_id::text, ' ' ORDER BY user_id) FROM seatmgr.billable_users), '3',
          'R20: billable_users for a domain-scoped reader: the users of its domain only');
SELECT is((SELECT string_agg(DISTINCT domain_id::text, ' ') FROM seatmgr.idle_seats), '1',
          'R20: idle_seats for a domain-scoped reader: its domain only');

SET LOCAL ROLE seatmgr_m_reader_eng;
SELECT is(pg_temp.seats('2020-01-03 12:00'), '1:2',
          'R20: seatmgr_seats_at for a division-scoped reader: its division only');
SELECT is((SELECT string_agg(division_id || ':' || seat_days, ' ') FROM seatmgr_cost('2020-01-01', '2020-01-11')), '1:16',
          'R20: seatmgr_cost for a division-scoped reader: its division only');
SELECT is((SELECT string_agg(DISTINCT division_id::text, ' ') FROM seatmgr.license_periods), '1',
          'R20: license_periods for a division-scoped reader: its division only');
SELECT is((SELECT string_agg(user_id || ':' || licenses, ' ' ORDER BY user_id) FROM seatmgr.billable_users), '3:1',
          'R20: billable_users for a division-scoped reader: the users of its division, with its licence only');
SELECT is((SELECT string_agg(DISTINCT division_id::text, ' ') FROM seatmgr.idle_seats), '1',
          'R20: idle_seats for a division-scoped reader: its division only');

SET LOCAL ROLE seatmgr_m_admin_eng;
SELECT is((SELECT string_agg(division_id::text, ' ') FROM seatmgr_cost('2020-01-01', '2020-01-11')), '1',
          'R20: seatmgr_cost for a division-scoped admin: its division only');
RESET ROLE;

------------------------------------------------------------------------------
-- deleting a user or a domain ends its seats (SPEC section 5: removed events)
------------------------------------------------------------------------------
INSERT INTO seatmgr.users (domain_id, email) VALUES (2, 'yan@other.com');                   -- 7
SELECT seatmgr_grant_license(7, 5);
DELETE FROM seatmgr.users WHERE user_id = 6;
SELECT is((SELECT active FROM seatmgr_seats_at(now()) WHERE division_id = 5), 1::bigint,
          'seatmgr_seats_at: a deleted user''s seat ends with the deletion');
SELECT ok((SELECT NOT upper_inf(period) FROM seatmgr.license_periods WHERE user_id = 6),
          'license_periods: a deleted user''s period is closed');
DELETE FROM seatmgr.domains WHERE domain_id = 2;
SELECT is((SELECT count(*) FROM seatmgr_seats_at(now()) WHERE division_id = 5), 0::bigint,
          'seatmgr_seats_at: the division of a deleted domain has no seat (and no row) after the deletion');
SELECT is((SELECT active FROM seatmgr_seats_at('2020-01-05') WHERE division_id = 5), 1::bigint,
          'seatmgr_seats_at: before the deletion, its seats are still counted');

SELECT * FROM finish();
ROLLBACK;
