-- bench/generate.sql: a realistic population of :users users, set-based.
--
--   psql -v users=1000000 -f bench/generate.sql               # shape 'one'
--   psql -v users=1000000 -v shape=many -f bench/generate.sql
--
-- Two shapes (psql variable shape):
--
--   one  (default) the population of issue 8: ONE domain holding every user,
--        85% of them in the teams of its unlimited "Software" division (one
--        team per 100 users), which carries the policy (90 days / 30 days);
--        5% in teams of a limited "Enterprise" division, 5% in free teams;
--        activity 60% within a week, 20% within 7-60 days, 15% idle for
--        90-390 days, 5% never.  At 1,000,000 users a run deactivates about
--        140,000 seats and grants about 62,000 (free users are those in no
--        paid team: the 10% in free teams or none, less the excluded).
--   many the mixed population of issue 4: many domains of very different
--        sizes (domain k gets a share that falls off like a power law: the
--        largest holds ~10-20% of everyone), each with a paid, limited
--        "Enterprise" division (product trello, carrying the policy), a paid
--        unlimited "Software" division (product jira) and an unpaid one; one
--        team per 40 users of each; 55% of users in Enterprise teams, 15% in
--        Software teams, 10% in free ones; activity 60% within a week, 25%
--        within 7-90 days, 10% idle for 90-390 days, 5% never.
--
-- Both have shares, groups with grants (one group to both products: the
-- multi-product exception of R7), exclusions (service accounts, and the
-- Contractors group of every tenth domain, domain 1 included), admins and
-- service accounts.
--
-- It loads as a bulk import: with session_replication_role = replica the
-- row triggers stay quiet and the licences they would have made are
-- inserted set-based at the end, exactly as the rules R1-R3 and R6 define
-- them (the first seat_limit licences by grant time active, the rest
-- waitlisted).  The bench measures the triggers separately.

\set ON_ERROR_STOP on
SELECT setseed(0.42);
SET session_replication_role = replica;

TRUNCATE seatmgr.domains, seatmgr.licenses, seatmgr.license_sources, seatmgr.seat_counts,
         seatmgr.runs, seatmgr.run_changes, seatmgr.license_events RESTART IDENTITY CASCADE;

\if :{?shape}
\else
\set shape one
\endif
SELECT CASE WHEN :'shape' = 'one' THEN 1 ELSE greatest(:users / 1000, 10) END AS ndomains,
       -- activity: 60% within a week, then p_mid within 7 days + mid_days, to 0.95 idle 90-390 days
       CASE WHEN :'shape' = 'one' THEN 0.80 ELSE 0.85 END AS p_mid,
       CASE WHEN :'shape' = 'one' THEN 53 ELSE 83 END AS mid_days,
       -- memberships: cumulative shares of Enterprise, Software and free teams
       CASE WHEN :'shape' = 'one' THEN 0.05 ELSE 0.55 END AS m_ent,
       CASE WHEN :'shape' = 'one' THEN 0.90 ELSE 0.70 END AS m_soft,
       CASE WHEN :'shape' = 'one' THEN 0.95 ELSE 0.80 END AS m_free,
       CASE WHEN :'shape' = 'one' THEN 100 ELSE 40 END AS users_per_team,
       CASE WHEN :'shape' = 'one' THEN 'Software' ELSE 'Enterprise' END AS policy_division
\gset
SELECT CASE WHEN :'shape' IN ('one', 'many') THEN true
            ELSE 'shape must be one or many'::text::boolean END AS shape_ok \gset

-- No activity or grant in the 12 hours after the bounds of the policy (30
-- and 90 days ago): while the bench runs, its clock moves on, and nobody may
-- cross a bound between two measurements, so that every implementation
-- measured computes the same change set.
CREATE FUNCTION pg_temp.gap(ts timestamptz) RETURNS timestamptz LANGUAGE sql AS $$
    SELECT CASE WHEN ts > now() - interval '30 days' AND ts <= now() - interval '30 days' + interval '12 hours'
                  OR ts > now() - interval '90 days' AND ts <= now() - interval '90 days' + interval '12 hours'
                THEN ts + interval '12 hours' ELSE ts END
$$;

INSERT INTO seatmgr.domains (name)
SELECT 'd' || k || '.example.com' FROM generate_series(1, :ndomains) k;

-- users: domain by a power law, activity by a long-tailed mix
INSERT INTO seatmgr.users (domain_id, email, is_admin, is_service_account, last_active_at, external_id)
SELECT dom, 'u' || i || '@d' || dom || '.example.com',
       r2 < 0.005, r2 BETWEEN 0.005 AND 0.01,
       pg_temp.gap(CASE WHEN r3 < 0.60 THEN now() - r4 * interval '7 days'
                        WHEN r3 < :p_mid THEN now() - interval '7 days' - r4 * :mid_days * interval '1 day'
                        WHEN r3 < 0.95 THEN now() - interval '90 days' - r4 * interval '300 days'
                   END),
       'ext-' || i
  FROM (SELECT i, 1 + floor(:ndomains * random() ^ 3)::int AS dom,
               random() AS r2, random() AS r3, random() AS r4
          FROM generate_series(1, :users) i) g;

