-- pgTAP: the licence rules the triggers enforce, R1-R6 and R9 of SPEC.md.
BEGIN;
CREATE EXTENSION seatmgr;
SELECT no_plan();

-- fixture: acme.com (mixed domain) and other.com
INSERT INTO seatmgr.domains (name) VALUES ('acme.com'), ('other.com');
INSERT INTO seatmgr.divisions (domain_id, name, product) VALUES
  (1, 'Eng', 'asana'),        -- 1: paid, unlimited
  (1, 'Mkt', 'asana'),        -- 2: paid, unlimited
  (2, 'Other', 'asana');      -- 3: another domain
INSERT INTO seatmgr.divisions (domain_id, name, paid) VALUES (1, 'Free', false);   -- 4: unpaid
INSERT INTO seatmgr.divisions (domain_id, name, seat_limit) VALUES (1, 'Small', 2); -- 5: limited
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES
  (1, 1, 'Eng A'), (1, 1, 'Eng B'), (1, 2, 'Mkt A'), (1, 4, 'Free div team'), (1, NULL, 'No division'),
  (1, 5, 'Small A');
INSERT INTO seatmgr.users (domain_id, email)
SELECT 1, 'u' || i || '@acme.com' FROM generate_series(1, 12) i;
INSERT INTO seatmgr.users (domain_id, email) VALUES (2, 'x@other.com');  -- user 13

CREATE TEMP VIEW lic AS
SELECT l.user_id, l.division_id, l.status,
       array_agg(s.kind || coalesce(':' || s.ref_id, '') ORDER BY s.kind, s.ref_id) AS sources
  FROM seatmgr.licenses l LEFT JOIN seatmgr.license_sources s USING (user_id, division_id)
 GROUP BY 1, 2, 3;

-- R1 team invite -------------------------------------------------------------
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (1, 1, '2025-03-01');
SELECT results_eq($$SELECT status, sources FROM lic WHERE user_id = 1$$,
                  $$VALUES ('active'::text, ARRAY['team:1'])$$,
                  'R1: a paid team gives a licence in its division with source team:<id>');
SELECT is((SELECT granted_at FROM seatmgr.licenses WHERE user_id = 1), '2025-03-01'::timestamptz,
          'R1: granted_at is the time of the membership that granted it (import with history)');
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (2, 1);
SELECT results_eq($$SELECT count(*)::int, max(sources::text) FROM lic WHERE user_id = 1$$,
                  $$VALUES (1, '{team:1,team:2}')$$,
                  'R1: two paid teams of one division: one licence, two sources');
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (4, 2), (5, 2);
SELECT is((SELECT count(*)::int FROM seatmgr.licenses WHERE user_id = 2), 0,
          'R1: a free team (unpaid division, or none) gives nothing');
SELECT is((SELECT event FROM seatmgr.license_events WHERE user_id = 1), 'granted',
          'R1: the grant leaves a license_events row');

-- R1 in bulk: one INSERT of many memberships (new licences, two teams of one
-- division, an existing licence, a free team) gives what the rows would one by one
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'Eng C'), (1, 1, 'Eng D');  -- teams 7, 8
INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'b1@acme.com'), (1, 'b2@acme.com');         -- users 14, 15
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES
  (7, 14, '2025-05-02'), (8, 14, '2025-05-01'), (7, 15, '2025-05-03'), (7, 1, '2025-05-04'), (4, 15, '2025-05-05');
SELECT results_eq($$SELECT user_id::int, status, sources FROM lic WHERE user_id IN (1, 14, 15) AND division_id = 1 ORDER BY 1$$,
                  $$VALUES (1, 'active'::text, ARRAY['team:1', 'team:2', 'team:7']), (14, 'active', ARRAY['team:7', 'team:8']),
                           (15, 'active', ARRAY['team:7'])$$,
                  'R1: a multi-row invite gives each member one licence with every team as a source');
SELECT is((SELECT granted_at FROM seatmgr.licenses WHERE user_id = 14), '2025-05-01'::timestamptz,
          'R1: a licence granted by two rows of one statement takes the earliest membership''s time');
