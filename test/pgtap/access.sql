-- pgTAP: who may do what (SPEC section 8, R20, R21).  Every public function
-- and every table write, as each kind of role (app, reader, admin), each
-- unscoped, scoped to a domain and scoped to a division: what it may and may
-- not see and do, the 42501 messages that name the object by its id, and
-- that no message shows another domain's e-mail.
BEGIN;
CREATE EXTENSION seatmgr;
SELECT no_plan();

-- acme.com (1): Eng (1, 5 seats), Sales (2); other.com (2): Theirs (3)
INSERT INTO seatmgr.domains (name) VALUES ('acme.com'), ('other.com');
INSERT INTO seatmgr.divisions (domain_id, name, seat_limit, seat_price) VALUES
  (1, 'Eng', 5, 10), (1, 'Sales', NULL, 5), (2, 'Theirs', NULL, NULL);
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES
  (1, 1, 'E'), (1, 2, 'S'), (2, 3, 'T'), (1, NULL, 'Free');                 -- 1, 2, 3, 4
INSERT INTO seatmgr.users (domain_id, email, last_active_at)
SELECT 1, 'u' || i || '@acme.com', now() - interval '100 days' FROM generate_series(1, 4) i; -- 1-4
INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES
  (2, 'zed@other.com', now() - interval '100 days'), (2, 'yan@other.com', now());           -- 5, 6
INSERT INTO seatmgr.groups (domain_id, name) VALUES (1, 'Staff'), (2, 'Theirs');            -- 1, 2
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 1), (1, 2), (2, 2), (3, 5), (3, 6);
INSERT INTO seatmgr.group_members (group_id, user_id) VALUES (1, 1), (2, 5);
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id) VALUES ('project', 'P', 5, 6);
INSERT INTO seatmgr.exclusions (domain_id, user_id) VALUES (2, 6);
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after) VALUES (1, '30 days'), (2, '30 days'), (3, '30 days');
SELECT count(*) FROM seatmgr_run(3);   -- run 1, of other.com: deactivates zed
SELECT count(*) FROM seatmgr_run(1, preview => false);   -- run 2, of Eng

CREATE ROLE seatmgr_t_app_all;    CREATE ROLE seatmgr_t_app_acme;    CREATE ROLE seatmgr_t_app_eng;
CREATE ROLE seatmgr_t_reader_all; CREATE ROLE seatmgr_t_reader_acme; CREATE ROLE seatmgr_t_reader_eng;
CREATE ROLE seatmgr_t_admin_all;  CREATE ROLE seatmgr_t_admin_acme;  CREATE ROLE seatmgr_t_admin_eng;
CREATE ROLE seatmgr_t_nobody;
SELECT seatmgr_allow('seatmgr_t_app_all', 'app');
SELECT seatmgr_allow('seatmgr_t_app_acme', 'app', domain_id => 1);
SELECT seatmgr_allow('seatmgr_t_app_eng', 'app', division_id => 1);
SELECT seatmgr_allow('seatmgr_t_reader_all', 'reader');
SELECT seatmgr_allow('seatmgr_t_reader_acme', 'reader', domain_id => 1);
SELECT seatmgr_allow('seatmgr_t_reader_eng', 'reader', division_id => 1);
SELECT seatmgr_allow('seatmgr_t_admin_all', 'admin');
SELECT seatmgr_allow('seatmgr_t_admin_acme', 'admin', domain_id => 1);
SELECT seatmgr_allow('seatmgr_t_admin_eng', 'admin', division_id => 1);
-- a DBA's own grant, without seatmgr access: sees and does nothing
GRANT USAGE ON SCHEMA seatmgr TO seatmgr_t_nobody;
GRANT SELECT, INSERT ON seatmgr.users, seatmgr.licenses TO seatmgr_t_nobody;

