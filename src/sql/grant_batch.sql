-- R1 and R3 for the rows one INSERT statement adds, set-based.  The C code
-- puts a CTE "src" in front, (user_id, division_id, kind, ref_id, added_at):
-- a source for each new team membership (kind 'team') or group membership
-- and grant of the group ('group'), read from the statement's transition
-- table.  New licences (users without one in that division) are created
-- with their source and event in one statement; in a limited division the
-- oldest sources take the free seats and the rest are waitlisted, the seat
-- counter moving once per division (R6).  An active or waitlisted licence
-- gains the new source (locked first, as a single grant locks it, so that a
-- removal of its last source waits or is waited for).  New licences in
-- divisions whose on_full is 'error', deactivated licences (R9) and a second
-- source of a new licence are left to the row-by-row path: the statement
-- returns those source rows.  ON CONFLICT DO NOTHING makes the insert behave like a single
-- grant when an unlimited division's licence is created concurrently; a
-- limited division's counter is locked before.  $1 actor.
-- Compiled into the library as GRANT_BATCH_SQL (src/writer.c).
 n AS (
  SELECT DISTINCT ON (s.user_id, s.division_id) s.user_id, s.division_id, s.kind, s.ref_id, s.added_at, d.seat_limit
    FROM src s
    JOIN seatmgr.divisions d ON d.division_id = s.division_id
   WHERE d.paid AND (d.seat_limit IS NULL OR d.on_full = 'waitlist')
     AND NOT EXISTS (SELECT 1 FROM seatmgr.licenses x
                      WHERE x.user_id = s.user_id AND x.division_id = s.division_id)
   ORDER BY s.user_id, s.division_id, s.added_at, s.ref_id),
 ex AS (
  SELECT s.user_id, s.division_id, s.kind, s.ref_id, s.added_at
    FROM src s
    JOIN seatmgr.divisions d ON d.division_id = s.division_id AND d.paid
    JOIN seatmgr.licenses l ON l.user_id = s.user_id AND l.division_id = s.division_id
   WHERE l.status IN ('active', 'waitlisted')
   ORDER BY l.user_id FOR NO KEY UPDATE OF l),
 exs AS (
  INSERT INTO seatmgr.license_sources (user_id, division_id, kind, ref_id, added_at)
  SELECT user_id, division_id, kind, ref_id, added_at FROM ex ON CONFLICT DO NOTHING),
 r AS (
  SELECT n.*, pg_catalog.row_number() OVER (PARTITION BY n.division_id ORDER BY n.added_at, n.user_id) AS rn,
         n.seat_limit - coalesce(c.active, n.seat_limit) AS free
    FROM n LEFT JOIN seatmgr.seat_counts c ON c.division_id = n.division_id AND n.seat_limit IS NOT NULL),
 l AS (
  INSERT INTO seatmgr.licenses (user_id, division_id, status, granted_at)
  SELECT user_id, division_id,
         CASE WHEN seat_limit IS NULL OR rn <= free THEN 'active' ELSE 'waitlisted' END, added_at
    FROM r ORDER BY added_at, user_id
  ON CONFLICT DO NOTHING RETURNING user_id, division_id, status),
 done AS (
  SELECT r.*, l.status FROM r JOIN l ON l.user_id = r.user_id AND l.division_id = r.division_id),
 s AS (
  INSERT INTO seatmgr.license_sources (user_id, division_id, kind, ref_id, added_at)
  SELECT user_id, division_id, kind, ref_id, added_at FROM done),
 e AS (
  INSERT INTO seatmgr.license_events (user_id, division_id, event, source_kind, source_ref, actor)
  SELECT user_id, division_id, CASE status WHEN 'active' THEN 'granted' ELSE 'waitlisted' END,
         kind, ref_id, $1 FROM done ORDER BY added_at, user_id),
 k AS (
  UPDATE seatmgr.seat_counts c SET active = c.active + x.seats
    FROM (SELECT division_id, pg_catalog.count(*) AS seats FROM done
           WHERE seat_limit IS NOT NULL AND status = 'active' GROUP BY division_id) x
   WHERE c.division_id = x.division_id)
SELECT s.user_id, s.division_id, s.kind, s.ref_id, s.added_at FROM src s
 WHERE NOT EXISTS (SELECT 1 FROM done WHERE done.user_id = s.user_id AND done.division_id = s.division_id
                                        AND done.ref_id = s.ref_id)
   AND NOT EXISTS (SELECT 1 FROM ex WHERE ex.user_id = s.user_id AND ex.division_id = s.division_id
                                      AND ex.ref_id = s.ref_id)
 ORDER BY s.added_at, s.user_id, s.ref_id
