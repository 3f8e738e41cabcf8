-- bench/peer_plpgsql.sql: the do-it-yourself peer.  R7 and R8 (with the
-- waitlist of R6, R10's preview and R12's history) as one set-based PL/pgSQL
-- function of about a hundred lines, the way a team would write them by hand
-- without seatmgr, on the plain copies in schema floor
-- (bench/floor_setup.sql).  Same exceptions as R7 (excluded users, members of
-- excluded groups, admins and service accounts when protected, licences held
-- through a group that grants more than one product), waitlist first, same
-- rows returned as seatmgr_run.  It never calls seatmgr.
--
--   SELECT * FROM floor.peer_run(3);                    -- a real run
--   SELECT * FROM floor.peer_run(3, preview => true);   -- what it would do

CREATE OR REPLACE FUNCTION floor.peer_run(p_division bigint, preview boolean DEFAULT false)
RETURNS TABLE (run_id bigint, division_id bigint, user_id bigint, email text, action text,
               reason text, last_active_at timestamptz)
-- JIT would compile its statements for longer than they run; anyone who
-- looked at EXPLAIN ANALYZE once would switch it off, so the peer does too
LANGUAGE plpgsql SET jit = off AS $fn$
#variable_conflict use_column
DECLARE
    v_now    timestamptz := clock_timestamp();
    v        record;
    v_run    bigint;
    v_seats  bigint;
    v_nwait  bigint;
    v_added  integer;
    v_deact  integer;