-- the whole organization, read as the owner: "nothing changed" after a refusal
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql SECURITY DEFINER AS $$
  SELECT concat_ws(' | ',
    (SELECT string_agg(concat_ws(',', user_id, division_id, status), ';' ORDER BY user_id, division_id) FROM seatmgr.licenses),
    (SELECT count(*) FROM seatmgr.license_sources), (SELECT count(*) FROM seatmgr.license_events),
    (SELECT string_agg(concat_ws(',', user_id, last_active_at), ';' ORDER BY user_id) FROM seatmgr.users),
    (SELECT count(*) FROM seatmgr.team_members), (SELECT count(*) FROM seatmgr.group_members),
    (SELECT count(*) FROM seatmgr.shares), (SELECT count(*) FROM seatmgr.exclusions),
    (SELECT count(*) FROM seatmgr.policies), (SELECT count(*) FROM seatmgr.runs), (SELECT count(*) FROM seatmgr.teams),
    (SELECT count(*) FROM seatmgr.group_grants), (SELECT count(*) FROM seatmgr.access),
    (SELECT string_agg(concat_ws(',', division_id, seat_limit), ';' ORDER BY division_id) FROM seatmgr.divisions))
$$;
-- denied: the error, the message, and nothing changed
CREATE FUNCTION pg_temp.denied(sql text, msg text, description text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  before text := pg_temp.state();
BEGIN
  RETURN NEXT throws_ok(sql, '42501', msg, description);
  RETURN NEXT is(pg_temp.state(), before, description || ': nothing changed');
END $$;
-- how many rows of a table the current role sees
CREATE FUNCTION pg_temp.seen(tbl text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM seatmgr.%I', tbl) INTO n;
  RETURN n;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.state(), pg_temp.denied(text, text, text), pg_temp.seen(text) TO PUBLIC;

------------------------------------------------------------------------------
-- seatmgr_allow, seatmgr_disallow, seatmgr.access
------------------------------------------------------------------------------
SELECT is((SELECT domain_id FROM seatmgr.access WHERE role = 'seatmgr_t_admin_eng'::regrole), 1::bigint,
          'section 9: a division grant records the division''s domain too');
SELECT seatmgr_allow('seatmgr_t_app_all', 'app');
SELECT is((SELECT count(*)::int FROM seatmgr.access WHERE role = 'seatmgr_t_app_all'::regrole), 1,
          'section 9: seatmgr_allow is idempotent');
SELECT throws_ok($$SELECT seatmgr_allow('seatmgr_t_app_all', 'root')$$, '22023', 'invalid access "root"',
                 'section 8: an unknown kind of access is refused');
SELECT throws_ok($$SELECT seatmgr_allow(NULL, 'app')$$, '22004', 'role must not be NULL',
                 'section 5: seatmgr_allow raises on a NULL role');
SELECT throws_ok($$SELECT seatmgr_allow('seatmgr_t_app_all', 'app', division_id => 99)$$, '23503', 'division 99 does not exist',
                 'section 8: a grant of an unknown division');
SELECT throws_ok($$SELECT seatmgr_allow('seatmgr_t_app_all', 'app', domain_id => 2, division_id => 1)$$, '22023',
                 'division 1 belongs to domain 1, not to domain 2', 'section 8: a division grant names its own domain or none');
SELECT lives_ok($$SELECT seatmgr_disallow('seatmgr_t_app_all', 'admin', domain_id => 7)$$,
                'section 9: seatmgr_disallow of a grant that does not exist does nothing');

-- exactly the privileges of each kind
SELECT ok(has_table_privilege('seatmgr_t_app_acme', 'seatmgr.team_members', 'INSERT, UPDATE, DELETE')
          AND has_table_privilege('seatmgr_t_app_acme', 'seatmgr.users', 'INSERT')
          AND has_table_privilege('seatmgr_t_app_acme', 'seatmgr.licenses', 'SELECT')
          AND has_table_privilege('seatmgr_t_app_acme', 'seatmgr.license_sources', 'SELECT')
          AND has_function_privilege('seatmgr_t_app_acme', 'seatmgr_touch(bigint, timestamptz)', 'EXECUTE')
          AND has_function_privilege('seatmgr_t_app_acme', 'seatmgr_explain(bigint)', 'EXECUTE'),
          'section 8: app writes the model and reads licences and their sources');
SELECT ok(NOT has_table_privilege('seatmgr_t_app_acme', 'seatmgr.policies', 'INSERT')
          AND NOT has_table_privilege('seatmgr_t_app_acme', 'seatmgr.exclusions', 'INSERT')
          AND NOT has_table_privilege('seatmgr_t_app_acme', 'seatmgr.runs', 'SELECT')
          AND NOT has_function_privilege('seatmgr_t_app_acme', 'seatmgr_run(bigint, boolean)', 'EXECUTE')
          AND NOT has_function_privilege('seatmgr_t_app_acme', 'seatmgr_grant_license(bigint, bigint)', 'EXECUTE'),
          'section 8: app may not touch policies, exclusions, admin grants, runs');
SELECT ok(has_table_privilege('seatmgr_t_reader_acme', 'seatmgr.runs', 'SELECT')
          AND has_table_privilege('seatmgr_t_reader_acme', 'seatmgr.run_history', 'SELECT')
          AND has_function_privilege('seatmgr_t_reader_acme', 'seatmgr_run_export(bigint)', 'EXECUTE')
          AND has_function_privilege('seatmgr_t_reader_acme', 'seatmgr_run_summary(bigint)', 'EXECUTE')
          AND NOT has_table_privilege('seatmgr_t_reader_acme', 'seatmgr.users', 'INSERT')
          AND NOT has_table_privilege('seatmgr_t_reader_acme', 'seatmgr.policies', 'UPDATE')
          AND NOT has_function_privilege('seatmgr_t_reader_acme', 'seatmgr_touch(bigint, timestamptz)', 'EXECUTE'),
          'section 8: reader reads every table and view and writes nothing');
SELECT ok(has_table_privilege('seatmgr_t_admin_acme', 'seatmgr.policies', 'INSERT, UPDATE, DELETE')
          AND has_table_privilege('seatmgr_t_admin_acme', 'seatmgr.exclusions', 'INSERT')
          AND has_table_privilege('seatmgr_t_admin_acme', 'seatmgr.group_grants', 'INSERT')
          AND has_function_privilege('seatmgr_t_admin_acme', 'seatmgr_grant_license(bigint, bigint)', 'EXECUTE')
          AND has_function_privilege('seatmgr_t_admin_acme', 'seatmgr_remove_license(bigint, bigint)', 'EXECUTE')
          AND NOT has_table_privilege('seatmgr_t_admin_acme', 'seatmgr.team_members', 'INSERT'),
          'section 8: admin is a reader who also manages divisions, policies, exclusions, group grants and licences');
SELECT ok(NOT has_table_privilege(r, 'seatmgr.access', 'SELECT')
          AND NOT has_function_privilege(r, 'seatmgr_allow(regrole, text, bigint, bigint)', 'EXECUTE')
          AND NOT has_function_privilege(r, 'seatmgr_schedule(text)', 'EXECUTE')
          AND NOT has_function_privilege(r, 'seatmgr_sweep()', 'EXECUTE'),
          'section 8: ' || r || ' neither reads seatmgr.access nor gives access nor schedules')
  FROM unnest(ARRAY['seatmgr_t_app_all', 'seatmgr_t_reader_all', 'seatmgr_t_admin_all']) r;

SET LOCAL ROLE seatmgr_t_admin_all;
SELECT throws_ok($$SELECT seatmgr_allow('seatmgr_t_admin_all', 'admin')$$, '42501', 'permission denied for function seatmgr_allow',
                 'section 8: only the extension''s owner gives access');
RESET ROLE;

-- taking access back: the privileges go with the last grant of the kind
CREATE ROLE seatmgr_t_temp;
SELECT seatmgr_allow('seatmgr_t_temp', 'admin', domain_id => 1);
SELECT seatmgr_allow('seatmgr_t_temp', 'admin', domain_id => 2);
SELECT seatmgr_disallow('seatmgr_t_temp', 'admin', domain_id => 2);
SELECT ok(has_table_privilege('seatmgr_t_temp', 'seatmgr.policies', 'INSERT'),
          'section 8: seatmgr_disallow keeps the privileges another grant of the role needs');
SELECT seatmgr_disallow('seatmgr_t_temp', 'admin', domain_id => 1);
SELECT ok(NOT has_table_privilege('seatmgr_t_temp', 'seatmgr.policies', 'INSERT')
          AND NOT has_table_privilege('seatmgr_t_temp', 'seatmgr.users', 'SELECT')
          AND NOT has_function_privilege('seatmgr_t_temp', 'seatmgr_run(bigint, boolean)', 'EXECUTE')
          AND NOT has_schema_privilege('seatmgr_t_temp', 'seatmgr', 'USAGE'),
          'section 8: seatmgr_disallow of the last grant takes every privilege back');
SELECT is((SELECT count(*)::int FROM seatmgr.access WHERE role = 'seatmgr_t_temp'::regrole), 0,
          'section 8: seatmgr_disallow removes the grant from seatmgr.access');

------------------------------------------------------------------------------
-- R20: what each scope sees
------------------------------------------------------------------------------
SET LOCAL ROLE seatmgr_t_reader_all;
SELECT is(pg_temp.seen('users'), 6::bigint, 'R20: an unscoped reader sees every user');
SELECT is(pg_temp.seen('licenses'), (SELECT count(*) FROM seatmgr.licenses), 'R20: an unscoped reader sees every licence');
RESET ROLE;

SET LOCAL ROLE seatmgr_t_reader_acme;
SELECT is(pg_temp.seen('users'), 4::bigint, 'R20: a domain-scoped reader sees the users of its domain only');
SELECT is((SELECT count(*) FROM seatmgr.users WHERE email LIKE '%other.com'), 0::bigint,
          'R20: a domain-scoped reader sees no e-mail of another domain');
SELECT is(pg_temp.seen('domains'), 1::bigint, 'R20: ... one domain');
SELECT is(pg_temp.seen('divisions'), 2::bigint, 'R20: ... the divisions of its domain');
SELECT is(pg_temp.seen('teams'), 3::bigint, 'R20: ... the teams of its domain');
SELECT is(pg_temp.seen('team_members'), 3::bigint, 'R20: ... the memberships of its teams');
SELECT is(pg_temp.seen('group_members'), 1::bigint, 'R20: ... the memberships of its groups');
SELECT is(pg_temp.seen('shares'), 0::bigint, 'R20: ... no share of another domain');
SELECT is(pg_temp.seen('exclusions'), 0::bigint, 'R20: ... no exclusion of another domain');
SELECT is((SELECT count(*) FROM seatmgr.licenses WHERE division_id = 3), 0::bigint, 'R20: ... no licence of another domain');
SELECT is((SELECT count(*) FROM seatmgr.license_events WHERE division_id = 3), 0::bigint, 'R20: ... no event of another domain');
SELECT is((SELECT count(*) FROM seatmgr.license_sources WHERE division_id = 3), 0::bigint, 'R20: ... no source of another domain');
SELECT is(pg_temp.seen('runs'), 1::bigint, 'R20: ... the runs of its divisions');
SELECT is((SELECT count(*) FROM seatmgr.run_changes WHERE run_id = 1), 0::bigint, 'R20: ... no run change of another domain');
SELECT is(pg_temp.seen('policies'), 2::bigint, 'R20: ... the policies of its divisions');
SELECT is(pg_temp.seen('division_seats'), 2::bigint, 'R20: views apply the policies too (division_seats)');
SELECT is(pg_temp.seen('run_history'), 1::bigint, 'R20: views apply the policies too (run_history)');
SELECT is(pg_temp.seen('next_runs'), 2::bigint, 'R20: views apply the policies too (next_runs)');
RESET ROLE;

SET LOCAL ROLE seatmgr_t_reader_eng;
SELECT is(pg_temp.seen('users'), 4::bigint, 'R20: a division-scoped reader still sees the users of its domain');
SELECT is(pg_temp.seen('groups'), 1::bigint, 'R20: ... and its groups');
SELECT is(pg_temp.seen('divisions'), 1::bigint, 'R20: ... but one division');
SELECT is((SELECT array_agg(team_id ORDER BY team_id) FROM seatmgr.teams), ARRAY[1, 4]::bigint[],
          'R20: ... the teams of its division and the domain''s teams without one');
SELECT is((SELECT count(*) FROM seatmgr.licenses WHERE division_id <> 1), 0::bigint, 'R20: ... the licences of its division only');
SELECT is((SELECT count(*) FROM seatmgr.policies WHERE division_id <> 1), 0::bigint, 'R20: ... its policy only');
SELECT is(pg_temp.seen('division_seats'), 1::bigint, 'R20: ... one row of division_seats');
RESET ROLE;

SET LOCAL ROLE seatmgr_t_app_acme;
SELECT is((SELECT count(*) FROM seatmgr.licenses WHERE division_id = 3), 0::bigint, 'R20: a domain-scoped app reads the licences of its domain only');
SELECT throws_ok($$SELECT count(*) FROM seatmgr.runs$$, '42501', 'permission denied for table runs', 'section 8: app reads no runs');
RESET ROLE;

SET LOCAL ROLE seatmgr_t_nobody;
SELECT is(pg_temp.seen('users') + pg_temp.seen('licenses'), 0::bigint, 'R20: a role without seatmgr access sees no row, whatever was granted');
SELECT pg_temp.denied($$INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'new@acme.com')$$, 'permission denied for domain 1',
                      'R20: a role without seatmgr access writes nothing, whatever was granted');
RESET ROLE;

------------------------------------------------------------------------------
-- R20: table writes
------------------------------------------------------------------------------
SET LOCAL ROLE seatmgr_t_app_acme;
SELECT lives_ok($$INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'u7@acme.com')$$, 'R20: a domain-scoped app adds users to its domain');
SELECT pg_temp.denied($$INSERT INTO seatmgr.users (domain_id, email) VALUES (2, 'new@other.com')$$, 'permission denied for domain 2',
                      'R20: ... not to another domain');