SELECT results_eq($$SELECT user_id::int, event, source_kind, source_ref::int FROM seatmgr.license_events
                     WHERE user_id IN (14, 15) ORDER BY event_id$$,
                  $$VALUES (14, 'granted'::text, 'team'::text, 8), (15, 'granted', 'team', 7)$$,
                  'R1/R12: one granted event per new licence, naming the source');
DELETE FROM seatmgr.team_members WHERE team_id IN (7, 8);
DELETE FROM seatmgr.users WHERE user_id IN (14, 15);
DELETE FROM seatmgr.teams WHERE team_id IN (7, 8);

-- R2 share ----------------------------------------------------------------------
-- user 1 holds Eng; user 3 is free
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id, shared_at)
VALUES ('project', 'P1', 1, 3, '2025-04-01');
SELECT results_eq($$SELECT division_id::int, status, sources FROM lic WHERE user_id = 3$$,
                  $$VALUES (1, 'active'::text, ARRAY['share:1'])$$,
                  'R2: a free recipient gets a licence in the sharer''s division, source share:<id>, no team');
SELECT is((SELECT granted_at FROM seatmgr.licenses WHERE user_id = 3), '2025-04-01'::timestamptz,
          'R2: granted_at is shared_at');
SELECT is((SELECT count(*)::int FROM seatmgr.team_members WHERE user_id = 3), 0, 'R2: the recipient joins no team');
-- a recipient already licensed in D gains the source
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id) VALUES ('goal', 'G1', 3, 1);
SELECT is((SELECT sources FROM lic WHERE user_id = 1), ARRAY['share:2', 'team:1', 'team:2'],
          'R2: a recipient already licensed in D gains the source');
-- a recipient licensed only in another division changes nothing
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (3, 4);          -- user 4 holds Mkt
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id) VALUES ('portfolio', 'F', 1, 4);
SELECT results_eq($$SELECT division_id::int, sources FROM lic WHERE user_id = 4$$,
                  $$VALUES (2, ARRAY['team:3'])$$,
                  'R2: a recipient licensed only in other divisions changes nothing');
-- a sharer without a licence changes nothing
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id) VALUES ('project', 'P2', 5, 6);
SELECT is((SELECT count(*)::int FROM seatmgr.licenses WHERE user_id IN (5, 6)), 0,
          'R2: a sharer without a licence changes nothing');
-- a recipient of another domain changes nothing, and is no error
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id) VALUES ('dashboard', 'D', 1, 13);
SELECT is((SELECT count(*)::int FROM seatmgr.licenses WHERE user_id = 13), 0,
          'R2: a recipient of another domain changes nothing');
-- division_id given: the sharer must hold an active licence there
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id, division_id)
VALUES ('project', 'P3', 1, 7, 2);
SELECT is((SELECT count(*)::int FROM seatmgr.licenses WHERE user_id = 7), 0,
          'R2: a given division where the sharer holds no seat: nothing happens');
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id, division_id)
VALUES ('project', 'P4', 4, 7, 2);
SELECT is((SELECT division_id::int FROM seatmgr.licenses WHERE user_id = 7), 2,
          'R2: a given division where the sharer holds a seat licenses the recipient there');
-- without division_id: the sharer's earliest-granted active licence
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (3, 8, '2024-01-01'), (1, 8, '2025-01-01');
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id) VALUES ('project_template', 'T', 8, 9);
SELECT is((SELECT division_id::int FROM seatmgr.licenses WHERE user_id = 9), 2,
          'R2: without division_id, D is the sharer''s earliest-granted active licence');

