-- The invariants of seatmgr's data (SPEC sections 2, 3 and 5, issue 7): one
-- row per violated invariant (name, count, up to five examples), nothing
-- when all hold.  Run with psql, e.g.  psql -At -d DB -f t/invariants.sql
-- With  -v during_load=true  runs in progress are not reported (a load test
-- samples the invariants while runs are under way); every other invariant
-- holds in every committed state, so it may be checked at any moment.
\if :{?during_load}
\else
\set during_load false
\endif
WITH active AS (
    SELECT division_id, count(*) AS n
      FROM seatmgr.licenses
     WHERE status = 'active'
     GROUP BY division_id
), last_event AS (
    -- 'warned' (R14) changes no status
    SELECT DISTINCT ON (user_id, division_id) user_id, division_id, event, event_id
      FROM seatmgr.license_events
     WHERE event <> 'warned'
     ORDER BY user_id, division_id, event_id DESC
), v(invariant, item) AS (
    -- R6: active licenses never exceed seat_limit
    SELECT 'R6: more active licenses than seat_limit',
           format('division %s: %s active, seat_limit %s', d.division_id, a.n, d.seat_limit)
      FROM seatmgr.divisions d JOIN active a USING (division_id)
     WHERE a.n > d.seat_limit
    UNION ALL
    -- the seat counter equals the active licenses of each limited division
    SELECT 'seat_counts.active differs from the active licenses',
           format('division %s: seat_counts %s, active licenses %s',
                  d.division_id, coalesce(c.active::text, 'no row'), coalesce(a.n, 0))
      FROM seatmgr.divisions d
      LEFT JOIN seatmgr.seat_counts c USING (division_id)
      LEFT JOIN active a USING (division_id)
     WHERE d.seat_limit IS NOT NULL AND coalesce(c.active, 0) <> coalesce(a.n, 0)
    UNION ALL
    -- R5: a license with no source left is removed
    SELECT 'license without any license_sources row',
           format('user %s division %s (%s)', l.user_id, l.division_id, l.status)
      FROM seatmgr.licenses l
     WHERE NOT EXISTS (SELECT 1 FROM seatmgr.license_sources s
                        WHERE s.user_id = l.user_id AND s.division_id = l.division_id)
    UNION ALL
    SELECT 'license_sources row without its license',
           format('user %s division %s %s:%s', s.user_id, s.division_id, s.kind, s.ref_id)
      FROM seatmgr.license_sources s
     WHERE NOT EXISTS (SELECT 1 FROM seatmgr.licenses l
                        WHERE l.user_id = s.user_id AND l.division_id = s.division_id)
    UNION ALL
    -- R5: the source is still there (membership, share, group membership and grant)
    SELECT 'stale source: the membership, share or group grant behind it is gone',
           format('user %s division %s %s:%s', s.user_id, s.division_id, s.kind, s.ref_id)
      FROM seatmgr.license_sources s
     WHERE (s.kind = 'team' AND NOT EXISTS (SELECT 1 FROM seatmgr.team_members m
                                             WHERE m.team_id = s.ref_id AND m.user_id = s.user_id))
        OR (s.kind = 'share' AND NOT EXISTS (SELECT 1 FROM seatmgr.shares sh
                                              WHERE sh.share_id = s.ref_id AND sh.recipient_id = s.user_id))
        OR (s.kind = 'group' AND NOT (EXISTS (SELECT 1 FROM seatmgr.group_members gm
                                               WHERE gm.group_id = s.ref_id AND gm.user_id = s.user_id)
                                      AND EXISTS (SELECT 1 FROM seatmgr.group_grants gg
                                                   WHERE gg.group_id = s.ref_id AND gg.division_id = s.division_id)))
    UNION ALL
    -- R8: a license holds at most one auto source
    SELECT 'license with more than one auto source',
           format('user %s division %s: %s auto sources', s.user_id, s.division_id, count(*))
      FROM seatmgr.license_sources s
     WHERE s.kind = 'auto'
     GROUP BY s.user_id, s.division_id
    HAVING count(*) > 1
    UNION ALL
    -- R12: the last event of each license matches its status
    SELECT 'last license_events row does not match the license status',
           format('user %s division %s: status %s, last event %s', l.user_id, l.division_id,
                  l.status, coalesce(e.event || ' (event ' || e.event_id || ')', 'none'))
      FROM seatmgr.licenses l
      LEFT JOIN last_event e USING (user_id, division_id)
     WHERE e.event IS NULL
        OR l.status <> CASE e.event WHEN 'granted' THEN 'active' WHEN 'reactivated' THEN 'active'
                                    WHEN 'waitlisted' THEN 'waitlisted' WHEN 'deactivated' THEN 'deactivated'
                                    ELSE '(' || e.event || ')' END
    UNION ALL
    -- R4: unpaid divisions hold no licenses (the tests never turn paid off)
    SELECT 'license in an unpaid division',
           format('user %s division %s (%s)', l.user_id, l.division_id, l.status)
      FROM seatmgr.licenses l JOIN seatmgr.divisions d USING (division_id)
     WHERE NOT d.paid
    UNION ALL
    -- section 5: no cross-domain license
    SELECT 'license of a user of another domain',
           format('user %s (domain %s) division %s (domain %s)', l.user_id, u.domain_id, l.division_id, d.domain_id)
      FROM seatmgr.licenses l
      JOIN seatmgr.users u USING (user_id)
      JOIN seatmgr.divisions d USING (division_id)
     WHERE u.domain_id <> d.domain_id
    UNION ALL
    -- section 5: no time in the future, none infinite
    SELECT 'time in the future or infinite', t.what
      FROM (SELECT format('users.last_active_at of user %s: %s', user_id, last_active_at), last_active_at
              FROM seatmgr.users
            UNION ALL
            SELECT format('team_members.added_at of team %s user %s: %s', team_id, user_id, added_at), added_at
              FROM seatmgr.team_members
            UNION ALL
            SELECT format('group_members.added_at of group %s user %s: %s', group_id, user_id, added_at), added_at
              FROM seatmgr.group_members
            UNION ALL
            SELECT format('shares.shared_at of share %s: %s', share_id, shared_at), shared_at
              FROM seatmgr.shares
            UNION ALL
            SELECT format('licenses.granted_at of user %s division %s: %s', user_id, division_id, granted_at), granted_at
              FROM seatmgr.licenses
            UNION ALL
            SELECT format('licenses.deactivated_at of user %s division %s: %s', user_id, division_id, deactivated_at), deactivated_at
              FROM seatmgr.licenses
            UNION ALL
            SELECT format('license_sources.added_at of user %s division %s %s:%s: %s', user_id, division_id, kind, ref_id, added_at), added_at
              FROM seatmgr.license_sources) t(what, at)
     WHERE t.at > clock_timestamp() + interval '1 minute' OR NOT isfinite(t.at)
    UNION ALL
    -- next_run_at is in the future by design (R11), but never infinite
    SELECT 'time in the future or infinite',
           format('policies.next_run_at of division %s: %s', division_id, next_run_at)
      FROM seatmgr.policies
     WHERE NOT isfinite(next_run_at)
    UNION ALL
    -- R12/R13: no run left in progress once nothing runs
    SELECT 'run left in_progress',
           format('run %s of division %s, started %s', run_id, division_id, started_at)
      FROM seatmgr.runs
     WHERE status = 'in_progress' AND NOT :during_load
    UNION ALL
    -- R6: freed seats go to the waitlist first; without a limit nobody waits
    SELECT 'waitlisted license while its division has a free seat',
           format('division %s: %s waitlisted, %s active, seat_limit %s', d.division_id, count(*),
                  coalesce(a.n, 0), coalesce(d.seat_limit::text, 'none'))
      FROM seatmgr.licenses l
      JOIN seatmgr.divisions d USING (division_id)
      LEFT JOIN active a USING (division_id)
     WHERE l.status = 'waitlisted'
       AND (d.seat_limit IS NULL OR coalesce(a.n, 0) < d.seat_limit)
     GROUP BY d.division_id, a.n, d.seat_limit
)
SELECT invariant, count(*) AS violations,
       string_agg(left(item, 200), '; ' ORDER BY rn) FILTER (WHERE rn <= 5) AS examples
  FROM (SELECT invariant, item, row_number() OVER (PARTITION BY invariant ORDER BY item) AS rn FROM v) x
 GROUP BY invariant
 ORDER BY invariant;
