-- scripts/sample_org.sql: a sample organization for the demo.
--
-- acme.com is a mixed domain (Asana): three paid divisions of two products
-- and an unpaid one, paid and free teams, 3,000 people with realistic
-- activity (most active this week, a long tail inactive for months, some
-- never), shares from licensed colleagues, an identity-provider group that
-- grants two products, exclusions and Trello-style policies.  globex.com is
-- a small second domain that nothing of acme.com touches.
--
-- Everything goes through seatmgr's triggers, set-based: the licences are
-- the ones the rules R1-R6 give.  setseed() makes every run the same.

\set ON_ERROR_STOP on
SELECT setseed(0.2026);

INSERT INTO seatmgr.domains (name) VALUES ('acme.com'), ('globex.com');

INSERT INTO seatmgr.divisions (domain_id, name, product, seat_limit, seat_price, on_full) VALUES
  (1, 'Engineering', 'asana', 1200, 24.99, 'waitlist'),
  (1, 'Marketing',   'asana',  260, 24.99, 'waitlist'),
  (1, 'Sales',       'jira',  NULL, 8.15,  'waitlist');
INSERT INTO seatmgr.divisions (domain_id, name, product, paid) VALUES (1, 'Community', 'asana', false);
INSERT INTO seatmgr.divisions (domain_id, name, product, seat_limit, seat_price) VALUES (2, 'Globex', 'asana', 50, 19.00);

INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES
  (1, 1, 'Platform'), (1, 1, 'Mobile'), (1, 1, 'Data'), (1, 1, 'Security'),
  (1, 2, 'Brand'), (1, 2, 'Growth'),
  (1, 3, 'Enterprise sales'), (1, 3, 'Partners'),
  (1, 4, 'Book club'), (1, NULL, 'Lunch crew'),
  (2, 5, 'Globex core');

-- people: first.last<n>@acme.com; activity has a long tail
INSERT INTO seatmgr.users (domain_id, email, is_admin, is_service_account, last_active_at, external_id)
SELECT 1,
       CASE WHEN i <= 6 THEN 'svc-' || i || '@acme.com'
            ELSE lower((ARRAY['ana','ben','chen','dana','eli','fay','gus','hana','ivan','jo','kim','leo','mia','noor','omar','pia','quinn','raj','sam','tess'])[1 + i % 20]
                 || '.' || (ARRAY['smith','garcia','kim','mueller','okafor','rossi','singh','tanaka','nowak','silva'])[1 + (i / 20) % 10]
                 || i || '@acme.com') END,
       i BETWEEN 7 AND 16,
       i <= 6,
       CASE WHEN r < 0.62 THEN now() - random() * interval '7 days'
            WHEN r < 0.80 THEN now() - interval '7 days' - random() * interval '53 days'
            WHEN r < 0.95 THEN now() - interval '60 days' - random() * interval '300 days'
       END,
       'okta-' || lpad(i::text, 5, '0')
  FROM (SELECT i, random() AS r FROM generate_series(1, 3000) i) g;
INSERT INTO seatmgr.users (domain_id, email, last_active_at)
SELECT 2, 'user' || i || '@globex.com', now() - random() * interval '120 days' FROM generate_series(1, 60) i;

-- R1: team invites, accepted over the last two years (the oldest first)
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
SELECT team_id, user_id, added_at
  FROM (SELECT u.user_id,
               CASE WHEN r < 0.45 THEN 1 + (u.user_id % 4)       -- Engineering
                    WHEN r < 0.55 THEN 5 + (u.user_id % 2)       -- Marketing
                    WHEN r < 0.65 THEN 7 + (u.user_id % 2)       -- Sales
                    WHEN r < 0.75 THEN 9 + (u.user_id % 2)       -- free teams
               END AS team_id,
               now() - interval '730 days' + (u.user_id * interval '5 hours') AS added_at
          FROM (SELECT user_id, random() AS r FROM seatmgr.users WHERE domain_id = 1) u) t
 WHERE team_id IS NOT NULL
 ORDER BY added_at;
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
SELECT 11, user_id, now() - interval '200 days' FROM seatmgr.users WHERE domain_id = 2;

-- R2: licensed people share projects, goals and portfolios with free colleagues
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id, shared_at)
SELECT (ARRAY['project', 'goal', 'portfolio', 'dashboard', 'project_template'])[1 + r.user_id % 5],
       'obj-' || r.user_id, s.user_id, r.user_id, now() - (r.user_id % 90) * interval '1 day'
  FROM (SELECT user_id FROM seatmgr.users u
         WHERE domain_id = 1 AND NOT EXISTS (SELECT 1 FROM seatmgr.licenses l WHERE l.user_id = u.user_id)
           AND user_id % 7 = 0) r
  CROSS JOIN LATERAL (SELECT l.user_id FROM seatmgr.licenses l
                       WHERE l.division_id = 1 + r.user_id % 2 AND l.status = 'active'
                       ORDER BY l.user_id LIMIT 1) s;

-- R3: an identity-provider group granting two products, and a one-product group
INSERT INTO seatmgr.groups (domain_id, name) VALUES (1, 'okta-all-tools'), (1, 'okta-contractors'), (1, 'okta-board');
INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (1, 1), (1, 3), (2, 3);
INSERT INTO seatmgr.group_members (group_id, user_id, added_at)
SELECT CASE WHEN user_id % 40 = 1 THEN 1 ELSE 2 END, user_id, now() - interval '400 days'
  FROM seatmgr.users WHERE domain_id = 1 AND user_id % 40 IN (1, 2);
INSERT INTO seatmgr.group_members (group_id, user_id) VALUES (3, 7), (3, 8);

-- exclusions: the service accounts, and the board
INSERT INTO seatmgr.exclusions (domain_id, user_id, reason)
SELECT 1, user_id, 'service account used by integrations' FROM seatmgr.users WHERE is_service_account;
INSERT INTO seatmgr.exclusions (domain_id, group_id, reason) VALUES (1, 3, 'board members keep their seats');

-- R4: an admin hands out a few seats directly
SELECT seatmgr_grant_license(user_id, 2) FROM seatmgr.users
 WHERE domain_id = 1 AND user_id BETWEEN 2990 AND 2994;

-- policies: Trello's presets (daily; grant within 30 days; revoke after 90 days)
INSERT INTO seatmgr.policies (division_id, enabled, run_every, grant_active_within, revoke_inactive_after, grant_scope)
VALUES (1, true, '1 day', '30 days', '90 days', 'domain'),
       (2, true, '7 days', '60 days', '120 days', 'division'),
       (5, false, '30 days', '90 days', '180 days', 'domain');

ANALYZE;