SELECT pg_temp.denied($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (3, 5)$$, 'permission denied for team 3',
                      'R20: ... nor to a team of another domain');
SELECT pg_temp.denied($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 5)$$, 'permission denied for user 5',
                      'section 9: a scoped caller naming a user of another domain gets 42501, not the cross-domain error');
SELECT pg_temp.denied($$INSERT INTO seatmgr.group_members (group_id, user_id) VALUES (2, 5)$$, 'permission denied for group 2',
                      'R20: ... a group of another domain');
SELECT pg_temp.denied($$INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id) VALUES ('project', 'Q', 1, 5)$$,
                      'permission denied for user 5', 'R20: ... a share with a user of another domain');
SELECT pg_temp.denied($$INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id, division_id) VALUES ('project', 'Q', 1, 2, 3)$$,
                      'permission denied for division 3', 'R20: ... a share into a division of another domain');
SELECT pg_temp.denied($$INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 3, 'X')$$,
                      'permission denied for division 3', 'R20: ... a team in a division of another domain');
SELECT pg_temp.denied($$INSERT INTO seatmgr.groups (domain_id, name) VALUES (2, 'X')$$, 'permission denied for domain 2',
                      'R20: ... a group of another domain');
WITH w AS (DELETE FROM seatmgr.team_members WHERE user_id = 5 RETURNING 1)
SELECT is((SELECT count(*) FROM w), 0::bigint,
          'R20: a DELETE does not see the rows of another domain');
