-- The change set of division $1 at time $2 (R7, R8, R6's waitlist, R14's
-- notices), as one query: what a preview returns and what a real run
-- applies (R10).  Columns: user_id, email, action, reason, last_active_at,
-- step (1 deactivate, 2 waitlist, 3 grant, 4 skip, 5 warn, 6 close a notice
-- only: no run change, never shown), ord (the order within a step), closes
-- (the outcome with which the row closes the user's open notice, NULL for
-- none), deadline (of the notice a step-5 row opens).  A user appears once
-- in steps 1 to 5, and at most once more in step 6.
-- $3 true takes the thresholds T, W, N from $4, $5, $6 instead of the
-- policy (seatmgr_simulate; a division without a policy then has the
-- defaults).
-- The division ($1) and its domain (an InitPlan of p) are parameters of
-- every scan, never a join clause, so each table is read through its index
-- whatever join method the planner picks.  Compiled into the library as
-- CHANGES_SQL (src/sweep.c, src/writer.c).
WITH p AS (
  SELECT d.division_id, d.domain_id, d.seat_limit,
         CASE WHEN $3 THEN $4::interval ELSE pol.revoke_inactive_after END AS t,
         CASE WHEN d.paid THEN CASE WHEN $3 THEN $5::interval ELSE pol.grant_active_within END END AS w,
         coalesce(pol.grant_scope, 'domain') AS grant_scope, coalesce(pol.protect_admins, true) AS protect_admins,
         coalesce(pol.protect_service_accounts, true) AS protect_service_accounts,
         CASE WHEN $3 THEN $6::interval ELSE pol.notice_period END AS n
    FROM seatmgr.divisions d LEFT JOIN seatmgr.policies pol ON pol.division_id = d.division_id
   WHERE d.division_id = $1 AND ($3 OR pol.division_id IS NOT NULL)),
-- R14: the division's open notices (at most one a licence).  A notice is
-- about the licence it warned: one removed since (R5, R4, its user
-- deleted) is gone even when the user holds a licence given again, which
-- has no notice of its own.  Such a licence is a row created in the run's
-- transaction or a later one (created_at, the transaction's start, checked
-- first so that an ordinary licence costs no more), and a 'removed' event
-- follows the notice's 'warned' one ("stale" below, in idle0 and in step 6).
 notice AS MATERIALIZED (
  SELECT o.user_id, o.deadline, o.created_at, o.run_id FROM seatmgr.notices o
   WHERE o.domain_id = (SELECT p.domain_id FROM p) AND o.division_id = $1 AND o.closed_at IS NULL),