-- R2 in bulk: one INSERT of many shares gives what the rows would one by one,
-- in order: a chain (a recipient who shares further in the same statement), two
-- shares to one free recipient from two divisions, another domain
INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'c1@acme.com'), (1, 'c2@acme.com'), (1, 'c3@acme.com'), (1, 'c4@acme.com');
CREATE FUNCTION pg_temp.u(text) RETURNS bigint LANGUAGE sql AS $$ SELECT user_id FROM seatmgr.users WHERE email = $1 $$;
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id)
SELECT 'project', o, pg_temp.u(a), pg_temp.u(b)
  FROM (VALUES ('B1', 'u1@acme.com', 'c1@acme.com'),   -- Eng: c1 free, gets Eng
               ('B2', 'c1@acme.com', 'c2@acme.com'),   -- c1 shares on: c2 gets Eng
               ('B3', 'u4@acme.com', 'c3@acme.com'),   -- Mkt first: c3 gets Mkt
               ('B4', 'u1@acme.com', 'c3@acme.com'),   -- then Eng: c3 licensed elsewhere, nothing
               ('B5', 'u1@acme.com', 'c4@acme.com'),   -- c4 free, gets Eng
               ('B6', 'u1@acme.com', 'x@other.com')) v(o, a, b);
SELECT results_eq($$SELECT u.email, l.division_id::int, l.status FROM seatmgr.licenses l JOIN seatmgr.users u USING (user_id)
                     WHERE u.email IN ('c1@acme.com', 'c2@acme.com', 'c3@acme.com', 'c4@acme.com', 'x@other.com')
                     ORDER BY 1, 2$$,
                  $$VALUES ('c1@acme.com'::text, 1, 'active'::text), ('c2@acme.com', 1, 'active'),
                           ('c3@acme.com', 2, 'active'), ('c4@acme.com', 1, 'active')$$,
                  'R2: a multi-row share gives what the rows would one by one, in order');
SELECT is((SELECT count(*)::int FROM seatmgr.license_events e JOIN seatmgr.users u USING (user_id)
            WHERE u.email LIKE 'c_@acme.com' AND e.event = 'granted' AND e.source_kind = 'share'), 4,
          'R2/R12: one granted event per licence the shares gave');
DELETE FROM seatmgr.users WHERE email LIKE 'c_@acme.com';

-- R3 group -------------------------------------------------------------------------
INSERT INTO seatmgr.groups (domain_id, name) VALUES (1, 'Staff'), (1, 'Interns');
INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (1, 1), (1, 2), (1, 4);
INSERT INTO seatmgr.group_members (group_id, user_id) VALUES (1, 10);
SELECT results_eq($$SELECT division_id::int, sources FROM lic WHERE user_id = 10 ORDER BY 1$$,
                  $$VALUES (1, ARRAY['group:1']), (2, ARRAY['group:1'])$$,
                  'R3: a group member holds a licence in each granted paid division; the unpaid grant gives nothing');
INSERT INTO seatmgr.group_members (group_id, user_id) VALUES (2, 11);
INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (2, 1);
SELECT is((SELECT sources FROM lic WHERE user_id = 11), ARRAY['group:2'],
          'R3: a new grant licenses the group''s current members');
DELETE FROM seatmgr.group_grants WHERE group_id = 2;
SELECT is((SELECT count(*)::int FROM seatmgr.licenses WHERE user_id = 11), 0,
          'R3/R5: removing the grant removes the source and the licence');
DELETE FROM seatmgr.group_members WHERE user_id = 10;
SELECT is((SELECT count(*)::int FROM seatmgr.licenses WHERE user_id = 10), 0,
          'R3/R5: leaving the group removes its licences');

-- R4 admin --------------------------------------------------------------------------
SELECT is(seatmgr_grant_license(12, 1), 'active', 'R4: seatmgr_grant_license returns the status');
SELECT is((SELECT sources FROM lic WHERE user_id = 12), ARRAY['admin'], 'R4: the grant adds source admin');
SELECT throws_ok($$SELECT seatmgr_grant_license(12, 4)$$, '55000', 'division 4 ("Free") is not paid',
                 'R4: a grant into an unpaid division is an error');