WITH w AS (UPDATE seatmgr.users SET is_admin = true WHERE user_id = 5 RETURNING 1)
SELECT is((SELECT count(*) FROM w), 0::bigint,
          'R20: an UPDATE does not see the rows of another domain');
SELECT throws_ok($$INSERT INTO seatmgr.policies (division_id) VALUES (2)$$, '42501', 'permission denied for table policies',
                 'section 8: app writes no policies');
SELECT throws_ok($$INSERT INTO seatmgr.exclusions (domain_id, user_id) VALUES (1, 1)$$, '42501', 'permission denied for table exclusions',
                 'section 8: app writes no exclusions');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM seatmgr.team_members WHERE user_id = 5), 1, 'R20: the other domain''s membership is still there');

SET LOCAL ROLE seatmgr_t_app_eng;
SELECT lives_ok($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 3)$$, 'R20: a division-scoped app invites to a team of its division');
SELECT lives_ok($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (4, 3)$$, 'R20: ... and to a team without division of its domain');
SELECT lives_ok($$INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'u8@acme.com')$$, 'R20: ... and adds users to its domain');
SELECT pg_temp.denied($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (2, 3)$$, 'permission denied for team 2',
                      'R20: ... not to a team of another division');
SELECT pg_temp.denied($$INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 2, 'X')$$, 'permission denied for division 2',
                      'R20: ... nor a team in another division');