BEGIN
    SELECT d.domain_id, d.seat_limit, d.paid, p.revoke_inactive_after AS t,
           CASE WHEN d.paid THEN p.grant_active_within END AS w, p.grant_scope,
           p.protect_admins, p.protect_service_accounts
      INTO v
      FROM floor.divisions d JOIN floor.policies p ON p.division_id = d.division_id
     WHERE d.division_id = p_division;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'division % has no policy', p_division;
    END IF;
    IF NOT preview THEN
        -- one run of a division at a time; licence changes of the division wait
        IF NOT pg_try_advisory_xact_lock(5301, p_division::integer) THEN
            RAISE EXCEPTION 'a run of division % is already in progress', p_division;
        END IF;
        PERFORM 1 FROM floor.divisions d WHERE d.division_id = p_division FOR NO KEY UPDATE;
        PERFORM 1 FROM floor.seat_counts s WHERE s.division_id = p_division FOR UPDATE;
    END IF;

    DROP TABLE IF EXISTS peer_changes;
    CREATE TEMP TABLE peer_changes (
        user_id bigint PRIMARY KEY, action text, reason text, last_active_at timestamptz,
        was text, step int, ord bigint) ON COMMIT DROP;

    -- R7: active and waitlisted licences idle for longer than T, and the exception that keeps them
    IF v.t IS NOT NULL THEN
        INSERT INTO peer_changes
        SELECT i.user_id, CASE WHEN i.exception IS NULL THEN 'deactivated' ELSE 'skipped' END,
               coalesce(i.exception, 'inactive'), i.last_active_at, i.status,
               CASE WHEN i.exception IS NULL THEN 1 ELSE 4 END, 0
          FROM (SELECT l.user_id, l.status, u.last_active_at,
                       CASE WHEN EXISTS (SELECT 1 FROM floor.exclusions e WHERE e.user_id = l.user_id)
                              THEN 'excluded'
                            WHEN EXISTS (SELECT 1 FROM floor.exclusions e
                                           JOIN floor.group_members gm ON gm.group_id = e.group_id
                                          WHERE gm.user_id = l.user_id)
                              THEN 'excluded group'
                            WHEN v.protect_admins AND u.is_admin THEN 'admin'
                            WHEN v.protect_service_accounts AND u.is_service_account THEN 'service account'
                            WHEN EXISTS (SELECT 1 FROM floor.license_sources s
                                          WHERE s.user_id = l.user_id AND s.division_id = p_division
                                            AND s.kind = 'group'
                                            AND (SELECT count(DISTINCT gd.product) FROM floor.group_grants gg
                                                   JOIN floor.divisions gd ON gd.division_id = gg.division_id
                                                  WHERE gg.group_id = s.ref_id) > 1)
                              THEN 'multi-product group'
                       END AS exception
                  FROM floor.licenses l JOIN floor.users u ON u.user_id = l.user_id
                 WHERE l.division_id = p_division AND l.status IN ('active', 'waitlisted')
                   AND greatest(u.last_active_at, l.granted_at) < v_now - v.t) i;
    END IF;
    ANALYZE peer_changes;

    -- free seats: the limit, less the active licences, plus those R7 frees
    IF v.seat_limit IS NOT NULL THEN
        SELECT greatest(v.seat_limit - count(*)
                        + (SELECT count(*) FROM peer_changes c WHERE c.action = 'deactivated' AND c.was = 'active'), 0)
          INTO v_seats
          FROM floor.licenses l WHERE l.division_id = p_division AND l.status = 'active';
    END IF;

    -- R6: the waitlist first, oldest first
    INSERT INTO peer_changes
    SELECT w.user_id, CASE WHEN v_seats IS NULL OR w.rn <= v_seats THEN 'added' ELSE 'skipped' END,
           CASE WHEN v_seats IS NULL OR w.rn <= v_seats THEN 'waitlist' ELSE 'no seat' END,
           w.last_active_at, 'waitlisted', CASE WHEN v_seats IS NULL OR w.rn <= v_seats THEN 2 ELSE 4 END, w.rn
      FROM (SELECT l.user_id, u.last_active_at, row_number() OVER (ORDER BY l.granted_at, l.user_id) AS rn
              FROM floor.licenses l JOIN floor.users u ON u.user_id = l.user_id
             WHERE l.division_id = p_division AND l.status = 'waitlisted'
               AND NOT EXISTS (SELECT 1 FROM peer_changes c WHERE c.user_id = l.user_id)) w
     WHERE v_seats IS NULL OR w.rn <= v_seats OR v.w IS NOT NULL;
    GET DIAGNOSTICS v_nwait = ROW_COUNT;

    -- R8: free, non-excluded users active within W, most recently active first
    IF v.w IS NOT NULL THEN
        INSERT INTO peer_changes
        SELECT c.user_id,
               CASE WHEN v_seats IS NULL OR c.rn <= v_seats - v_nwait THEN 'added' ELSE 'skipped' END,
               CASE WHEN v_seats IS NULL OR c.rn <= v_seats - v_nwait THEN 'recently active' ELSE 'no seat' END,
               c.last_active_at, c.status,
               CASE WHEN v_seats IS NULL OR c.rn <= v_seats - v_nwait THEN 3 ELSE 4 END, c.rn
          FROM (SELECT u.user_id, u.last_active_at, l.status,
                       row_number() OVER (ORDER BY u.last_active_at DESC, u.user_id) AS rn
                  FROM floor.users u
                  LEFT JOIN floor.licenses l ON l.user_id = u.user_id AND l.division_id = p_division
                 WHERE u.domain_id = v.domain_id AND u.last_active_at >= v_now - v.w
                   AND (l.status = 'deactivated' OR (l.status IS NULL AND v.grant_scope = 'domain'))
                   AND NOT EXISTS (SELECT 1 FROM floor.licenses ol JOIN floor.divisions od ON od.division_id = ol.division_id
                                    WHERE ol.user_id = u.user_id AND ol.status = 'active' AND od.paid)
                   AND NOT EXISTS (SELECT 1 FROM floor.exclusions e WHERE e.user_id = u.user_id)
                   AND NOT EXISTS (SELECT 1 FROM floor.exclusions e
                                     JOIN floor.group_members gm ON gm.group_id = e.group_id
                                    WHERE gm.user_id = u.user_id)) c;
    END IF;

    IF preview THEN
        RETURN QUERY
        SELECT NULL::bigint, p_division, c.user_id, u.email, c.action, c.reason, c.last_active_at
          FROM peer_changes c JOIN floor.users u ON u.user_id = c.user_id
         ORDER BY c.step, c.ord, c.user_id;
        RETURN;
    END IF;

    -- a real run: its row, its history, then the changes
    INSERT INTO floor.runs (division_id, trigger, status, started_at)
    VALUES (p_division, 'manual', 'in_progress', v_now) RETURNING runs.run_id INTO v_run;
    INSERT INTO floor.run_changes (run_id, user_id, action, reason, last_active_at)
    SELECT v_run, c.user_id, c.action, c.reason, c.last_active_at FROM peer_changes c;

    UPDATE floor.licenses l SET status = 'deactivated', deactivated_at = v_now, deactivated_by_run = v_run
      FROM peer_changes c
     WHERE c.action = 'deactivated' AND l.user_id = c.user_id AND l.division_id = p_division;
    GET DIAGNOSTICS v_deact = ROW_COUNT;
    INSERT INTO floor.license_events (at, user_id, division_id, event, run_id, actor)
    SELECT v_now, c.user_id, p_division, 'deactivated', v_run, current_user
      FROM peer_changes c WHERE c.action = 'deactivated';

    UPDATE floor.licenses l SET status = 'active', granted_at = v_now
      FROM peer_changes c
     WHERE c.action = 'added' AND c.reason = 'waitlist' AND l.user_id = c.user_id AND l.division_id = p_division;
    GET DIAGNOSTICS v_added = ROW_COUNT;

    UPDATE floor.licenses l SET status = 'active', granted_at = v_now, deactivated_at = NULL, deactivated_by_run = NULL
      FROM peer_changes c
     WHERE c.action = 'added' AND c.reason = 'recently active' AND c.was = 'deactivated'
       AND l.user_id = c.user_id AND l.division_id = p_division;
    INSERT INTO floor.licenses (user_id, division_id, status, granted_at)
    SELECT c.user_id, p_division, 'active', v_now
      FROM peer_changes c WHERE c.action = 'added' AND c.reason = 'recently active' AND c.was IS NULL;
    INSERT INTO floor.license_events (at, user_id, division_id, event, source_kind, source_ref, run_id, actor)
    SELECT v_now, c.user_id, p_division,
           CASE WHEN c.reason = 'waitlist' THEN 'granted' WHEN c.was = 'deactivated' THEN 'reactivated' ELSE 'granted' END,
           CASE WHEN c.reason = 'waitlist' THEN NULL ELSE 'auto' END,
           CASE WHEN c.reason = 'waitlist' THEN NULL ELSE v_run END, v_run, current_user
      FROM peer_changes c WHERE c.action = 'added';
    DELETE FROM floor.license_sources s USING peer_changes c
     WHERE c.action = 'added' AND c.reason = 'recently active' AND c.was = 'deactivated'
       AND s.user_id = c.user_id AND s.division_id = p_division AND s.kind = 'auto';
    INSERT INTO floor.license_sources (user_id, division_id, kind, ref_id, added_at)
    SELECT c.user_id, p_division, 'auto', v_run, v_now
      FROM peer_changes c WHERE c.action = 'added' AND c.reason = 'recently active';
    SELECT count(*) INTO v_added FROM peer_changes c WHERE c.action = 'added';

    IF v.seat_limit IS NOT NULL THEN
        UPDATE floor.seat_counts s SET active = s.active + v_added - (SELECT count(*) FROM peer_changes c
                                                                       WHERE c.action = 'deactivated' AND c.was = 'active')
         WHERE s.division_id = p_division;
    END IF;
    UPDATE floor.runs r SET status = 'succeeded', finished_at = clock_timestamp(),
           users_added = v_added, users_deactivated = v_deact
     WHERE r.run_id = v_run;

    RETURN QUERY
    SELECT v_run, p_division, c.user_id, u.email, c.action, c.reason, c.last_active_at
      FROM peer_changes c JOIN floor.users u ON u.user_id = c.user_id
     ORDER BY c.step, c.ord, c.user_id;
END
$fn$;
