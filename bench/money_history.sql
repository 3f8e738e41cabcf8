-- bench/money_history.sql: a year of licence history in seatmgr.license_events
-- for the population of bench/generate.sql (which imports licences without
-- events), so that seatmgr_seats_at and seatmgr_cost have events to walk.
-- Committed, as a superuser (a restore-like load; the triggers stay quiet).
--
-- Each licence is granted on one of the 200 days after a year ago (waitlisted
-- licences only wait); two in five were deactivated 60 days later and
-- reactivated 30 days after that; deactivated licences end deactivated 120
-- days after their grant.  One active licence in ten was held once before,
-- for 29 days, and removed.  The licences' current state is
-- what the last event says, so seatmgr_seats_at(now()) equals
-- seatmgr.division_seats.

\set ON_ERROR_STOP on
SET session_replication_role = replica;
TRUNCATE seatmgr.license_events RESTART IDENTITY;
INSERT INTO seatmgr.license_events (at, user_id, division_id, event, actor)
SELECT e.at, l.user_id, e.division_id, e.event, 'bench'
  FROM (SELECT l.user_id, l.division_id, l.status,
               pg_catalog.now() - interval '365 days' + (l.user_id % 200) * interval '1 day' AS t0
          FROM seatmgr.licenses l) l,
       LATERAL (VALUES (l.t0, l.division_id, CASE l.status WHEN 'waitlisted' THEN 'waitlisted' ELSE 'granted' END,
                        true),
                       (l.t0 + interval '60 days', l.division_id, 'deactivated', l.status <> 'waitlisted' AND l.user_id % 5 < 2),
                       (l.t0 + interval '90 days', l.division_id, 'reactivated', l.status <> 'waitlisted' AND l.user_id % 5 < 2),
                       (l.t0 + interval '120 days', l.division_id, 'deactivated', l.status = 'deactivated'),
                       (l.t0 - interval '30 days', l.division_id, 'granted', l.user_id % 10 = 7 AND l.status = 'active'),
                       (l.t0 - interval '1 day', l.division_id, 'removed', l.user_id % 10 = 7 AND l.status = 'active'))
               e(at, division_id, event, keep)
 WHERE e.keep
 ORDER BY e.at;
RESET session_replication_role;
VACUUM ANALYZE seatmgr.license_events;
SELECT pg_catalog.count(*) AS events FROM seatmgr.license_events;
