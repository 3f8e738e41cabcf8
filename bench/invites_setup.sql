-- bench/invites_setup.sql: schema bench, the bench's own helpers (never
-- part of what is measured).
--
-- bench.pick_invites(division, n, salt, licensed): n new (team, user) pairs
-- for team invites into the teams of a division: users of the division's
-- domain who are not members of the team picked for them (a team chosen by a
-- hash of the user), those without a licence in the division first, then the
-- others, each group in hashed (random-looking, repeatable) order; with
-- licensed true or false, only users with or without one.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;

CREATE FUNCTION bench.pick_invites(p_div bigint, p_n bigint, p_salt bigint DEFAULT 0,
                                   p_licensed boolean DEFAULT NULL)
RETURNS TABLE (team_id bigint, user_id bigint) LANGUAGE sql AS $$
    WITH t AS (
        SELECT t.team_id, row_number() OVER (ORDER BY t.team_id) - 1 AS k
          FROM seatmgr.teams t WHERE t.division_id = p_div),
    u AS (
        SELECT u.user_id,
               EXISTS (SELECT 1 FROM seatmgr.licenses l WHERE l.user_id = u.user_id AND l.division_id = p_div) AS licensed,
               hashint8(u.user_id + p_salt) AS h
          FROM seatmgr.users u
         WHERE u.domain_id = (SELECT domain_id FROM seatmgr.divisions WHERE division_id = p_div))
    SELECT t.team_id, u.user_id
      FROM u JOIN t ON t.k = abs(u.h::bigint) % (SELECT count(*) FROM seatmgr.teams WHERE division_id = p_div)
     WHERE NOT EXISTS (SELECT 1 FROM seatmgr.team_members m WHERE m.team_id = t.team_id AND m.user_id = u.user_id)
       AND (p_licensed IS NULL OR u.licensed = p_licensed)
     ORDER BY u.licensed, u.h, u.user_id
     LIMIT p_n
$$;