-- remove: every source, the memberships of that division's teams (not of others), and the licence
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 12), (2, 12), (3, 12);
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id) VALUES ('goal', 'G2', 1, 12);
SELECT lives_ok($$SELECT seatmgr_remove_license(12, 1)$$, 'R4: remove a licence held through teams, a share and admin');
SELECT is((SELECT count(*)::int FROM seatmgr.licenses WHERE user_id = 12 AND division_id = 1), 0,
          'R4: the user leaves the division');
SELECT is((SELECT count(*)::int FROM seatmgr.license_sources WHERE user_id = 12 AND division_id = 1), 0,
          'R4: every source of that licence is gone');
SELECT results_eq($$SELECT event, source_kind FROM seatmgr.license_events WHERE user_id = 12 AND division_id = 1
                     ORDER BY event_id DESC LIMIT 1$$,
                  $$VALUES ('removed'::text, 'admin'::text)$$,
                  'R4/R12: the removal is logged as the admin''s, even for a licence held through teams');
SELECT results_eq($$SELECT team_id::int FROM seatmgr.team_members WHERE user_id = 12$$, $$VALUES (3)$$,
                  'R4: memberships of the division''s teams are deleted, others kept');
SELECT is((SELECT count(*)::int FROM seatmgr.shares WHERE recipient_id = 12), 1,
          'R4: the share itself stays, only the source goes');
-- a licence held through a group cannot be removed this way
INSERT INTO seatmgr.group_members (group_id, user_id) VALUES (1, 12);
SELECT throws_ok($$SELECT seatmgr_remove_license(12, 1)$$, '2BP01',
                 'license of user 12 in division 1 is held through group 1 ("Staff")',
                 'R4: a group-held licence cannot be removed, the error names the group');
SELECT is((SELECT status FROM seatmgr.licenses WHERE user_id = 12 AND division_id = 1), 'active',
          'R4: the refused removal changed nothing');
DELETE FROM seatmgr.group_members WHERE user_id = 12;
-- turning paid off keeps licences until they lose their sources
UPDATE seatmgr.divisions SET paid = false WHERE division_id = 2;
SELECT is((SELECT status FROM seatmgr.licenses WHERE user_id = 4 AND division_id = 2), 'active',
          'R4: turning paid off keeps existing licences');
DELETE FROM seatmgr.team_members WHERE user_id = 4 AND team_id = 3;
SELECT is((SELECT count(*)::int FROM seatmgr.licenses WHERE user_id = 4 AND division_id = 2), 0,
          'R4/R5: ... until they lose their sources');
UPDATE seatmgr.divisions SET paid = true WHERE division_id = 2;

-- R5 losing sources (Asana's Sam and Jo) --------------------------------------------
-- Sam (user 1) is in Eng A and Eng B and got a share: leaving both teams keeps the share's seat
DELETE FROM seatmgr.team_members WHERE user_id = 1;
SELECT results_eq($$SELECT status, sources FROM lic WHERE user_id = 1$$,
                  $$VALUES ('active'::text, ARRAY['share:2'])$$,
                  'R5: a licence with another source stays (Sam keeps the share''s seat)');
DELETE FROM seatmgr.shares WHERE share_id = 2;
SELECT is((SELECT count(*)::int FROM seatmgr.licenses WHERE user_id = 1), 0,
          'R5: a licence with no source left is removed');
SELECT is((SELECT event FROM seatmgr.license_events WHERE user_id = 1 ORDER BY event_id DESC LIMIT 1), 'removed',
          'R5: the removal leaves event removed');
-- Jo (user 3, share only) is removed by an admin
SELECT lives_ok($$SELECT seatmgr_remove_license(3, 1)$$, 'R5: a teamless licence is removed through the admin console');
SELECT is((SELECT count(*)::int FROM seatmgr.licenses WHERE user_id = 3), 0, 'R5: Jo leaves the division');
-- deleting a team removes its members' sources
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (2, 5);
DELETE FROM seatmgr.teams WHERE team_id = 2;
SELECT is((SELECT count(*)::int FROM seatmgr.licenses WHERE user_id = 5), 0, 'R5: deleting a team removes the licences it gave');
-- moving a team to another division moves its sources
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 6);
UPDATE seatmgr.teams SET division_id = 2 WHERE team_id = 1;
SELECT results_eq($$SELECT division_id::int, sources FROM lic WHERE user_id = 6$$,
                  $$VALUES (2, ARRAY['team:1'])$$,
                  'R1/R5: a team moved to another division moves its members'' licences');

