-- bench/floor_a.sql: floor A, the deactivations and grants of one sweep of
-- division :div alone: plain statements on the plain copies in schema floor
-- (bench/floor_setup.sql), writing licences only (no run row, no history,
-- no event, no source).  Same change set as seatmgr: R7's exceptions kept,
-- the waitlist first, seats respected.
--
--   psql -v div=3 -f bench/floor_a.sql        (inside BEGIN ... ROLLBACK)

-- JIT compiles these statements for longer than they run: off, as anyone
-- writing them by hand and looking at EXPLAIN ANALYZE once would do
SET LOCAL jit = off;

SELECT d.domain_id AS dom, quote_nullable(d.seat_limit) AS seat_limit,
       quote_literal(p.revoke_inactive_after) AS t,
       quote_nullable(CASE WHEN d.paid THEN p.grant_active_within END) AS w,
       p.grant_scope = 'domain' AS scope_domain, p.protect_admins, p.protect_service_accounts
  FROM floor.divisions d JOIN floor.policies p USING (division_id)
 WHERE d.division_id = :div \gset

-- R7: licences idle for longer than T, unless an exception keeps them
UPDATE floor.licenses l SET status = 'deactivated', deactivated_at = now()
  FROM floor.users u
 WHERE l.division_id = :div AND l.status IN ('active', 'waitlisted') AND u.user_id = l.user_id
   AND greatest(u.last_active_at, l.granted_at) < now() - :t::interval
   AND NOT EXISTS (SELECT 1 FROM floor.exclusions e WHERE e.user_id = l.user_id)
   AND NOT EXISTS (SELECT 1 FROM floor.exclusions e JOIN floor.group_members gm USING (group_id)
                    WHERE gm.user_id = l.user_id)
   AND NOT (:'protect_admins'::boolean AND u.is_admin)
   AND NOT (:'protect_service_accounts'::boolean AND u.is_service_account)
   AND NOT EXISTS (SELECT 1 FROM floor.license_sources s
                    WHERE s.user_id = l.user_id AND s.division_id = :div AND s.kind = 'group'
                      AND (SELECT count(DISTINCT d.product) FROM floor.group_grants gg
                             JOIN floor.divisions d USING (division_id)
                            WHERE gg.group_id = s.ref_id) > 1);

-- R6: the free seats go to the waitlist, oldest first
UPDATE floor.licenses l SET status = 'active', granted_at = now()
  FROM (SELECT user_id FROM floor.licenses
         WHERE division_id = :div AND status = 'waitlisted'
         ORDER BY granted_at, user_id
         -- (LIMIT NULL: unlimited)
         LIMIT :seat_limit::bigint - least(:seat_limit::bigint, (SELECT count(*) FROM floor.licenses
                                                                  WHERE division_id = :div AND status = 'active'))) w
 WHERE l.user_id = w.user_id AND l.division_id = :div;

-- R8: then to free, non-excluded users active within W, most recently active first
INSERT INTO floor.licenses AS l (user_id, division_id, status, granted_at)
SELECT u.user_id, :div, 'active', now()
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
                    WHERE gm.user_id = u.user_id)
 ORDER BY u.last_active_at DESC, u.user_id
 LIMIT :seat_limit::bigint - least(:seat_limit::bigint, (SELECT count(*) FROM floor.licenses
                                                          WHERE division_id = :div AND status = 'active'))
ON CONFLICT (user_id, division_id) DO UPDATE
   SET status = 'active', granted_at = now(), deactivated_at = NULL;
