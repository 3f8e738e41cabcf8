-- bench/generate.sql: a realistic population of :users users, set-based.
--
--   psql -v users=1000000 -f bench/generate.sql
--
-- Many domains of very different sizes (domain k gets a share that falls
-- off like a power law: the largest holds ~10-20% of everyone), each with a
-- paid, limited "Enterprise" division (product trello), a paid unlimited
-- "Software" division (product jira) and an unpaid one; paid and free teams;
-- team memberships, shares, groups with grants (some to both products),
-- exclusions, and activity spread like real usage: most users active this
-- week, a long tail inactive for months, some never.
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

SELECT greatest(:users / 1000, 10) AS ndomains \gset

INSERT INTO seatmgr.domains (name)
SELECT 'd' || k || '.example.com' FROM generate_series(1, :ndomains) k;

-- users: domain by a power law, activity by a long-tailed mix
INSERT INTO seatmgr.users (domain_id, email, is_admin, is_service_account, last_active_at, external_id)
SELECT dom, 'u' || i || '@d' || dom || '.example.com',
       r2 < 0.005, r2 BETWEEN 0.005 AND 0.01,
       CASE WHEN r3 < 0.60 THEN now() - r4 * interval '7 days'
            WHEN r3 < 0.85 THEN now() - interval '7 days' - r4 * interval '83 days'
            WHEN r3 < 0.95 THEN now() - interval '90 days' - r4 * interval '300 days'
       END,
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

-- teams: one per 40 users of each division, plus free teams without a division
INSERT INTO seatmgr.teams (domain_id, division_id, name)
SELECT dv.domain_id, dv.division_id, dv.name || ' team ' || t
  FROM seatmgr.divisions dv
  JOIN (SELECT domain_id, count(*) AS n FROM seatmgr.users GROUP BY domain_id) c USING (domain_id)
 CROSS JOIN LATERAL generate_series(1, greatest(c.n / 40, 1)) t;
INSERT INTO seatmgr.teams (domain_id, name)
SELECT domain_id, 'free team' FROM seatmgr.domains;

-- memberships: 55% of users in an Enterprise team, 15% in a Software team, 10% in free ones
CREATE TEMP TABLE team_pick AS
SELECT t.team_id, t.domain_id, coalesce(dv.name, 'none') AS division,
       row_number() OVER (PARTITION BY t.domain_id, dv.name ORDER BY t.team_id) AS k,
       count(*) OVER (PARTITION BY t.domain_id, dv.name) AS n
  FROM seatmgr.teams t LEFT JOIN seatmgr.divisions dv USING (division_id);
CREATE INDEX ON team_pick (domain_id, division, k);

INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
SELECT tp.team_id, u.user_id, now() - random() * interval '700 days'
  FROM (SELECT user_id, domain_id, random() AS r, random() AS r2 FROM seatmgr.users) u
  JOIN team_pick tp ON tp.domain_id = u.domain_id
   AND tp.division = (CASE WHEN u.r < 0.55 THEN 'Enterprise'
                           WHEN u.r < 0.70 THEN 'Software'
                           WHEN u.r < 0.80 THEN 'Free' END)
   AND tp.k = 1 + floor(u.r2 * tp.n)::int
 WHERE u.r < 0.80;

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

-- policies: the Trello defaults on every Enterprise division
INSERT INTO seatmgr.policies (division_id, enabled, run_every, grant_active_within, revoke_inactive_after, next_run_at)
SELECT division_id, true, '1 day', '30 days', '90 days', now() + interval '1 day'
  FROM seatmgr.divisions WHERE name = 'Enterprise';

RESET session_replication_role;
ANALYZE;
