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
-- section 5: NULLs are refused, naming the column or argument, never read as an id
INSERT INTO seatmgr.users (domain_id, email) VALUES (1, NULL);
UPDATE seatmgr.domains SET name = NULL WHERE domain_id = 1;
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, NULL);
SELECT seatmgr_grant_license(NULL, 1);
SELECT seatmgr_remove_license(1, NULL);
SELECT * FROM seatmgr_explain(NULL);
SELECT * FROM seatmgr_run_export(NULL);
SELECT * FROM seatmgr_run(1, preview => NULL);
-- section 5: times in the future or infinite, intervals over 100 years, prices that are no amount
SELECT seatmgr_touch(1, '2100-01-01 00:00:00+00');
SELECT seatmgr_touch(ARRAY[1, 2], 'infinity');
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (1, 2, '-infinity');
UPDATE seatmgr.users SET last_active_at = '2100-01-01 00:00:00+00' WHERE user_id = 2;
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after) VALUES (3, '1000000 years');
INSERT INTO seatmgr.policies (division_id, enabled, next_run_at) VALUES (3, true, 'infinity');
UPDATE seatmgr.divisions SET seat_price = 'NaN' WHERE division_id = 1;
UPDATE seatmgr.divisions SET seat_price = 'Infinity' WHERE division_id = 1;
UPDATE seatmgr.divisions SET seat_price = -1 WHERE division_id = 1;
-- section 5: duplicates name both objects; a share's division of another domain
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 1);
INSERT INTO seatmgr.group_members (group_id, user_id) VALUES (1, 2), (1, 2);
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id, division_id) VALUES ('project', 'P', 1, 2, 3);
-- section 5: only seatmgr writes the tables it maintains, whatever was granted
CREATE ROLE regress_seatmgr_app;
GRANT USAGE ON SCHEMA seatmgr TO regress_seatmgr_app;
GRANT ALL ON seatmgr.licenses, seatmgr.license_events TO regress_seatmgr_app;
SET ROLE regress_seatmgr_app;
INSERT INTO seatmgr.licenses (user_id, division_id, status, granted_at) VALUES (2, 1, 'active', now());
DELETE FROM seatmgr.license_events;
RESET ROLE;
REVOKE ALL ON seatmgr.licenses, seatmgr.license_events FROM regress_seatmgr_app;
REVOKE ALL ON SCHEMA seatmgr FROM regress_seatmgr_app;
DROP ROLE regress_seatmgr_app;
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
SET seatmgr.allow_drop_with_licenses = on;
DROP EXTENSION seatmgr;
