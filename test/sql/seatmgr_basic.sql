-- seatmgr_basic: the session a user types, with the exact output they see.
-- Rules: R1 team invite, R2 share, R3 group, R4 admin, R5 losing sources,
-- R6 seat limit and waitlist, R9 reactivation; the sweep R7, R8, R10, R12.
CREATE EXTENSION seatmgr;

-- a mixed domain (Asana): a paid division with 3 seats, a free team
INSERT INTO seatmgr.domains (name) VALUES ('Acme.COM') RETURNING name;
INSERT INTO seatmgr.divisions (domain_id, name, seat_limit, seat_price)
VALUES (1, 'Enterprise', 3, 10.00), (1, 'Jira', NULL, 5.00);
INSERT INTO seatmgr.divisions (domain_id, name, paid) VALUES (1, 'Community', false);
INSERT INTO seatmgr.teams (domain_id, division_id, name)
VALUES (1, 1, 'Team A'), (1, 1, 'Team B'), (1, 3, 'Free team'), (1, NULL, 'No division');
INSERT INTO seatmgr.users (domain_id, email, last_active_at)
SELECT 1, name || '@acme.com', '2026-01-01'::timestamptz - (n || ' days')::interval
  FROM unnest(ARRAY['sam', 'jo', 'ann', 'bob', 'eve']) WITH ORDINALITY AS u(name, n);

-- R1: paid teams give a licence with source team:<id>; free teams give nothing
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES
  (1, 1, '2025-06-01'), (2, 1, '2025-06-02'), (3, 2, '2025-06-03'), (4, 2, '2025-06-04');
SELECT user_id, division_id, status, granted_at = '2025-06-01' AS granted_at_team_time
  FROM seatmgr.licenses ORDER BY user_id, division_id;
SELECT user_id, division_id, kind, ref_id FROM seatmgr.license_sources ORDER BY 1, 2, 3, 4;

-- R2: Sam shares a project with Jo, who is free: Jo gets a seat without a team
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id)
VALUES ('project', 'Project A', 1, 2);
SELECT * FROM seatmgr_explain(2);

-- R3: a group with a grant
INSERT INTO seatmgr.groups (domain_id, name) VALUES (1, 'Jira users');
INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (1, 2);
INSERT INTO seatmgr.group_members (group_id, user_id) VALUES (1, 3);
SELECT division_id, status, sources FROM seatmgr_explain(3);

-- R6: the third seat goes to Ann (invited long ago), Bob waits
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (2, 3, '2025-06-05');
SELECT seatmgr_grant_license(4, 1);
SELECT division, seat_limit, active, deactivated, waitlisted, free_seats, cost
  FROM seatmgr.division_seats ORDER BY division_id;

-- R5: Sam leaves both teams but keeps nothing: no other source; Bob gets the seat
DELETE FROM seatmgr.team_members WHERE user_id = 1;
SELECT user_id, status FROM seatmgr.licenses WHERE division_id = 1 ORDER BY user_id;
-- ... and Jo keeps the seat the share gave her after leaving her teams (Asana: Sam)
SELECT division_id, status, sources FROM seatmgr_explain(2);

-- R4: an admin removes Jo's licence
SELECT seatmgr_remove_license(2, 1);
SELECT user_id, status FROM seatmgr.licenses WHERE division_id = 1 ORDER BY user_id;

-- the history of every change, with the role that caused it
SELECT user_id, division_id, event, source_kind, source_ref, actor
  FROM seatmgr.license_events ORDER BY event_id;

-- the sweep: Ann (inactive since December 2025) loses her seat, Eve gets it
SELECT seatmgr_touch(ARRAY[4, 5]::bigint[], now() - interval '1 day');
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after, grant_active_within)
VALUES (1, '90 days', '30 days');
SELECT division_id, user_id, email, action, reason FROM seatmgr_run(1, preview => true);
SELECT run_id, division_id, user_id, email, action, reason FROM seatmgr_run(1);
SELECT run_id, division, trigger, status, users_added, users_deactivated FROM seatmgr.run_history;
SELECT run_id, division, email, action, reason FROM seatmgr_run_export(1);
SELECT division_id, status, sources, regexp_replace(verdict, '\d{4}-\d\d-\d\d', 'YYYY-MM-DD') AS verdict
  FROM seatmgr_explain(3) WHERE division_id = 1;

-- R9: a new source gives Ann her seat back
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 3);
SELECT division_id, status, sources FROM seatmgr_explain(3) WHERE division_id = 1;
SELECT event, source_kind, source_ref FROM seatmgr.license_events ORDER BY event_id DESC LIMIT 1;

-- section 5: dropping the extension while it holds licenses is refused
DROP EXTENSION seatmgr;
SET seatmgr.allow_drop_with_licenses = on;
DROP EXTENSION seatmgr;