-- R6 seat limit ----------------------------------------------------------------------
-- Small (5) has 2 seats
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES
  (6, 1, '2025-01-01'), (6, 2, '2025-01-02'), (6, 3, '2025-01-03'), (6, 4, '2025-01-04');
SELECT results_eq($$SELECT user_id::int, status FROM seatmgr.licenses WHERE division_id = 5 ORDER BY user_id$$,
                  $$VALUES (1, 'active'::text), (2, 'active'), (3, 'waitlisted'), (4, 'waitlisted')$$,
                  'R6: beyond seat_limit licences are waitlisted');
SELECT results_eq($$SELECT event FROM seatmgr.license_events WHERE division_id = 5 ORDER BY event_id$$,
                  $$VALUES ('granted'::text), ('granted'), ('waitlisted'), ('waitlisted')$$,
                  'R6: waitlisting leaves event waitlisted');
SELECT is((SELECT active FROM seatmgr.seat_counts WHERE division_id = 5), 2::bigint,
          'R6: a bulk invite takes its seats in one counter update');
DELETE FROM seatmgr.team_members WHERE team_id = 6 AND user_id = 1;
SELECT results_eq($$SELECT user_id::int, status FROM seatmgr.licenses WHERE division_id = 5 ORDER BY user_id$$,
                  $$VALUES (2, 'active'::text), (3, 'active'), (4, 'waitlisted')$$,
                  'R6: a freed seat goes to the waitlist, oldest first');
SELECT cmp_ok((SELECT granted_at FROM seatmgr.licenses WHERE user_id = 3 AND division_id = 5), '>', '2025-01-03'::timestamptz,
              'R6: a seat given from the waitlist restarts the clock');
UPDATE seatmgr.divisions SET seat_limit = 3 WHERE division_id = 5;
SELECT is((SELECT status FROM seatmgr.licenses WHERE user_id = 4 AND division_id = 5), 'active',
          'R6: raising seat_limit gives the new seats to the waitlist');
SELECT throws_ok($$UPDATE seatmgr.divisions SET seat_limit = 1 WHERE division_id = 5$$, '23514',
                 'seat_limit 1 of division 5 ("Small") is below its 3 active licenses',
                 'R6: a seat_limit below the active licences is refused');
SELECT is((SELECT seat_limit FROM seatmgr.divisions WHERE division_id = 5), 3, 'R6: ... and nothing changed');
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (6, 5);
SELECT is((SELECT status FROM seatmgr.licenses WHERE user_id = 5 AND division_id = 5), 'waitlisted',
          'R6: at the limit, new licences wait');
UPDATE seatmgr.divisions SET seat_limit = NULL WHERE division_id = 5;
SELECT is((SELECT status FROM seatmgr.licenses WHERE user_id = 5 AND division_id = 5), 'active',
          'R6: without a limit everyone waiting gets a seat');
UPDATE seatmgr.divisions SET seat_limit = 4, on_full = 'error' WHERE division_id = 5;
SELECT throws_ok($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (6, 6)$$, '53400',
                 'division 5 ("Small") is full: its seat_limit of 4 is reached',
                 'R6: on_full = error raises 53400');
SELECT is((SELECT count(*)::int FROM seatmgr.team_members WHERE team_id = 6 AND user_id = 6), 0,
          'R6: ... and the failed invite left nothing');
SELECT is((SELECT count(*)::int FROM seatmgr.licenses WHERE user_id = 6 AND division_id = 5), 0,
          'R6: ... not even a licence');
SELECT results_eq($$SELECT active::int FROM seatmgr.division_seats WHERE division_id = 5$$,
                  $$SELECT count(*)::int FROM seatmgr.licenses WHERE division_id = 5 AND status = 'active'$$,
                  'R6: division_seats counts the active licences');

