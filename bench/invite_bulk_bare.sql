-- bench/invite_bulk_bare.sql: the bare insert of N team invites (the pairs
-- in the table named by psql variable invites, default bench.invites) into the plain copies of schema floor: the same output
-- rows as seatmgr's trigger path (R1, R9), written by one plain statement:
-- the memberships; for each new member of a paid team's division a licence
-- (granted_at = the membership's added_at), or its deactivated licence made
-- active again; one 'team' source per membership; one license_events row per
-- licence granted or reactivated.  The bench's invites go to an unlimited
-- division (no seat counter, no waitlist).
--
--   psql -f bench/invite_bulk_bare.sql        (inside BEGIN ... ROLLBACK)
\if :{?invites}
\else
\set invites bench.invites
\endif
WITH m AS (
    INSERT INTO floor.team_members (team_id, user_id)
    SELECT team_id, user_id FROM :invites
    RETURNING team_id, user_id, added_at),
paid AS MATERIALIZED (
    SELECT m.team_id, m.user_id, m.added_at, t.division_id
      FROM m JOIN floor.teams t USING (team_id)
      JOIN floor.divisions d ON d.division_id = t.division_id AND d.paid),
lic AS (
    INSERT INTO floor.licenses AS l (user_id, division_id, status, granted_at)
    SELECT DISTINCT ON (user_id, division_id) user_id, division_id, 'active', added_at
      FROM paid ORDER BY user_id, division_id, added_at
    ON CONFLICT (user_id, division_id) DO UPDATE
       SET status = 'active', granted_at = now(), deactivated_at = NULL, deactivated_by_run = NULL
     WHERE l.status = 'deactivated'
    RETURNING l.user_id, l.division_id, l.xmax = 0 AS inserted),
src AS (
    INSERT INTO floor.license_sources (user_id, division_id, kind, ref_id, added_at)
    SELECT user_id, division_id, 'team', team_id, added_at FROM paid)
INSERT INTO floor.license_events (at, user_id, division_id, event, source_kind, source_ref, actor)
SELECT now(), lic.user_id, lic.division_id, CASE WHEN lic.inserted THEN 'granted' ELSE 'reactivated' END,
       'team', p.team_id, current_user
  FROM lic JOIN paid p USING (user_id, division_id);