-- divisions: Enterprise (limited to half the domain), Software (unlimited), Free (unpaid)
INSERT INTO seatmgr.divisions (domain_id, name, product, paid, seat_limit, seat_price)
SELECT d.domain_id, v.name, v.product, v.paid,
       CASE WHEN v.name = 'Enterprise' THEN greatest(c.n / 2, 1) END,
       v.price
  FROM seatmgr.domains d
  JOIN (SELECT domain_id, count(*) AS n FROM seatmgr.users GROUP BY domain_id) c USING (domain_id)
 CROSS JOIN (VALUES ('Enterprise', 'trello', true, 17.50), ('Software', 'jira', true, 8.15),
                    ('Free', 'trello', false, NULL)) v(name, product, paid, price)
 ORDER BY d.domain_id, v.name;
INSERT INTO seatmgr.seat_counts (division_id, active) SELECT division_id, 0 FROM seatmgr.divisions;

-- teams: one per users_per_team users of each division, plus free teams without a division
INSERT INTO seatmgr.teams (domain_id, division_id, name)
SELECT dv.domain_id, dv.division_id, dv.name || ' team ' || t
  FROM seatmgr.divisions dv
  JOIN (SELECT domain_id, count(*) AS n FROM seatmgr.users GROUP BY domain_id) c USING (domain_id)
 CROSS JOIN LATERAL generate_series(1, greatest(c.n / :users_per_team, 1)) t;
INSERT INTO seatmgr.teams (domain_id, name)
SELECT domain_id, 'free team' FROM seatmgr.domains;

-- memberships: m_ent of users in an Enterprise team, then Software, then free ones
CREATE TEMP TABLE team_pick AS
SELECT t.team_id, t.domain_id, coalesce(dv.name, 'none') AS division,
       row_number() OVER (PARTITION BY t.domain_id, dv.name ORDER BY t.team_id) AS k,
       count(*) OVER (PARTITION BY t.domain_id, dv.name) AS n
  FROM seatmgr.teams t LEFT JOIN seatmgr.divisions dv USING (division_id);
CREATE INDEX ON team_pick (domain_id, division, k);
ANALYZE team_pick;

-- (each user's team number k is computed first, behind OFFSET 0, so that the
-- team is found by an equality join on (domain, division, k), never by
-- comparing every user with every team of the domain)
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
SELECT tp.team_id, uk.user_id, pg_temp.gap(now() - uk.r3 * interval '700 days')
  FROM (SELECT u.user_id, u.domain_id, u.division, u.r3, 1 + floor(u.r2 * tn.n)::int AS k
          FROM (SELECT user_id, domain_id, r2, r3,
                       CASE WHEN r < :m_ent THEN 'Enterprise'
                            WHEN r < :m_soft THEN 'Software'
                            WHEN r < :m_free THEN 'Free' END AS division
                  FROM (SELECT user_id, domain_id, random() AS r, random() AS r2, random() AS r3
                          FROM seatmgr.users) r) u
          JOIN (SELECT DISTINCT domain_id, division, n FROM team_pick) tn
            ON tn.domain_id = u.domain_id AND tn.division = u.division
        OFFSET 0) uk
  JOIN team_pick tp ON tp.domain_id = uk.domain_id AND tp.division = uk.division AND tp.k = uk.k;

-- groups: two per domain; "All staff" grants Enterprise and Software (two products)
INSERT INTO seatmgr.groups (domain_id, name)
SELECT domain_id, g FROM seatmgr.domains CROSS JOIN (VALUES ('All staff'), ('Contractors')) v(g);
INSERT INTO seatmgr.group_grants (group_id, division_id)
SELECT g.group_id, dv.division_id
  FROM seatmgr.groups g JOIN seatmgr.divisions dv USING (domain_id)
 WHERE (g.name = 'All staff' AND dv.name IN ('Enterprise', 'Software'))
    OR (g.name = 'Contractors' AND dv.name = 'Software');
INSERT INTO seatmgr.group_members (group_id, user_id, added_at)
SELECT g.group_id, u.user_id, now() - interval '300 days'
  FROM seatmgr.users u JOIN seatmgr.groups g USING (domain_id)
 WHERE g.name = CASE WHEN u.user_id % 50 = 0 THEN 'All staff' WHEN u.user_id % 50 = 1 THEN 'Contractors' END;

