-- bench/invite_one_bare.sql: pgbench script, one team invite per
-- transaction done by hand on the plain copies of schema floor: the
-- membership, the licence (new, or reactivated), the 'team' source and the
-- event, in one statement (bench/invite_bulk_bare.sql explains the rows).
-- The pair is the next one of the queue bench.q.
WITH m AS (
    INSERT INTO floor.team_members (team_id, user_id)
    SELECT team_id, user_id FROM bench.q WHERE id = (SELECT nextval('bench.q_seq'))
    RETURNING team_id, user_id, added_at),
paid AS MATERIALIZED (
    SELECT m.team_id, m.user_id, m.added_at, t.division_id
      FROM m JOIN floor.teams t USING (team_id)
      JOIN floor.divisions d ON d.division_id = t.division_id AND d.paid),
lic AS (
    INSERT INTO floor.licenses AS l (user_id, division_id, status, granted_at)
    SELECT user_id, division_id, 'active', added_at FROM paid
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