SELECT pg_temp.denied($$UPDATE seatmgr.teams SET division_id = 2 WHERE team_id = 1$$, 'permission denied for division 2',
                      'R20: ... nor moves its team into another division');
RESET ROLE;
SELECT is((SELECT status FROM seatmgr.licenses WHERE user_id = 3 AND division_id = 1), 'active', 'R1: the scoped app''s invite granted the licence');

SET LOCAL ROLE seatmgr_t_app_all;
SELECT throws_ok($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 5)$$, '23514',
                 'user 5 belongs to domain 2, not to domain 1 of team 1',
                 'section 5: an unscoped app gets the cross-domain error, naming ids only');
RESET ROLE;

SET LOCAL ROLE seatmgr_t_reader_all;
SELECT throws_ok($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 4)$$, '42501', 'permission denied for table team_members',
                 'section 8: a reader writes nothing');
SELECT throws_ok($$UPDATE seatmgr.divisions SET seat_limit = 9$$, '42501', 'permission denied for table divisions',
                 'section 8: a reader changes no division');
RESET ROLE;

SET LOCAL ROLE seatmgr_t_admin_eng;
SELECT lives_ok($$UPDATE seatmgr.divisions SET seat_limit = 6 WHERE division_id = 1$$, 'R20: a division admin changes its division');
WITH w AS (UPDATE seatmgr.divisions SET seat_limit = 6 WHERE division_id = 2 RETURNING 1)
SELECT is((SELECT count(*) FROM w), 0::bigint,
          'R20: ... not another (it does not see it)');