-- R7: licences whose last activity is older than T, with the exception that
-- keeps them; R14: with N, an active one without an open notice is warned,
-- one whose notice is still running is left alone (not reported); a
-- licence given again after its notice's licence was removed is warned anew
-- and its row closes that notice 'license gone'
-- seatmgr._progress_tick counts the licences joined with their user for
-- seatmgr.progress (licenses_done): always true, and planned as if absent
-- (selectivity 1, no cost; src/progress.c); its arguments name both sides
-- so that it is a join clause, evaluated as the joined rows come out (and
-- with them the exceptions below), not in the scan of the licences, which
-- may be read whole into a hash table before anything else happens
-- MATERIALIZED: inlined, each use of "exception" below (the filter of
-- inactive, warn, running, the output) would evaluate its subplans again,
-- three times per idle licence (145,000 at a million users)
 idle0 AS MATERIALIZED (
  SELECT l.user_id, l.status, u.email, u.last_active_at, l.granted_at, o.user_id IS NOT NULL AS noticed,
         CASE WHEN l.status = 'active' AND l.created_at >= o.created_at
              THEN EXISTS (SELECT 1 FROM seatmgr.license_events w JOIN seatmgr.license_events e
                             ON e.user_id = w.user_id AND e.division_id = w.division_id AND e.event_id > w.event_id
                            WHERE w.user_id = o.user_id AND w.division_id = $1 AND w.run_id = o.run_id
                              AND w.event = 'warned' AND e.event = 'removed')
              ELSE false END AS stale,
         o.deadline AS notice_deadline, p.n, p.t,
         CASE WHEN EXISTS (SELECT 1 FROM seatmgr.exclusions e WHERE e.user_id = l.user_id)
                THEN 'excluded'
              WHEN EXISTS (SELECT 1 FROM seatmgr.exclusions e
                             JOIN seatmgr.group_members gm ON gm.group_id = e.group_id
                            WHERE gm.user_id = l.user_id)
                THEN 'excluded group'
              WHEN p.protect_admins AND u.is_admin THEN 'admin'
              WHEN p.protect_service_accounts AND u.is_service_account THEN 'service account'
              WHEN EXISTS (SELECT 1 FROM seatmgr.license_sources s
                             JOIN seatmgr.group_grants gg ON gg.group_id = s.ref_id
                             JOIN seatmgr.divisions gd ON gd.division_id = gg.division_id
                            WHERE s.user_id = l.user_id AND s.division_id = l.division_id
                              AND s.kind = 'group'
                            GROUP BY s.ref_id HAVING pg_catalog.count(DISTINCT gd.product) > 1)
                THEN 'multi-product group'
         END AS exception
    FROM p
    JOIN seatmgr.licenses l ON l.division_id = $1 AND l.status IN ('active', 'waitlisted')
    JOIN seatmgr.users u ON u.user_id = l.user_id AND u.domain_id = (SELECT p.domain_id FROM p)
                            AND seatmgr._progress_tick(l.user_id, u.user_id)
    LEFT JOIN notice o ON o.user_id = l.user_id
   WHERE p.t IS NOT NULL AND greatest(u.last_active_at, l.granted_at) < $2 - p.t),
 idle AS (
  SELECT i.*,
         i.exception IS NULL AND i.status = 'active' AND i.n IS NOT NULL AND NOT (i.noticed AND NOT i.stale) AS warn,
         i.exception IS NULL AND i.status = 'active' AND i.n IS NOT NULL AND i.noticed AND NOT i.stale
         AND i.notice_deadline > $2 AS running
    FROM idle0 i),
-- an idle waiter an exception protects is not deactivated: it stays a waiter (R6)
 inactive AS (SELECT * FROM idle WHERE status = 'active' OR exception IS NULL),
 free AS MATERIALIZED (
  SELECT CASE WHEN p.seat_limit IS NOT NULL THEN greatest(p.seat_limit
           - (SELECT pg_catalog.count(*) FROM seatmgr.licenses l
               WHERE l.division_id = $1 AND l.status = 'active')
           + (SELECT pg_catalog.count(*) FROM inactive i
               WHERE i.exception IS NULL AND i.status = 'active' AND NOT i.warn AND NOT i.running), 0)
         END AS seats
    FROM p),
-- R6/R8: the waitlist first, oldest first
 waiters AS (
  SELECT l.user_id, u.email, u.last_active_at,
         pg_catalog.row_number() OVER (ORDER BY l.granted_at, l.user_id) AS rn
    FROM p
    JOIN seatmgr.licenses l ON l.division_id = $1 AND l.status = 'waitlisted'
    JOIN seatmgr.users u ON u.user_id = l.user_id AND u.domain_id = (SELECT p.domain_id FROM p)
   WHERE NOT EXISTS (SELECT 1 FROM inactive i WHERE i.user_id = l.user_id)),
-- R8: free, non-excluded users active within W, most recently active first
 candidates AS (
  SELECT u.user_id, u.email, u.last_active_at,
         pg_catalog.row_number() OVER (ORDER BY u.last_active_at DESC, u.user_id) AS rn
    FROM p
    JOIN seatmgr.users u ON u.domain_id = (SELECT p.domain_id FROM p)
    LEFT JOIN seatmgr.licenses l ON l.user_id = u.user_id AND l.division_id = $1
   WHERE p.w IS NOT NULL AND u.last_active_at >= $2 - (SELECT p.w FROM p)
     AND (l.status = 'deactivated' OR (l.status IS NULL AND p.grant_scope = 'domain'))
     AND NOT EXISTS (SELECT 1 FROM seatmgr.licenses ol
                       JOIN seatmgr.divisions od ON od.division_id = ol.division_id
                      WHERE ol.user_id = u.user_id AND ol.status = 'active' AND od.paid)
     AND NOT EXISTS (SELECT 1 FROM seatmgr.exclusions e WHERE e.user_id = u.user_id)
     AND NOT EXISTS (SELECT 1 FROM seatmgr.exclusions e
                       JOIN seatmgr.group_members gm ON gm.group_id = e.group_id
                      WHERE gm.user_id = u.user_id)),
 nwait AS MATERIALIZED (SELECT pg_catalog.count(*) AS n FROM waiters)