-- R6 in bulk: one INSERT of 120 memberships (planned for its size) into a
-- division with 50 free seats: the 50 oldest memberships get them
INSERT INTO seatmgr.divisions (domain_id, name, seat_limit) VALUES (1, 'Bulk', 50);
INSERT INTO seatmgr.teams (domain_id, division_id, name)
SELECT 1, division_id, 'Bulk team' FROM seatmgr.divisions WHERE name = 'Bulk';
INSERT INTO seatmgr.users (domain_id, email) SELECT 1, 'bulk' || i || '@acme.com' FROM generate_series(1, 120) i;
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
SELECT t.team_id, u.user_id, '2025-01-01'::timestamptz + (200 - u.user_id) * interval '1 minute'
  FROM seatmgr.teams t, seatmgr.users u WHERE t.name = 'Bulk team' AND u.email LIKE 'bulk%';
SELECT results_eq($$SELECT l.status, count(*)::int, min(u.user_id)::int, max(u.user_id)::int
                      FROM seatmgr.licenses l JOIN seatmgr.divisions d USING (division_id) JOIN seatmgr.users u USING (user_id)
                     WHERE d.name = 'Bulk' GROUP BY l.status ORDER BY l.status$$,
                  $$SELECT 'active'::text, 50, max(user_id)::int - 49, max(user_id)::int FROM seatmgr.users WHERE email LIKE 'bulk%'
                    UNION ALL
                    SELECT 'waitlisted', 70, min(user_id)::int, max(user_id)::int - 50 FROM seatmgr.users WHERE email LIKE 'bulk%'$$,
                  'R6: a bulk invite gives the free seats to the oldest memberships and waitlists the rest');
SELECT is((SELECT c.active FROM seatmgr.seat_counts c JOIN seatmgr.divisions d USING (division_id) WHERE d.name = 'Bulk'), 50::bigint,
          'R6: ... and its seat counter says 50');
SELECT is((SELECT count(*)::int FROM seatmgr.license_events e JOIN seatmgr.divisions d USING (division_id)
            WHERE d.name = 'Bulk' AND e.event = 'waitlisted' AND e.source_kind = 'team'), 70,
          'R6: ... with a waitlisted event for each waiting licence');

-- R3 in bulk: one INSERT of 80 group memberships, the group granting Bulk
-- (full) and an unlimited division; a member already licensed gains the source
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Open bulk');
INSERT INTO seatmgr.groups (domain_id, name) VALUES (1, 'Bulk group');
INSERT INTO seatmgr.group_grants (group_id, division_id)
SELECT g.group_id, d.division_id FROM seatmgr.groups g, seatmgr.divisions d
 WHERE g.name = 'Bulk group' AND d.name IN ('Bulk', 'Open bulk');
INSERT INTO seatmgr.group_members (group_id, user_id, added_at)
SELECT g.group_id, u.user_id, '2025-02-01'
  FROM seatmgr.groups g, seatmgr.users u WHERE g.name = 'Bulk group' AND u.email LIKE 'bulk%' AND u.user_id % 3 <> 0;
SELECT results_eq($$SELECT d.name, l.status, count(*)::int
                      FROM seatmgr.licenses l JOIN seatmgr.divisions d USING (division_id)
                     WHERE d.name IN ('Bulk', 'Open bulk') GROUP BY 1, 2 ORDER BY 1, 2$$,
                  $$VALUES ('Bulk'::text, 'active'::text, 50), ('Bulk', 'waitlisted', 70), ('Open bulk', 'active', 80)$$,
                  'R3: a bulk group membership gives a licence in each granted division (the full one waitlists nobody new: all hold one)');
SELECT is((SELECT count(*)::int FROM seatmgr.license_sources s JOIN seatmgr.divisions d USING (division_id)
            WHERE s.kind = 'group' AND d.name IN ('Bulk', 'Open bulk')), 160,
          'R3: ... with a group source on every licence, existing ones included');
