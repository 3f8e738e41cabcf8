-- R14 in a real run, the CTEs that come before apply_run.sql's (same
-- parameters, same "c"): a step-5 row opens a notice (the licence stays
-- active and keeps its seat), and a row's "closes" closes the user's open
-- notice with that outcome, writing no run change; the closings come first
-- (warn reads "closed"), so that a step-5 row of a licence given again can
-- close the removed licence's notice and open its own (one open notice).  apply_run.sql reads
-- "opened".  Notices are read within the chunk's user_id range ($6 to $7),
-- as apply_run.sql reads licences.  On a schema still at 0.1.0 (until ALTER EXTENSION UPDATE) there
-- are no notices and src/writer.c puts an empty "opened" instead.
-- Compiled into the library as APPLY_NOTICES_SQL (src/writer.c).
 closed AS (
  UPDATE seatmgr.notices o SET closed_at = $2, outcome = c.closes
    FROM c
   WHERE c.closes IS NOT NULL
     -- a deactivation's only when it applies (apply_run.sql's old, on this statement's snapshot)
     AND (c.step <> 1 OR EXISTS (SELECT 1 FROM seatmgr.licenses l WHERE l.user_id = c.user_id AND l.division_id = $1
                                    AND l.status IN ('active', 'waitlisted')))
     AND o.domain_id = (SELECT d.domain_id FROM seatmgr.divisions d WHERE d.division_id = $1)
     AND o.division_id = $1 AND o.user_id BETWEEN $6 AND $7 AND o.user_id = c.user_id AND o.closed_at IS NULL
  RETURNING o.user_id),
 warn AS (
  SELECT l.user_id, c.deadline FROM seatmgr.licenses l JOIN c ON c.user_id = l.user_id
   WHERE c.step = 5 AND l.division_id = $1 AND l.user_id BETWEEN $6 AND $7 AND l.status = 'active'
     AND (SELECT pg_catalog.count(*) FROM closed) >= 0),
 opened AS (
  INSERT INTO seatmgr.notices (domain_id, user_id, division_id, run_id, issued_at, deadline)
  SELECT (SELECT d.domain_id FROM seatmgr.divisions d WHERE d.division_id = $1), w.user_id, $1, $3, $2, w.deadline
    FROM warn w
  RETURNING user_id),
