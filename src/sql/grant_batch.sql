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
   -- IS TRUE: the status is a filter, never an index condition, so that each
   -- source finds its licence through licenses_pkey; through
   -- licenses_division_status_idx (what the planner took on an empty table)
   -- each one walked every licence this same statement had just added
   -- (invisible to it): 4.4 s of a 10,000-user invite into a new division
   WHERE (l.status IN ('active', 'waitlisted')) IS TRUE
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
-- done (r's rows that l inserted) and the statement's result are a grouping
-- and a set difference, never a join of two CTEs: every estimate after a
-- transition table is a guess (1 row on tables VACUUM found empty), and a
-- nested loop of r over l would read l once per row of r (10,000 invites:
-- 100 million rows, 8 s; bench/webhooks.sh's first round)
 done AS (
  SELECT u.user_id, u.division_id, pg_catalog.max(u.kind) AS kind, pg_catalog.max(u.ref_id) AS ref_id,
         pg_catalog.max(u.added_at) AS added_at, pg_catalog.max(u.seat_limit) AS seat_limit,
         pg_catalog.max(u.status) AS status
    FROM (SELECT r.user_id, r.division_id, r.kind, r.ref_id, r.added_at, r.seat_limit, NULL::text AS status FROM r
          UNION ALL
          SELECT l.user_id, l.division_id, NULL, NULL, NULL, NULL, l.status FROM l) u
   GROUP BY u.user_id, u.division_id
  HAVING pg_catalog.count(*) = 2),
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
EXCEPT ALL SELECT done.user_id, done.division_id, done.kind, done.ref_id, done.added_at FROM done
EXCEPT ALL SELECT ex.user_id, ex.division_id, ex.kind, ex.ref_id, ex.added_at FROM ex
 ORDER BY added_at, user_id, ref_id