SELECT is((SELECT c.active FROM seatmgr.seat_counts c JOIN seatmgr.divisions d USING (division_id) WHERE d.name = 'Bulk'), 50::bigint,
          'R6: ... and the full division''s counter did not move');

-- R9 a new source reactivates -----------------------------------------------------------
-- deactivate users 2-5 the way a sweep does (status and the seat counter), to test R9 alone
UPDATE seatmgr.licenses SET status = 'deactivated', deactivated_at = now()
 WHERE division_id = 5 AND user_id IN (2, 3, 4, 5);
UPDATE seatmgr.seat_counts SET active = 0 WHERE division_id = 5;
UPDATE seatmgr.divisions SET seat_limit = 1, on_full = 'waitlist' WHERE division_id = 5;
INSERT INTO seatmgr.group_members (group_id, user_id) VALUES (2, 2);
INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (2, 5);
SELECT results_eq($$SELECT status, sources FROM lic WHERE user_id = 2 AND division_id = 5$$,
                  $$VALUES ('active'::text, ARRAY['group:2', 'team:6'])$$,
                  'R9: a new source makes a deactivated licence active again');
SELECT is((SELECT event FROM seatmgr.license_events WHERE user_id = 2 AND division_id = 5 ORDER BY event_id DESC LIMIT 1),
          'reactivated', 'R9: event reactivated');
SELECT cmp_ok((SELECT granted_at FROM seatmgr.licenses WHERE user_id = 2 AND division_id = 5), '>=', now(),
              'R9: a reactivation restarts the clock');
SELECT is(seatmgr_grant_license(3, 5), 'waitlisted', 'R9: subject to R6, a reactivation into a full division waits');
SELECT is((SELECT deactivated_at FROM seatmgr.licenses WHERE user_id = 2 AND division_id = 5), NULL,
          'R9: the reactivated licence forgets its deactivation');

-- R5/R6: a deleted user's seat goes to the waitlist
SELECT is((SELECT status FROM seatmgr.licenses WHERE user_id = 3 AND division_id = 5), 'waitlisted', 'R6: user 3 waits');
SELECT is((SELECT count(*)::int FROM seatmgr.licenses WHERE division_id = 5 AND status = 'active'), 1, 'R6: Small is full');
DELETE FROM seatmgr.users WHERE user_id = (SELECT min(user_id) FROM seatmgr.licenses WHERE division_id = 5 AND status = 'active');
SELECT is((SELECT status FROM seatmgr.licenses WHERE user_id = 3 AND division_id = 5), 'active',
          'R5/R6: deleting a user frees their seats for the waitlist');
SELECT is((SELECT active FROM seatmgr.seat_counts WHERE division_id = 5),
          (SELECT count(*) FROM seatmgr.licenses WHERE division_id = 5 AND status = 'active'),
          'R6: the seat counter follows');
SELECT ok((SELECT count(*) FROM seatmgr.license_events WHERE event = 'removed' AND source_kind IS NULL) >= 1,
          'R12: the deleted user''s licences leave removed events');

-- the actor of every event is the role that caused it
CREATE ROLE seatmgr_app;
-- the application needs app access only (no privilege on licences or events)
SELECT seatmgr_allow('seatmgr_app', 'app');
SET ROLE seatmgr_app;
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (3, 11);
RESET ROLE;
SELECT is((SELECT actor FROM seatmgr.license_events WHERE user_id = 11 ORDER BY event_id DESC LIMIT 1), 'seatmgr_app',
          'R12: license_events.actor is the role that caused the change');
SELECT is((SELECT count(*)::int FROM seatmgr.license_events e
            WHERE NOT EXISTS (SELECT 1 FROM seatmgr.licenses l WHERE l.user_id = e.user_id)
              AND e.event <> 'removed' AND e.user_id NOT IN (SELECT user_id FROM seatmgr.license_events WHERE event = 'removed')), 0,
          'R12: every event belongs to a licence that exists or was removed');

SELECT * FROM finish();
ROLLBACK;