SELECT i.user_id, i.email,
       CASE WHEN i.exception IS NOT NULL THEN 'skipped' WHEN i.warn THEN 'warned' ELSE 'deactivated' END AS action,
       coalesce(i.exception, 'inactive') AS reason, i.last_active_at,
       CASE WHEN i.exception IS NOT NULL THEN 4 WHEN i.warn THEN 5 ELSE 1 END AS step,
       (extract(epoch FROM i.granted_at) * 1000000)::bigint AS ord,
       CASE WHEN NOT i.noticed THEN NULL
            WHEN i.status <> 'active' OR i.stale THEN 'license gone'
            WHEN i.exception IS NOT NULL THEN 'active again'
            WHEN i.n IS NULL THEN 'withdrawn'
            ELSE 'deactivated' END AS closes,
       CASE WHEN i.warn THEN $2 + i.n END AS deadline
  FROM inactive i
 WHERE NOT i.running
 UNION ALL 
SELECT w.user_id, w.email,
       CASE WHEN f.seats IS NULL OR w.rn <= f.seats THEN 'added' ELSE 'skipped' END,
       CASE WHEN f.seats IS NULL OR w.rn <= f.seats THEN 'waitlist' ELSE 'no seat' END,
       w.last_active_at,
       CASE WHEN f.seats IS NULL OR w.rn <= f.seats THEN 2 ELSE 4 END, w.rn,
       NULL::text, NULL::timestamptz
  FROM waiters w, free f, p
 WHERE f.seats IS NULL OR w.rn <= f.seats OR p.w IS NOT NULL
 UNION ALL 
SELECT c.user_id, c.email,
       CASE WHEN f.seats IS NULL OR c.rn <= f.seats - nw.n THEN 'added' ELSE 'skipped' END,
       CASE WHEN f.seats IS NULL OR c.rn <= f.seats - nw.n THEN 'recently active' ELSE 'no seat' END,
       c.last_active_at,
       CASE WHEN f.seats IS NULL OR c.rn <= f.seats - nw.n THEN 3 ELSE 4 END, c.rn,
       NULL::text, NULL::timestamptz
  FROM candidates c, free f, nwait nw
-- R14: the other open notices, those R7 no longer selects: closed without
-- a run change.  Their user may also be a waiter or a candidate above (a
-- licence gone and given again): that row closes nothing, this one does.
 UNION ALL
SELECT o.user_id, NULL::text, 'notice', x.outcome, NULL::timestamptz, 6, 0, x.outcome, NULL::timestamptz
  FROM notice o
  CROSS JOIN p
  -- the licence by its key, only for the notices left (no join over the
  -- division): gone unless active and the one the notice warned (stale as in idle0)
  CROSS JOIN LATERAL (SELECT CASE WHEN NOT EXISTS (
                                    SELECT 1 FROM seatmgr.licenses l
                                     WHERE l.user_id = o.user_id AND l.division_id = $1 AND l.status = 'active'
                                       AND NOT (l.created_at >= o.created_at
                                                AND EXISTS (SELECT 1 FROM seatmgr.license_events w JOIN seatmgr.license_events e
                                                              ON e.user_id = w.user_id AND e.division_id = w.division_id
                                                             AND e.event_id > w.event_id
                                                             WHERE w.user_id = o.user_id AND w.division_id = $1 AND w.run_id = o.run_id
                                                               AND w.event = 'warned' AND e.event = 'removed')))
                                  THEN 'license gone'
                                  WHEN p.n IS NULL OR p.t IS NULL THEN 'withdrawn'
                                  ELSE 'active again' END AS outcome) x
 WHERE NOT EXISTS (SELECT 1 FROM inactive i WHERE i.user_id = o.user_id)