SELECT pg_temp.denied($$INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'New')$$, 'permission denied for domain 1',
                      'R20: ... nor adds divisions to the domain');
SELECT pg_temp.denied($$INSERT INTO seatmgr.policies (division_id) VALUES (2)$$, 'permission denied for division 2',
                      'R20: ... nor writes another division''s policy');
SELECT lives_ok($$UPDATE seatmgr.policies SET revoke_inactive_after = '60 days' WHERE division_id = 1$$, 'R20: ... but its own');
SELECT pg_temp.denied($$INSERT INTO seatmgr.exclusions (domain_id, user_id) VALUES (1, 4)$$, 'permission denied for domain 1',
                      'R20: only an unscoped or domain-scoped admin writes exclusions');
SELECT pg_temp.denied($$INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (1, 2)$$, 'permission denied for division 2',
                      'R20: a division admin grants no group another division');
SELECT lives_ok($$INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (1, 1)$$, 'R20: ... but its own');
SELECT throws_ok($$INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'x@acme.com')$$, '42501', 'permission denied for table users',
                 'section 8: admin writes no users');
RESET ROLE;

SET LOCAL ROLE seatmgr_t_admin_acme;
SELECT lives_ok($$INSERT INTO seatmgr.exclusions (domain_id, user_id) VALUES (1, 4)$$, 'R20: a domain admin writes exclusions of its domain');
SELECT pg_temp.denied($$INSERT INTO seatmgr.exclusions (domain_id, user_id) VALUES (2, 5)$$, 'permission denied for domain 2',
                      'R20: ... not of another domain');
SELECT pg_temp.denied($$INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (1, 3)$$, 'permission denied for division 3',
                      'R20: ... nor grants a division of another domain');