-- exclusions: the service accounts, and the Contractors group of every tenth domain
INSERT INTO seatmgr.exclusions (domain_id, user_id, reason)
SELECT domain_id, user_id, 'integration' FROM seatmgr.users WHERE is_service_account;
INSERT INTO seatmgr.exclusions (domain_id, group_id, reason)
SELECT domain_id, group_id, 'contract terms' FROM seatmgr.groups
 WHERE name = 'Contractors' AND domain_id % 10 = 1;

-- the sources R1 and R3 give (paid teams and group grants)
INSERT INTO seatmgr.licenses (user_id, division_id, status, granted_at)
SELECT user_id, division_id, 'active', min(added_at)
  FROM (SELECT tm.user_id, t.division_id, tm.added_at
          FROM seatmgr.team_members tm JOIN seatmgr.teams t USING (team_id)
          JOIN seatmgr.divisions dv ON dv.division_id = t.division_id AND dv.paid
        UNION ALL
        SELECT gm.user_id, gg.division_id, gm.added_at
          FROM seatmgr.group_members gm JOIN seatmgr.group_grants gg USING (group_id)) s
 GROUP BY user_id, division_id;
INSERT INTO seatmgr.license_sources (user_id, division_id, kind, ref_id, added_at)
SELECT tm.user_id, t.division_id, 'team', tm.team_id, tm.added_at
  FROM seatmgr.team_members tm JOIN seatmgr.teams t USING (team_id)
  JOIN seatmgr.divisions dv ON dv.division_id = t.division_id AND dv.paid
UNION ALL
SELECT gm.user_id, gg.division_id, 'group', gm.group_id, gm.added_at
  FROM seatmgr.group_members gm JOIN seatmgr.group_grants gg USING (group_id);

-- shares: 5% of users get a project from a licensed colleague (R2); recipients
-- already licensed in the sharer's division gain the source, free ones a licence
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id, shared_at)
SELECT (ARRAY['project', 'goal', 'portfolio', 'dashboard'])[1 + (r.user_id % 4)],
       'obj-' || r.user_id, s.user_id, r.user_id, now() - interval '30 days'
  FROM (SELECT user_id, domain_id FROM seatmgr.users WHERE random() < 0.05) r
  JOIN (SELECT DISTINCT ON (dv.domain_id) dv.domain_id, l.user_id
          FROM seatmgr.licenses l JOIN seatmgr.divisions dv ON dv.division_id = l.division_id
         WHERE dv.name = 'Enterprise'
         ORDER BY dv.domain_id, l.user_id) s ON s.domain_id = r.domain_id AND s.user_id <> r.user_id;
INSERT INTO seatmgr.licenses (user_id, division_id, status, granted_at)
SELECT sh.recipient_id, dv.division_id, 'active', sh.shared_at
  FROM seatmgr.shares sh
  JOIN seatmgr.users u ON u.user_id = sh.recipient_id
  JOIN seatmgr.divisions dv ON dv.domain_id = u.domain_id AND dv.name = 'Enterprise'
 WHERE NOT EXISTS (SELECT 1 FROM seatmgr.licenses l WHERE l.user_id = sh.recipient_id)
ON CONFLICT DO NOTHING;
INSERT INTO seatmgr.license_sources (user_id, division_id, kind, ref_id, added_at)
SELECT sh.recipient_id, l.division_id, 'share', sh.share_id, sh.shared_at
  FROM seatmgr.shares sh
  JOIN seatmgr.users u ON u.user_id = sh.recipient_id
  JOIN seatmgr.divisions dv ON dv.domain_id = u.domain_id AND dv.name = 'Enterprise'
  JOIN seatmgr.licenses l ON l.user_id = sh.recipient_id AND l.division_id = dv.division_id;

-- R6: beyond seat_limit, licences wait, oldest grant first
UPDATE seatmgr.licenses l SET status = 'waitlisted'
  FROM (SELECT l.user_id, l.division_id,
               row_number() OVER (PARTITION BY l.division_id ORDER BY l.granted_at, l.user_id) AS rn,
               dv.seat_limit
          FROM seatmgr.licenses l JOIN seatmgr.divisions dv USING (division_id)
         WHERE dv.seat_limit IS NOT NULL) w
 WHERE l.user_id = w.user_id AND l.division_id = w.division_id AND w.rn > w.seat_limit;
UPDATE seatmgr.seat_counts c SET active = n
  FROM (SELECT division_id, count(*) AS n FROM seatmgr.licenses WHERE status = 'active' GROUP BY division_id) a
 WHERE a.division_id = c.division_id;

-- policies: the Trello defaults on every Enterprise division (shape many) or
-- on the one Software division (shape one)
INSERT INTO seatmgr.policies (division_id, enabled, run_every, grant_active_within, revoke_inactive_after, next_run_at)
SELECT division_id, true, '1 day', '30 days', '90 days', now() + interval '1 day'
  FROM seatmgr.divisions WHERE name = :'policy_division';

RESET session_replication_role;
ANALYZE;
