-- scripts/sample_org.sql: a sample organization for the demo (scripts/demo.sh).
--
--   psql -d db -f scripts/sample_org.sql      (after CREATE EXTENSION seatmgr)
--
-- acme.com is a mixed domain (Asana): three paid divisions of two products
-- and an unpaid one, paid and free teams, 3,000 people with realistic
-- activity (most active this week, a long tail inactive for months, about
-- 5% never), team memberships and shares with their history, an identity-
-- provider group that grants two products, exclusions and Trello's policy
-- presets.  globex.com is a small second domain that nothing of acme.com
-- touches.
--
-- A few named people carry the demo's story:
--   sam.lee@acme.com     in the Platform team; Ben also shared a goal with her
--   jo.park@acme.com     in no team; Sam shared a project with her (Asana's Jo)
--   ben.okafor@acme.com  in the Platform team
--   ana.ruiz@acme.com    joined the Mobile team yesterday, when Engineering was full
--   raj.patel@acme.com   in the IdP group "Jira+Trello", inactive for months
--   lena.fischer@acme.com  the CEO, excluded from automation
--
-- Everything goes through seatmgr's triggers, set-based (INSERT ... SELECT):
-- the licences are exactly the ones rules R1-R6 give.  setseed() makes every
-- load the same, so the demo's output is stable from one run to the next.

\set ON_ERROR_STOP on
SELECT setseed(0.2026);

INSERT INTO seatmgr.domains (name) VALUES ('acme.com'), ('globex.com');

-- divisions: Engineering queues new people when full; Marketing refuses them
-- (on_full = 'error'); Sales has no limit; Community is not paid
INSERT INTO seatmgr.divisions (domain_id, name, product, paid, seat_limit, seat_price, on_full) VALUES
  (1, 'Engineering', 'jira',   true,  900,  24.00, 'waitlist'),   -- 1
  (1, 'Marketing',   'jira',   true,  150,  24.00, 'error'),      -- 2
  (1, 'Sales',       'trello', true,  NULL, 10.00, 'waitlist'),   -- 3
  (1, 'Community',   'trello', false, NULL, NULL,  'waitlist'),   -- 4
  (2, 'Globex',      'jira',   true,  30,   24.00, 'waitlist');   -- 5

INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES
  (1, 1, 'Platform'), (1, 1, 'Mobile'), (1, 1, 'Data'), (1, 1, 'Security'),   -- 1-4 Engineering
  (1, 2, 'Brand'), (1, 2, 'Growth'),                                          -- 5-6 Marketing
  (1, 3, 'Enterprise sales'), (1, 3, 'Partners'),                             -- 7-8 Sales
  (1, 4, 'Book club'),                                                        -- 9 unpaid division: free
  (1, NULL, 'Lunch crew'),                                                    -- 10 no division: free
  (2, 5, 'Globex core');                                                      -- 11

-- people -------------------------------------------------------------------

-- the named ones (user ids 1-6)
INSERT INTO seatmgr.users (domain_id, email, is_admin, last_active_at, external_id) VALUES
  (1, 'sam.lee@acme.com',      false, now() - interval '1 day',   'okta|00u000001'),
  (1, 'jo.park@acme.com',      false, now() - interval '3 hours', 'okta|00u000002'),
  (1, 'ben.okafor@acme.com',   false, now() - interval '2 days',  'okta|00u000003'),
  (1, 'ana.ruiz@acme.com',     false, now() - interval '1 hour',  'okta|00u000004'),
  (1, 'raj.patel@acme.com',    false, now() - interval '140 days','okta|00u000005'),
  (1, 'lena.fischer@acme.com', true,  now() - interval '150 days','okta|00u000006');

-- service accounts (ids 7-9): never log in; protected by the policies
INSERT INTO seatmgr.users (domain_id, email, is_service_account) VALUES
  (1, 'svc-jenkins@acme.com', true), (1, 'svc-github@acme.com', true), (1, 'svc-backup@acme.com', true);

-- 2,991 more (ids 10-3000): firstname.lastname<n>@acme.com; 62% active this
-- week, 18% within 90 days, 15% inactive for 3 to 12 months, 5% never
INSERT INTO seatmgr.users (domain_id, email, is_admin, last_active_at, external_id)
SELECT 1,
       (ARRAY['ana','ben','chen','dana','eli','fay','gus','hana','ivan','jo','kim','leo','mia','noor','omar','pia','quinn','raj','sam','tess'])[1 + g % 20]
         || '.' || (ARRAY['smith','garcia','kim','mueller','okafor','rossi','singh','tanaka','nowak','silva','dubois'])[1 + (g / 20) % 11]
         || g || '@acme.com',
       g % 500 = 7,
       CASE WHEN r < 0.62 THEN now() - random() * interval '7 days'
            WHEN r < 0.80 THEN now() - interval '7 days' - random() * interval '83 days'
            WHEN r < 0.95 THEN now() - interval '90 days' - random() * interval '275 days'
       END,
       'okta|00u' || lpad(g::text, 6, '0')
  FROM (SELECT g, random() AS r FROM generate_series(10, 3000) g) s
 ORDER BY g;

INSERT INTO seatmgr.users (domain_id, email, last_active_at, external_id)
SELECT 2, 'user' || g || '@globex.com', now() - random() * interval '120 days', 'globex-' || g
  FROM generate_series(1, 40) g;

-- the story: Sam joins Platform long ago (R1) and shares a project with Jo,
-- who is in no team: Jo gets an Engineering seat by the share alone (R2)
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES
  (1, 1, now() - interval '400 days'),
  (1, 3, now() - interval '380 days'),
  (1, 6, now() - interval '700 days');
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id, shared_at) VALUES
  ('project', 'Q3 launch plan', 1, 2, now() - interval '20 days');