SELECT lives_ok($$INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Support')$$, 'R20: a domain admin adds divisions to its domain');
SELECT throws_ok($$INSERT INTO seatmgr.domains (name) VALUES ('new.com')$$, '42501', 'permission denied for table domains',
                 'section 8: no kind of access adds domains');
RESET ROLE;

------------------------------------------------------------------------------
-- R20: functions
------------------------------------------------------------------------------
SET LOCAL ROLE seatmgr_t_app_acme;
SELECT lives_ok($$SELECT seatmgr_touch(1)$$, 'R20: a domain-scoped app records activity of its users');
SELECT pg_temp.denied($$SELECT seatmgr_touch(5)$$, 'permission denied for user 5', 'R20: ... not of another domain''s');
SELECT pg_temp.denied($$SELECT seatmgr_touch(ARRAY[2, 5]::bigint[])$$, 'permission denied for user 5',
                      'R20: ... not in a batch either (and the batch changes nothing)');
SELECT pg_temp.denied($$SELECT * FROM seatmgr_explain(5)$$, 'permission denied for user 5', 'R20: seatmgr_explain of another domain''s user');
SELECT is((SELECT count(*) FROM seatmgr_explain(2)), 2::bigint, 'R20: seatmgr_explain of its own user');
RESET ROLE;

SET LOCAL ROLE seatmgr_t_app_all;
SELECT lives_ok($$SELECT seatmgr_touch(5)$$, 'R20: an unscoped app records activity of every domain');
RESET ROLE;

SET LOCAL ROLE seatmgr_t_reader_eng;
SELECT is((SELECT array_agg(division_id) FROM seatmgr_explain(2)), ARRAY[1]::bigint[],
          'R20: a division-scoped reader explains the licence of its division only');
SELECT throws_ok($$SELECT seatmgr_touch(1)$$, '42501', 'permission denied for function seatmgr_touch', 'section 8: a reader records no activity');
SELECT ok((SELECT count(*) FROM seatmgr_run(1, preview => true)) >= 0, 'section 8: a reader previews its division');
SELECT pg_temp.denied($$SELECT * FROM seatmgr_run(1)$$, 'permission denied for division 1', 'R21: a preview right is never a run right');
SELECT pg_temp.denied($$SELECT * FROM seatmgr_run(NULL)$$, 'permission denied for a real run', 'R21: ... not for every division either');
SELECT pg_temp.denied($$SELECT * FROM seatmgr_run(2, preview => true)$$, 'permission denied for division 2', 'R20: no preview of another division');
SELECT is((SELECT count(*) FROM seatmgr_run(NULL, preview => true) WHERE division_id <> 1), 0::bigint,
          'R20: seatmgr_run(NULL, preview => true) covers its scope only');
SELECT is((SELECT count(*) FROM seatmgr_run_export(2)), (SELECT count(*) FROM seatmgr.run_changes WHERE run_id = 2),
          'section 8: a reader exports the runs of its division');
SELECT pg_temp.denied($$SELECT * FROM seatmgr_run_export(1)$$, 'permission denied for run 1', 'R20: ... not of another domain');
SELECT throws_ok($$SELECT seatmgr_grant_license(3, 1)$$, '42501', 'permission denied for function seatmgr_grant_license',
                 'section 8: a reader grants no licence');
RESET ROLE;

-- seatmgr_run_summary (issue 12): a run's counts, for readers and admins of its division
SET LOCAL ROLE seatmgr_t_reader_eng;
SELECT is((SELECT row(domain, division, deactivated + added + warned + skipped)::text FROM seatmgr_run_summary(2)),
          row('acme.com', 'Eng', (SELECT count(*) FROM seatmgr.run_changes WHERE run_id = 2))::text,
          'section 8: a reader sums up the runs of its division (seatmgr_run_summary)');
SELECT pg_temp.denied($$SELECT * FROM seatmgr_run_summary(1)$$, 'permission denied for run 1',
                      'R20: seatmgr_run_summary of another domain''s run');
SELECT throws_ok($$SELECT * FROM seatmgr_run_summary(99)$$, '23503', 'run 99 does not exist',
                 'section 5: seatmgr_run_summary of an unknown run');
SELECT throws_ok($$SELECT * FROM seatmgr_run_summary(NULL)$$, '22004', 'run_id must not be NULL',
                 'section 5: seatmgr_run_summary refuses a NULL run_id');
RESET ROLE;
SET LOCAL ROLE seatmgr_t_admin_acme;
SELECT is((SELECT status FROM seatmgr_run_summary(2)), 'succeeded', 'section 8: an admin sums up the runs of its domain');
SELECT pg_temp.denied($$SELECT * FROM seatmgr_run_summary(1)$$, 'permission denied for run 1',
                      'R20: ... not those of another domain');
RESET ROLE;
SET LOCAL ROLE seatmgr_t_reader_all;
SELECT is((SELECT domain FROM seatmgr_run_summary(1)), 'other.com', 'section 8: an unscoped reader sums up every domain''s runs');
RESET ROLE;
SET LOCAL ROLE seatmgr_t_app_all;
SELECT throws_ok($$SELECT * FROM seatmgr_run_summary(2)$$, '42501', 'permission denied for function seatmgr_run_summary',
                 'section 8: app sees no runs, nor their summaries');
RESET ROLE;
SET LOCAL ROLE seatmgr_t_nobody;
SELECT throws_ok($$SELECT * FROM seatmgr_run_summary(2)$$, '42501', 'permission denied for function seatmgr_run_summary',
                 'section 8: a role without seatmgr access gets no summary');
RESET ROLE;

SET LOCAL ROLE seatmgr_t_reader_acme;
SELECT pg_temp.denied($$SELECT * FROM seatmgr_run(3, preview => true)$$, 'permission denied for division 3', 'R20: no preview of another domain');
SELECT pg_temp.denied($$SELECT * FROM seatmgr_explain(5)$$, 'permission denied for user 5', 'R20: no explanation of another domain''s user');
RESET ROLE;

SET LOCAL ROLE seatmgr_t_admin_eng;
SELECT is(seatmgr_grant_license(4, 1), 'active', 'R4/R20: a division admin grants a licence in its division');
SELECT pg_temp.denied($$SELECT seatmgr_grant_license(4, 2)$$, 'permission denied for division 2', 'R20: ... not in another division');
SELECT pg_temp.denied($$SELECT seatmgr_grant_license(5, 1)$$, 'permission denied for user 5', 'R20: ... nor to a user of another domain');
SELECT pg_temp.denied($$SELECT seatmgr_remove_license(2, 2)$$, 'permission denied for division 2', 'R20: ... nor removes one in another division');
SELECT lives_ok($$SELECT seatmgr_remove_license(4, 1)$$, 'R4/R20: ... but removes one of its division');
SELECT is((SELECT count(*) FROM seatmgr_run(NULL) WHERE division_id <> 1), 0::bigint,
          'R20: seatmgr_run(NULL) by a division admin runs its division only');
RESET ROLE;
SELECT is((SELECT array_agg(division_id ORDER BY run_id) FROM seatmgr.runs WHERE run_id > 2), ARRAY[1]::bigint[],
          'R20: ... and records a run of that division only');

SET LOCAL ROLE seatmgr_t_admin_acme;
SELECT pg_temp.denied($$SELECT seatmgr_grant_license(5, 3)$$, 'permission denied for division 3', 'R20: a domain admin grants nothing in another domain');
SELECT pg_temp.denied($$SELECT * FROM seatmgr_run(3)$$, 'permission denied for division 3', 'R20: ... nor runs its sweep');
SELECT is((SELECT count(*) FROM seatmgr_run(NULL, preview => true) WHERE division_id = 3), 0::bigint,
          'R20: ... nor previews it through seatmgr_run(NULL)');
RESET ROLE;

SET LOCAL ROLE seatmgr_t_admin_all;
SELECT throws_ok($$SELECT seatmgr_grant_license(5, 1)$$, '23514', 'user 5 belongs to domain 2, not to domain 1 of division 1',
                 'section 5: an unscoped admin gets the cross-domain error, with ids only');
SELECT ok((SELECT count(*) FROM seatmgr_run(3, preview => true)) >= 0, 'section 8: an unscoped admin previews every division');
RESET ROLE;

------------------------------------------------------------------------------
-- scopes follow roles and grants at once
------------------------------------------------------------------------------
CREATE ROLE seatmgr_t_alice IN ROLE seatmgr_t_reader_eng;
SET LOCAL ROLE seatmgr_t_alice;
SELECT is(pg_temp.seen('divisions'), 1::bigint, 'R20: a member of a granted role has its scope');
RESET ROLE;
SELECT seatmgr_allow('seatmgr_t_app_eng', 'app', division_id => 2);
SET LOCAL ROLE seatmgr_t_app_eng;
SELECT lives_ok($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (2, 4)$$, 'R20: a new grant applies at once');
RESET ROLE;
SELECT seatmgr_disallow('seatmgr_t_app_eng', 'app', division_id => 2);
SET LOCAL ROLE seatmgr_t_app_eng;
SELECT pg_temp.denied($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (2, 1)$$, 'permission denied for team 2',
                      'R20: a grant taken back applies at once');
RESET ROLE;

-- R21: the functions that judge their caller run as invoker and switch to
-- their owner themselves; every SECURITY DEFINER one pins search_path
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
            JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'seatmgr'
           WHERE p.prosecdef AND (p.proconfig IS NULL OR NOT 'search_path=pg_catalog, pg_temp' = ANY (p.proconfig))), 0,
          'R21: every SECURITY DEFINER function pins search_path = pg_catalog, pg_temp');
SELECT is((SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'seatmgr' AND c.relkind = 'r' AND c.relname <> 'access' AND NOT c.relrowsecurity), 0,
          'R20: row-level security is on for every table with rows of a domain or a division');

SELECT * FROM finish();
ROLLBACK;
