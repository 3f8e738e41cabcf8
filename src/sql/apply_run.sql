-- A real run, one statement per chunk of its change set: after "WITH c AS
-- MATERIALIZED (<the chunk's rows of the change set of changes.sql>)", the
-- CTEs below apply them and record what applied.  Every licence is read
-- within the chunk's user_id range ($6 to $7) through the primary key, so a
-- chunk reads its own licences, not the division's.
-- Nothing joins rows the run itself has just written, so no plan rests on
-- statistics the run made stale, and only the changes that applied become
-- run_changes (an invite that created a candidate's licence first is not the
-- run's, R12).  $1 division, $2 the run's start, $3 run, $4 actor, $5 whether
-- the division keeps a seat counter, $6 and $7 the chunk's first and last
-- user_id.  R14: the notices a chunk opened ("opened") come from
-- apply_notices.sql, which precedes these CTEs.  Returns the deactivations,
-- the seats given and the warnings.  Compiled into the library as APPLY_RUN_SQL (src/writer.c).
old AS (
  SELECT l.user_id, l.status FROM seatmgr.licenses l JOIN c ON c.user_id = l.user_id
   WHERE c.step = 1 AND l.division_id = $1 AND l.user_id BETWEEN $6 AND $7 AND l.status IN ('active', 'waitlisted')
   ORDER BY l.user_id FOR UPDATE OF l),
 deact AS (
  UPDATE seatmgr.licenses l SET status = 'deactivated', deactivated_at = $2, deactivated_by_run = $3
    FROM old WHERE l.user_id = old.user_id AND l.division_id = $1 AND l.user_id BETWEEN $6 AND $7
  RETURNING l.user_id, old.status AS was),
-- R6/R8: the waitlist's turn; the clock restarts
 promo AS (
  UPDATE seatmgr.licenses l SET status = 'active', granted_at = $2
    FROM c WHERE c.step = 2 AND l.user_id = c.user_id AND l.division_id = $1 AND l.user_id BETWEEN $6 AND $7
     AND l.status = 'waitlisted'
  RETURNING l.user_id),
-- R8: deactivated licences of the candidates come back, the others are new
 react AS (
  UPDATE seatmgr.licenses l SET status = 'active', granted_at = $2,
         deactivated_at = NULL, deactivated_by_run = NULL
    FROM c WHERE c.step = 3 AND l.user_id = c.user_id AND l.division_id = $1 AND l.user_id BETWEEN $6 AND $7
     AND l.status = 'deactivated'
  RETURNING l.user_id),
 ins AS (
  INSERT INTO seatmgr.licenses (user_id, division_id, status, granted_at)
  SELECT c.user_id, $1, 'active', $2 FROM c WHERE c.step = 3
  ON CONFLICT DO NOTHING RETURNING user_id),
 granted AS (SELECT user_id, 'reactivated' AS event FROM react UNION ALL SELECT user_id, 'granted' FROM ins),
-- a licence holds at most one auto source: the latest run that granted it
 gone AS (
  DELETE FROM seatmgr.license_sources s USING react r
   WHERE s.user_id = r.user_id AND s.division_id = $1 AND s.user_id BETWEEN $6 AND $7 AND s.kind = 'auto'),
 src AS (
  INSERT INTO seatmgr.license_sources (user_id, division_id, kind, ref_id, added_at)
  SELECT user_id, $1, 'auto', $3, $2 FROM granted),
 ev AS (
  INSERT INTO seatmgr.license_events (at, user_id, division_id, event, source_kind, source_ref, run_id, actor)
  SELECT $2, user_id, $1, 'deactivated', NULL::text, NULL::bigint, $3, $4 FROM deact
  UNION ALL SELECT $2, user_id, $1, 'granted', NULL, NULL, $3, $4 FROM promo
  UNION ALL SELECT $2, user_id, $1, event, 'auto', $3, $3, $4 FROM granted
  UNION ALL SELECT $2, user_id, $1, 'warned', NULL, NULL, $3, $4 FROM opened),
 applied AS (SELECT user_id FROM deact UNION ALL SELECT user_id FROM promo UNION ALL SELECT user_id FROM granted
             UNION ALL SELECT user_id FROM opened),
 rc AS (
  INSERT INTO seatmgr.run_changes (run_id, user_id, action, reason, last_active_at)
  SELECT $3, c.user_id, c.action, c.reason, c.last_active_at
    FROM c LEFT JOIN applied a ON a.user_id = c.user_id
   WHERE c.step = 4 OR (c.step < 6 AND a.user_id IS NOT NULL)),
-- R6: the seat counter moves by what the run gave minus what it freed
 seats AS (
  UPDATE seatmgr.seat_counts SET active = active
         + (SELECT pg_catalog.count(*) FROM promo) + (SELECT pg_catalog.count(*) FROM granted)
         - (SELECT pg_catalog.count(*) FROM deact WHERE was = 'active')
   WHERE division_id = $1 AND $5)
SELECT (SELECT pg_catalog.count(*) FROM deact), (SELECT pg_catalog.count(*) FROM promo) + (SELECT pg_catalog.count(*) FROM granted),
       (SELECT pg_catalog.count(*) FROM opened)