-- R3: the identity provider's "Jira+Trello" group gives Engineering (jira) and
-- Sales (trello); "Leadership" gives nothing but is excluded from automation
INSERT INTO seatmgr.groups (domain_id, name) VALUES (1, 'Jira+Trello'), (1, 'Leadership');
INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (1, 1), (1, 3);
INSERT INTO seatmgr.group_members (group_id, user_id, added_at)
SELECT 1, user_id, now() - interval '300 days'
  FROM seatmgr.users WHERE domain_id = 1 AND (user_id = 5 OR (user_id >= 10 AND user_id % 100 IN (55, 56)));

-- R1: team invites accepted over the last two years, oldest first.  By user
-- id: 29% Engineering, 3% Marketing, 12% Sales, 10% free teams, the rest in
-- no team; the service accounts sit in Platform.  Engineering fills up in
-- the last weeks: its latest joiners wait for a seat.
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
SELECT team_id, user_id, added_at
  FROM (SELECT user_id,
               CASE WHEN user_id BETWEEN 7 AND 9 THEN 1
                    WHEN user_id % 100 < 29 THEN 1 + user_id % 4
                    WHEN user_id % 100 < 32 THEN 5 + user_id % 2
                    WHEN user_id % 100 < 44 THEN 7 + user_id % 2
                    WHEN user_id % 100 < 54 THEN 9 + user_id % 2
               END AS team_id,
               now() - interval '730 days' + user_id * interval '5 hours 45 minutes' AS added_at
          FROM seatmgr.users WHERE domain_id = 1 AND user_id >= 7) m
 WHERE team_id IS NOT NULL
 ORDER BY added_at;

-- a few engineers are also in a free team: that gives nothing more
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
SELECT 10, user_id, now() - interval '90 days'
  FROM seatmgr.team_members WHERE team_id = 1 AND user_id % 9 = 0;

-- Globex: 35 people for 30 seats
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
SELECT 11, user_id, now() - interval '200 days' + (user_id - 3000) * interval '1 day'
  FROM seatmgr.users WHERE domain_id = 2 ORDER BY user_id LIMIT 35;

