-- seatmgr_errors: every error a user can see, exactly (SPEC section 5).
-- Each bad statement fails and changes nothing; the counts at the end show it.
CREATE EXTENSION seatmgr;
\set VERBOSITY default
INSERT INTO seatmgr.domains (name) VALUES ('acme.com'), ('other.com');
INSERT INTO seatmgr.divisions (domain_id, name, seat_limit, on_full) VALUES (1, 'Eng', 1, 'error');
INSERT INTO seatmgr.divisions (domain_id, name, paid) VALUES (1, 'Free', false);
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (2, 'Other');
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'Team A');
INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'sam@acme.com'), (1, 'jo@acme.com'), (2, 'max@other.com');
INSERT INTO seatmgr.groups (domain_id, name) VALUES (1, 'Staff'), (2, 'Elsewhere');
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 1);

-- section 5: malformed domain names
INSERT INTO seatmgr.domains (name) VALUES ('acme..com');
INSERT INTO seatmgr.domains (name) VALUES ('-acme.com');
INSERT INTO seatmgr.domains (name) VALUES ('acme');
INSERT INTO seatmgr.domains (name) VALUES ('ACME.COM');
-- section 5: malformed e-mail addresses, and a taken one
INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'sam');
INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'sam smith@acme.com');
INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'sam@acme');
INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'SAM@acme.com');
-- section 5: unknown ids
INSERT INTO seatmgr.users (domain_id, email) VALUES (99, 'new@acme.com');
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 99);
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (99, 1);
INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (1, 99);
SELECT seatmgr_grant_license(99, 1);
SELECT seatmgr_grant_license(1, 99);
SELECT seatmgr_touch(99);
SELECT seatmgr_touch(ARRAY[1, 99]::bigint[]);
SELECT * FROM seatmgr_explain(99);
SELECT * FROM seatmgr_run(99);
SELECT * FROM seatmgr_run_export(99);
-- section 5: a user or team of another domain
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 3);
INSERT INTO seatmgr.group_members (group_id, user_id) VALUES (2, 1);
INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (2, 1);
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 3, 'Mixed up');
INSERT INTO seatmgr.exclusions (domain_id, user_id) VALUES (1, 3);
SELECT seatmgr_grant_license(3, 1);
UPDATE seatmgr.users SET domain_id = 2 WHERE user_id = 1;
-- section 5: a share with oneself, an unknown object type
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id) VALUES ('project', 'P', 1, 1);
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id) VALUES ('board', 'P', 1, 2);
-- section 5: negative or zero intervals, bad choices
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after) VALUES (1, '-30 days');
INSERT INTO seatmgr.policies (division_id, grant_active_within) VALUES (1, '0 days');
INSERT INTO seatmgr.policies (division_id, run_every) VALUES (1, '-1 hour');
INSERT INTO seatmgr.policies (division_id, grant_scope) VALUES (1, 'everyone');
INSERT INTO seatmgr.divisions (domain_id, name, seat_limit) VALUES (1, 'Bad', -1);
-- R6: a seat_limit below the seats in use (Sam holds Eng's one seat)
UPDATE seatmgr.divisions SET seat_limit = 0 WHERE division_id = 1;
INSERT INTO seatmgr.divisions (domain_id, name, on_full) VALUES (1, 'Bad', 'queue');
-- an exclusion names exactly one of user and group
INSERT INTO seatmgr.exclusions (domain_id) VALUES (1);
-- R4: unpaid divisions hold no licences; group-held licences belong to the group
SELECT seatmgr_grant_license(2, 2);
SELECT seatmgr_remove_license(2, 1);
INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (1, 1);
-- R6: on_full = 'error': Sam holds the only seat, so Jo's group membership fails whole
INSERT INTO seatmgr.group_members (group_id, user_id) VALUES (1, 2);
SELECT seatmgr_grant_license(2, 1);
-- the group-held licence of Sam cannot be removed by an admin
DELETE FROM seatmgr.group_grants;
INSERT INTO seatmgr.group_members (group_id, user_id) VALUES (1, 1);
INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (1, 1);
SELECT seatmgr_remove_license(1, 1);
-- activity
SELECT seatmgr_touch(1, NULL);
SELECT seatmgr_touch(ARRAY[1, NULL]::bigint[]);
-- the sweep
SELECT * FROM seatmgr_run(1);
CALL seatmgr_sweep() \g
BEGIN;
CALL seatmgr_sweep();
ROLLBACK;
SELECT seatmgr_schedule();

-- nothing of the failed statements remains
SELECT (SELECT count(*) FROM seatmgr.domains) AS domains, (SELECT count(*) FROM seatmgr.users) AS users,
       (SELECT count(*) FROM seatmgr.team_members) AS team_members, (SELECT count(*) FROM seatmgr.shares) AS shares,
       (SELECT count(*) FROM seatmgr.policies) AS policies, (SELECT count(*) FROM seatmgr.licenses) AS licenses,
       (SELECT count(*) FROM seatmgr.license_events) AS events;
DROP EXTENSION seatmgr;
