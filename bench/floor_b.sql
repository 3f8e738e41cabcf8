-- bench/floor_b.sql: floor B, one sweep of division :div (policy from
-- floor.policies) written by hand in plain SQL into the plain copies of
-- schema floor (bench/floor_setup.sql): the same compute as seatmgr and the
-- same output rows a run writes: its runs row, one run_changes row per
-- change (skipped ones included), the licences updated or inserted, one
-- license_events row per licence change, the 'auto' license_sources rows
-- (one per licence: the latest run's), and the seat counter of a limited
-- division.  Nothing here calls seatmgr or fires a trigger (only the foreign
-- keys' checks, as seatmgr's tables have them too).
--
--   psql -v div=3 -f bench/floor_b.sql        (inside BEGIN ... ROLLBACK)

-- the policy, as constants for the planner
-- JIT compiles these statements for longer than they run: off, as anyone
-- writing them by hand and looking at EXPLAIN ANALYZE once would do
SET LOCAL jit = off;

SELECT d.domain_id AS dom, quote_nullable(d.seat_limit) AS seat_limit,
       quote_literal(p.revoke_inactive_after) AS t,
       quote_nullable(CASE WHEN d.paid THEN p.grant_active_within END) AS w,
       p.grant_scope = 'domain' AS scope_domain, p.protect_admins, p.protect_service_accounts
  FROM floor.divisions d JOIN floor.policies p USING (division_id)
 WHERE d.division_id = :div \gset

INSERT INTO floor.runs (division_id, trigger, status, started_at)
VALUES (:div, 'manual', 'in_progress', now()) RETURNING run_id AS floor_run \gset

-- the change set (R7, the waitlist of R6, R8), computed once and written as
-- the run's history.  R7 takes the active and waitlisted licences whose last
-- activity (the later of last_active_at and granted_at) is older than T; an
-- exception keeps the licence and reports it skipped (excluded, excluded
-- group, admin, service account, multi-product group, in that order); the
-- free seats (seat_limit minus the active licences plus those R7 frees;
-- unlimited: no limit) go to the waitlist, oldest first, then to R8's
-- candidates, free non-excluded users active within W (with grant_scope
-- 'division' only those holding a deactivated licence), most recently active
-- first; the rest are skipped, "no seat".
INSERT INTO floor.run_changes (run_id, user_id, action, reason, last_active_at)
WITH inactive AS MATERIALIZED (
    SELECT l.user_id, l.status, u.last_active_at,
           CASE WHEN EXISTS (SELECT 1 FROM floor.exclusions e WHERE e.user_id = l.user_id)
                  THEN 'excluded'
                WHEN EXISTS (SELECT 1 FROM floor.exclusions e JOIN floor.group_members gm USING (group_id)
                              WHERE gm.user_id = l.user_id)
                  THEN 'excluded group'
                WHEN :'protect_admins'::boolean AND u.is_admin THEN 'admin'
                WHEN :'protect_service_accounts'::boolean AND u.is_service_account THEN 'service account'
                WHEN EXISTS (SELECT 1 FROM floor.license_sources s
                              WHERE s.user_id = l.user_id AND s.division_id = :div AND s.kind = 'group'
                                AND (SELECT count(DISTINCT d.product) FROM floor.group_grants gg
                                       JOIN floor.divisions d USING (division_id)
                                      WHERE gg.group_id = s.ref_id) > 1)
                  THEN 'multi-product group'
           END AS exception
      FROM floor.licenses l JOIN floor.users u ON u.user_id = l.user_id
     WHERE l.division_id = :div AND l.status IN ('active', 'waitlisted')
       AND greatest(u.last_active_at, l.granted_at) < now() - :t::interval),
free AS MATERIALIZED (
    SELECT :seat_limit::bigint
           - (SELECT count(*) FROM floor.licenses l WHERE l.division_id = :div AND l.status = 'active')
           + (SELECT count(*) FROM inactive i WHERE i.exception IS NULL AND i.status = 'active') AS seats),
waiters AS MATERIALIZED (
    SELECT l.user_id, u.last_active_at, row_number() OVER (ORDER BY l.granted_at, l.user_id) AS rn
      FROM floor.licenses l JOIN floor.users u ON u.user_id = l.user_id
     WHERE l.division_id = :div AND l.status = 'waitlisted'
       AND NOT EXISTS (SELECT 1 FROM inactive i WHERE i.user_id = l.user_id)),
candidates AS (
    SELECT u.user_id, u.last_active_at, row_number() OVER (ORDER BY u.last_active_at DESC, u.user_id) AS rn
      FROM floor.users u
     WHERE u.domain_id = :dom AND u.last_active_at >= now() - :w::interval
       AND NOT EXISTS (SELECT 1 FROM floor.licenses l
                        WHERE l.user_id = u.user_id AND l.division_id = :div AND l.status <> 'deactivated')
       AND (:'scope_domain'::boolean OR EXISTS (SELECT 1 FROM floor.licenses l
                                      WHERE l.user_id = u.user_id AND l.division_id = :div))
       AND NOT EXISTS (SELECT 1 FROM floor.licenses ol JOIN floor.divisions od USING (division_id)
                        WHERE ol.user_id = u.user_id AND ol.status = 'active' AND od.paid)
       AND NOT EXISTS (SELECT 1 FROM floor.exclusions e WHERE e.user_id = u.user_id)
       AND NOT EXISTS (SELECT 1 FROM floor.exclusions e JOIN floor.group_members gm USING (group_id)
                        WHERE gm.user_id = u.user_id))
SELECT :floor_run, i.user_id, CASE WHEN i.exception IS NULL THEN 'deactivated' ELSE 'skipped' END,
       coalesce(i.exception, 'inactive'), i.last_active_at
  FROM inactive i
UNION ALL
SELECT :floor_run, w.user_id,
       CASE WHEN f.seats IS NULL OR w.rn <= f.seats THEN 'added' ELSE 'skipped' END,
       CASE WHEN f.seats IS NULL OR w.rn <= f.seats THEN 'waitlist' ELSE 'no seat' END,
       w.last_active_at
  FROM waiters w, free f
 WHERE f.seats IS NULL OR w.rn <= f.seats OR :w::interval IS NOT NULL
UNION ALL
SELECT :floor_run, c.user_id,
       CASE WHEN f.seats IS NULL OR c.rn <= f.seats - nw.n THEN 'added' ELSE 'skipped' END,
       CASE WHEN f.seats IS NULL OR c.rn <= f.seats - nw.n THEN 'recently active' ELSE 'no seat' END,
       c.last_active_at
  FROM candidates c, free f, (SELECT count(*) AS n FROM waiters) nw;

-- R7: deactivate (the sources stay)
WITH upd AS (
    UPDATE floor.licenses l SET status = 'deactivated', deactivated_at = now(), deactivated_by_run = :floor_run
      FROM floor.run_changes c
     WHERE c.run_id = :floor_run AND c.action = 'deactivated'
       AND l.user_id = c.user_id AND l.division_id = :div
    RETURNING l.user_id)
INSERT INTO floor.license_events (at, user_id, division_id, event, run_id, actor)
SELECT now(), user_id, :div, 'deactivated', :floor_run, current_user FROM upd;

-- R6: the waitlist's turn, the clock restarts
WITH upd AS (
    UPDATE floor.licenses l SET status = 'active', granted_at = now()
      FROM floor.run_changes c
     WHERE c.run_id = :floor_run AND c.action = 'added' AND c.reason = 'waitlist'
       AND l.user_id = c.user_id AND l.division_id = :div
    RETURNING l.user_id)
INSERT INTO floor.license_events (at, user_id, division_id, event, run_id, actor)
SELECT now(), user_id, :div, 'granted', :floor_run, current_user FROM upd;

-- R8: a new licence, or the deactivated one reactivated; one auto source
WITH lic AS (
    INSERT INTO floor.licenses AS l (user_id, division_id, status, granted_at)
    SELECT c.user_id, :div, 'active', now() FROM floor.run_changes c
     WHERE c.run_id = :floor_run AND c.action = 'added' AND c.reason = 'recently active'
    ON CONFLICT (user_id, division_id) DO UPDATE
       SET status = 'active', granted_at = now(), deactivated_at = NULL, deactivated_by_run = NULL
    RETURNING l.user_id, l.xmax = 0 AS inserted),
ev AS (
    INSERT INTO floor.license_events (at, user_id, division_id, event, source_kind, source_ref, run_id, actor)
    SELECT now(), user_id, :div, CASE WHEN inserted THEN 'granted' ELSE 'reactivated' END,
           'auto', :floor_run, :floor_run, current_user FROM lic),
gone AS (
    DELETE FROM floor.license_sources s USING lic
     WHERE NOT lic.inserted AND s.user_id = lic.user_id AND s.division_id = :div AND s.kind = 'auto')
INSERT INTO floor.license_sources (user_id, division_id, kind, ref_id, added_at)
SELECT user_id, :div, 'auto', :floor_run, now() FROM lic;

-- the seat counter of a limited division, and the run's row
UPDATE floor.seat_counts SET active = (SELECT count(*) FROM floor.licenses WHERE division_id = :div AND status = 'active')
 WHERE division_id = :div AND EXISTS (SELECT 1 FROM floor.divisions WHERE division_id = :div AND seat_limit IS NOT NULL);
UPDATE floor.runs SET status = 'succeeded', finished_at = clock_timestamp(),
       users_added = (SELECT count(*) FROM floor.run_changes WHERE run_id = :floor_run AND action = 'added'),
       users_deactivated = (SELECT count(*) FROM floor.run_changes WHERE run_id = :floor_run AND action = 'deactivated')
 WHERE run_id = :floor_run;