-- R2: licensed colleagues share projects, goals and portfolios with people
-- in no team.  Sharers are engineers and marketers who hold that one licence;
-- Engineering is full by now, so its share recipients wait.
WITH sharers AS (
  SELECT l.division_id, l.user_id,
         row_number() OVER (PARTITION BY l.division_id ORDER BY l.user_id) AS k,
         count(*) OVER (PARTITION BY l.division_id) AS n
    FROM seatmgr.licenses l
   WHERE l.division_id IN (1, 2) AND l.status = 'active' AND l.user_id >= 10
     AND NOT EXISTS (SELECT 1 FROM seatmgr.licenses o WHERE o.user_id = l.user_id AND o.division_id <> l.division_id)),
recipients AS (
  SELECT u.user_id, CASE WHEN u.user_id % 100 = 57 THEN 1 ELSE 2 END AS division_id, random() AS r
    FROM seatmgr.users u
   WHERE u.domain_id = 1 AND u.user_id >= 10 AND u.user_id % 100 IN (57, 58))
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id, shared_at)
SELECT (ARRAY['project', 'goal', 'portfolio'])[1 + r.user_id % 3],
       'obj-' || r.user_id, s.user_id, r.user_id, now() - (r.user_id % 60) * interval '1 day'
  FROM recipients r
  JOIN (SELECT division_id, max(n) AS n FROM sharers GROUP BY 1) c USING (division_id)
  JOIN sharers s ON s.division_id = r.division_id AND s.k = 1 + floor(r.r * c.n)::bigint
 ORDER BY 5;

-- ... and with teammates who already hold the licence: the share is one more
-- source (R2), no new seat; Ben shares a goal with Sam
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id, shared_at) VALUES
  ('goal', 'Platform OKRs', 3, 1, now() - interval '45 days');
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id, shared_at)
SELECT 'project', 'sprint-' || a.user_id, a.user_id, b.user_id, now() - interval '10 days'
  FROM seatmgr.team_members a
  JOIN seatmgr.team_members b ON b.team_id = a.team_id AND b.user_id = a.user_id + 4
 WHERE a.team_id IN (1, 2, 3, 4) AND a.user_id % 13 = 0 AND a.user_id >= 10;

-- R4: an admin hands out a few Marketing seats directly
SELECT count(seatmgr_grant_license(user_id, 2)) AS admin_grants
  FROM seatmgr.users WHERE domain_id = 1 AND user_id % 100 = 90 AND user_id < 600;

-- Ana joins Mobile yesterday: Engineering is full, she is last in line (R6)
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (2, 4, now() - interval '1 day');

-- exclusions: the CEO, and the Leadership group
INSERT INTO seatmgr.group_members (group_id, user_id, added_at)
SELECT 2, user_id, now() - interval '500 days'
  FROM seatmgr.users WHERE domain_id = 1 AND (is_admin OR user_id % 250 = 3);
INSERT INTO seatmgr.exclusions (domain_id, user_id, reason) VALUES (1, 6, 'the CEO keeps her seat');
INSERT INTO seatmgr.exclusions (domain_id, group_id, reason) VALUES (1, 2, 'leadership keeps its seats');

-- policies: Trello's presets (daily; give seats to people active within 30
-- days; take them from people inactive for 90 days).  Sales has no limit: it
-- gives seats back only to people who held one there.  Globex's is off.
INSERT INTO seatmgr.policies (division_id, enabled, run_every, grant_active_within, revoke_inactive_after, grant_scope) VALUES
  (1, true,  '1 day',  '30 days', '90 days', 'domain'),
  (2, true,  '1 day',  '30 days', '90 days', 'domain'),
  (3, true,  '1 day',  '30 days', '90 days', 'division'),
  (5, false, '7 days', '30 days', '90 days', 'domain');

ANALYZE;
