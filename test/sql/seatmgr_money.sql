-- seatmgr_money: money and time as a person reads them (SPEC sections 4 and 9,
-- "Money", "Times"; docs/money.md): seats on a past date, the cost of a
-- period, billable users, idle seats, licence periods, run history.
-- Each step's events are given a fixed day of January 2020 (seatmgr records
-- the transaction's time), so every number below is known.
CREATE EXTENSION seatmgr;
SET timezone = 'UTC';
\set VERBOSITY default
INSERT INTO seatmgr.domains (name) VALUES ('acme.com');
-- Eng: 2 seats at 30 per seat per 30 days (1 a day); Sales: 15; Community: unpaid later
INSERT INTO seatmgr.divisions (domain_id, name, seat_limit, seat_price) VALUES
  (1, 'Eng', 2, 30), (1, 'Sales', NULL, 15), (1, 'Community', NULL, 5);
INSERT INTO seatmgr.users (domain_id, email) VALUES
  (1, 'ann@acme.com'), (1, 'bob@acme.com'), (1, 'cid@acme.com'), (1, 'dee@acme.com');
CREATE FUNCTION stamp(t timestamptz) RETURNS void LANGUAGE sql
  AS $$ UPDATE seatmgr.license_events SET at = t WHERE at >= '2021-01-01' $$;

-- 2020-01-01: Ann and Bob take Eng's two seats; Ann is in Sales too
SELECT seatmgr_grant_license(1, 1), seatmgr_grant_license(2, 1), seatmgr_grant_license(1, 2);
SELECT stamp('2020-01-01');
-- 2020-01-02: Cid waits for Eng; Dee is in Community, which is then no longer paid
SELECT seatmgr_grant_license(3, 1), seatmgr_grant_license(4, 3);
SELECT stamp('2020-01-02');
UPDATE seatmgr.divisions SET paid = false WHERE division_id = 3;
-- 2020-01-11: Ann leaves Eng, Cid gets her seat from the waitlist
SELECT seatmgr_remove_license(1, 1);
SELECT stamp('2020-01-11');
-- 2020-01-21: a run takes Bob's seat (idle since his grant)
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after) VALUES (1, '30 days');
UPDATE seatmgr.licenses SET granted_at = '2020-01-01' WHERE user_id = 2;
SELECT user_id, email, action, reason FROM seatmgr_run(1);
SELECT stamp('2020-01-21');

-- true-ups: the seats on any past date
SELECT * FROM seatmgr_seats_at('2019-12-31');
SELECT * FROM seatmgr_seats_at('2020-01-02 12:00');
SELECT * FROM seatmgr_seats_at('2020-01-11');
SELECT * FROM seatmgr_seats_at('2020-02-01');

-- "was this user ever licensed, and when"
SELECT p.user_id, u.email, p.division_id, p.period
  FROM seatmgr.license_periods p JOIN seatmgr.users u USING (user_id)
 ORDER BY p.user_id, p.division_id, p.period;

-- what January cost (Eng: Ann 10 days, Bob 20, Cid 21 = 51 seat-days)
SELECT * FROM seatmgr_cost('2020-01-01', '2020-02-01');
-- prorated to the second: a quarter of a day of Sales (one seat, 15 per 30 days)
SELECT * FROM seatmgr_cost('2020-01-05 06:00', '2020-01-05 12:00') WHERE division = 'Sales';

-- billable users as Atlassian counts them, and the count per domain
SELECT * FROM seatmgr.billable_users ORDER BY user_id;
SELECT domain, count(*) AS billable, sum(monthly_cost) AS monthly_cost FROM seatmgr.billable_users GROUP BY domain;

-- the run's effect on the bill
SELECT run_id, division, status, users_added, users_deactivated, seat_change, monthly_cost_change
  FROM seatmgr.run_history;

-- the dormant users: Cid idle 35 days in Eng (policy: 30 days), Ann 100 days in Sales (no policy: 90)
BEGIN;
UPDATE seatmgr.licenses SET granted_at = now() - interval '35 days' WHERE user_id = 3 AND division_id = 1;
UPDATE seatmgr.licenses SET granted_at = now() - interval '100 days' WHERE user_id = 1 AND division_id = 2;
SELECT user_id, email, division, last_activity = now() - interval '35 days' OR last_activity = now() - interval '100 days' AS last_activity_ok,
       idle_for, idle_after, seat_price
  FROM seatmgr.idle_seats ORDER BY user_id;
COMMIT;

-- bad input
SELECT * FROM seatmgr_seats_at(NULL);
SELECT * FROM seatmgr_seats_at('infinity');
SELECT * FROM seatmgr_cost(NULL, '2020-01-01');
SELECT * FROM seatmgr_cost('2020-01-01', NULL);
SELECT * FROM seatmgr_cost('2020-02-01', '2020-01-01');
SELECT * FROM seatmgr_cost('-infinity', '2020-01-01');
SELECT * FROM seatmgr_cost('2020-01-01', 'infinity');

DROP FUNCTION stamp(timestamptz);
SET seatmgr.allow_drop_with_licenses = on;
DROP EXTENSION seatmgr;
