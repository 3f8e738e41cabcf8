-- R16: undo run $5 of division $1 by the undo run $3 at $2 ($4 actor).
-- Every licence run $5 deactivated (its run changes 'deactivated') that is
-- still deactivated by it comes back, its clock restarting: a former waiter
-- to the waitlist, the others active while the division has free seats
-- (R6, in user_id order) and waitlisted after, never an error.  Each is
-- reported 'added', reason 'undo'; the others, which changed since,
-- 'skipped', reason 'changed since'.  Run $5's notices still open are
-- closed 'withdrawn'.  The caller holds the division row and its seat
-- counter (docs/locking.md).  Returns the seats given back.  Compiled into
-- the library as UNDO_RUN_SQL (src/sweep.c).
WITH taken AS (
  SELECT c.user_id FROM seatmgr.run_changes c WHERE c.run_id = $5 AND c.action = 'deactivated'),
 back AS (
  SELECT l.user_id,
         -- a waiter before the run: the licence's last event before the run's deactivation
         coalesce((SELECT e.event = 'waitlisted' FROM seatmgr.license_events e
                    WHERE e.user_id = l.user_id AND e.division_id = $1
                      AND e.event_id < (SELECT pg_catalog.max(x.event_id) FROM seatmgr.license_events x
                                         WHERE x.user_id = l.user_id AND x.division_id = $1
                                           AND x.run_id = $5 AND x.event = 'deactivated')
                    ORDER BY e.event_id DESC LIMIT 1), false) AS waiter
    FROM seatmgr.licenses l JOIN taken t ON t.user_id = l.user_id
   WHERE l.division_id = $1 AND l.status = 'deactivated' AND l.deactivated_by_run = $5
   ORDER BY l.user_id FOR UPDATE OF l),
 free AS (
  SELECT CASE WHEN d.seat_limit IS NOT NULL
              THEN greatest(d.seat_limit - coalesce(sc.active, d.seat_limit), 0) END AS seats
    FROM seatmgr.divisions d LEFT JOIN seatmgr.seat_counts sc ON sc.division_id = d.division_id
   WHERE d.division_id = $1),
 given AS (
  SELECT b.user_id,
         CASE WHEN NOT b.waiter AND (f.seats IS NULL
                   OR pg_catalog.row_number() OVER (PARTITION BY b.waiter ORDER BY b.user_id) <= f.seats)
              THEN 'active' ELSE 'waitlisted' END AS status
    FROM back b, free f),
 upd AS (
  UPDATE seatmgr.licenses l SET status = g.status, granted_at = $2, deactivated_at = NULL, deactivated_by_run = NULL
    FROM given g WHERE l.user_id = g.user_id AND l.division_id = $1
  RETURNING l.user_id, l.status),
 ev AS (
  INSERT INTO seatmgr.license_events (at, user_id, division_id, event, source_kind, source_ref, run_id, actor)
  SELECT $2, u.user_id, $1, CASE u.status WHEN 'active' THEN 'reactivated' ELSE 'waitlisted' END,
         NULL, NULL, $3, $4
    FROM upd u ORDER BY u.user_id),
 rc AS (
  INSERT INTO seatmgr.run_changes (run_id, user_id, action, reason, last_active_at)
  SELECT $3, t.user_id, CASE WHEN u.user_id IS NULL THEN 'skipped' ELSE 'added' END,
         CASE WHEN u.user_id IS NULL THEN 'changed since' ELSE 'undo' END, us.last_active_at
    FROM taken t
    JOIN seatmgr.users us ON us.user_id = t.user_id
    LEFT JOIN upd u ON u.user_id = t.user_id),
 seats AS (
  UPDATE seatmgr.seat_counts SET active = active + (SELECT pg_catalog.count(*) FROM upd u WHERE u.status = 'active')
   WHERE division_id = $1),
 withdrawn AS (
  UPDATE seatmgr.notices o SET closed_at = $2, outcome = 'withdrawn'
   WHERE o.domain_id = (SELECT d.domain_id FROM seatmgr.divisions d WHERE d.division_id = $1)
     AND o.division_id = $1 AND o.run_id = $5 AND o.closed_at IS NULL)
SELECT (SELECT pg_catalog.count(*) FROM upd u WHERE u.status = 'active')
