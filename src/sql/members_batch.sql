-- R1 for every membership an INSERT statement adds, set-based: the new
-- licences of the batch (users without a licence in the team's division),
-- their sources and events in one statement; in a limited division the
-- oldest memberships take the free seats and the rest are waitlisted, the
-- seat counter moving once per division (R6).  Divisions whose on_full is
-- 'error' and existing licences (new sources, R9) are left to the row-by-row
-- path: the statement returns those memberships.  ON CONFLICT DO NOTHING
-- makes the insert behave like a single grant when an unlimited division's
-- licence is created concurrently; a limited division's counter is locked
-- before.  $1 actor; seatmgr_new_members is the statement's transition table.
-- Compiled into the library as MEMBERS_BATCH_SQL (src/writer.c).
WITH n AS (
  SELECT DISTINCT ON (m.user_id, t.division_id) m.user_id, t.division_id, m.team_id, m.added_at, d.seat_limit
    FROM seatmgr_new_members m
    JOIN seatmgr.teams t ON t.team_id = m.team_id
    JOIN seatmgr.divisions d ON d.division_id = t.division_id
   WHERE d.paid AND (d.seat_limit IS NULL OR d.on_full = 'waitlist')
     AND NOT EXISTS (SELECT 1 FROM seatmgr.licenses x
                      WHERE x.user_id = m.user_id AND x.division_id = t.division_id)
   ORDER BY m.user_id, t.division_id, m.added_at, m.team_id),
 r AS (
  SELECT n.*, row_number() OVER (PARTITION BY n.division_id ORDER BY n.added_at, n.user_id) AS rn,
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
  SELECT user_id, division_id, 'team', team_id, added_at FROM done),
 e AS (
  INSERT INTO seatmgr.license_events (user_id, division_id, event, source_kind, source_ref, actor)
  SELECT user_id, division_id, CASE status WHEN 'active' THEN 'granted' ELSE 'waitlisted' END,
         'team', team_id, $1 FROM done ORDER BY added_at, user_id),
 k AS (
  UPDATE seatmgr.seat_counts c SET active = c.active + x.seats
    FROM (SELECT division_id, count(*) AS seats FROM done
           WHERE seat_limit IS NOT NULL AND status = 'active' GROUP BY division_id) x
   WHERE c.division_id = x.division_id)
SELECT m.team_id, m.user_id, m.added_at FROM seatmgr_new_members m
 WHERE NOT EXISTS (SELECT 1 FROM done WHERE done.user_id = m.user_id AND done.team_id = m.team_id)
