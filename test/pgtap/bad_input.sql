-- pgTAP: bad input (SPEC section 5).  Every bad call gets an ERROR with a
-- proper SQLSTATE and a message naming the bad value, and changes nothing.
BEGIN;
CREATE EXTENSION seatmgr;
SELECT no_plan();

INSERT INTO seatmgr.domains (name) VALUES ('acme.com'), ('other.com');
INSERT INTO seatmgr.divisions (domain_id, name, seat_limit) VALUES (1, 'Eng', 10), (2, 'Other', NULL);
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'A'), (2, 2, 'O');
INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'sam@acme.com'), (1, 'jo@acme.com'), (2, 'max@other.com');
INSERT INTO seatmgr.groups (domain_id, name) VALUES (1, 'Staff'), (2, 'Theirs');
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 1);
INSERT INTO seatmgr.policies (division_id) VALUES (1);

-- the whole state, to show a failed statement changed nothing
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql AS $$
  SELECT concat_ws(' ',
    (SELECT count(*) FROM seatmgr.domains), (SELECT count(*) FROM seatmgr.divisions),
    (SELECT count(*) FROM seatmgr.teams), (SELECT count(*) FROM seatmgr.users),
    (SELECT count(*) FROM seatmgr.team_members), (SELECT count(*) FROM seatmgr.shares),
    (SELECT count(*) FROM seatmgr.groups), (SELECT count(*) FROM seatmgr.group_members),
    (SELECT count(*) FROM seatmgr.group_grants), (SELECT count(*) FROM seatmgr.exclusions),
    (SELECT string_agg(concat(division_id, enabled, run_every, grant_active_within, revoke_inactive_after), ',') FROM seatmgr.policies),
    (SELECT string_agg(concat(user_id, division_id, status), ',' ORDER BY user_id, division_id) FROM seatmgr.licenses),
    (SELECT count(*) FROM seatmgr.license_sources), (SELECT count(*) FROM seatmgr.license_events),
    (SELECT string_agg(concat(user_id, email, domain_id, last_active_at), ',' ORDER BY user_id) FROM seatmgr.users),
    (SELECT count(*) FROM seatmgr.runs))
$$;

-- bad(sql, sqlstate, message, description): the error, then the unchanged state
CREATE FUNCTION pg_temp.bad(sql text, code text, msg text, description text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  before text := pg_temp.state();
BEGIN
  RETURN NEXT throws_ok(sql, code, msg, description);
  RETURN NEXT is(pg_temp.state(), before, description || ': nothing changed');
END $$;

-- malformed domain names
SELECT pg_temp.bad($$INSERT INTO seatmgr.domains (name) VALUES ('acme..com')$$, '23514', 'invalid domain name "acme..com"', 'section 5: empty label');
SELECT pg_temp.bad($$INSERT INTO seatmgr.domains (name) VALUES ('')$$, '23514', 'invalid domain name ""', 'section 5: empty domain name');
SELECT pg_temp.bad($$INSERT INTO seatmgr.domains (name) VALUES ('acme')$$, '23514', 'invalid domain name "acme"', 'section 5: a single label');
SELECT pg_temp.bad($$INSERT INTO seatmgr.domains (name) VALUES ('acme.com.')$$, '23514', 'invalid domain name "acme.com."', 'section 5: trailing dot');
SELECT pg_temp.bad($$INSERT INTO seatmgr.domains (name) VALUES ('-acme.com')$$, '23514', 'invalid domain name "-acme.com"', 'section 5: leading hyphen');
SELECT pg_temp.bad($$INSERT INTO seatmgr.domains (name) VALUES ('ac me.com')$$, '23514', 'invalid domain name "ac me.com"', 'section 5: a space');
SELECT pg_temp.bad($$INSERT INTO seatmgr.domains (name) VALUES ('a_b.com')$$, '23514', 'invalid domain name "a_b.com"', 'section 5: an underscore');
SELECT pg_temp.bad(format($$INSERT INTO seatmgr.domains (name) VALUES ('%s.com')$$, repeat('a', 64)), '23514',
                   format('invalid domain name "%s.com"', repeat('a', 64)), 'section 5: a label over 63 characters');
SELECT pg_temp.bad($$INSERT INTO seatmgr.domains (name) VALUES ('good.com'), ('bad..com')$$, '23514', 'invalid domain name "bad..com"',
                   'section 5: a multi-row insert with one bad row inserts nothing');
SELECT pg_temp.bad($$UPDATE seatmgr.domains SET name = 'x..y' WHERE domain_id = 1$$, '23514', 'invalid domain name "x..y"', 'section 5: a bad rename');
SELECT pg_temp.bad($$INSERT INTO seatmgr.domains (name) VALUES ('ACME.com')$$, '23505', 'domain "acme.com" already exists', 'section 5: a duplicate domain, whatever its case');
INSERT INTO seatmgr.domains (name) VALUES ('Globex.COM');
SELECT is((SELECT name FROM seatmgr.domains WHERE lower(name) = 'globex.com'), 'globex.com', 'section 2: domain names are stored lower-case');

-- malformed e-mail addresses
SELECT pg_temp.bad($$INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'sam')$$, '23514', 'invalid e-mail address "sam"', 'section 5: no @');
SELECT pg_temp.bad($$INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'a@b@acme.com')$$, '23514', 'invalid e-mail address "a@b@acme.com"', 'section 5: two @');
SELECT pg_temp.bad($$INSERT INTO seatmgr.users (domain_id, email) VALUES (1, '@acme.com')$$, '23514', 'invalid e-mail address "@acme.com"', 'section 5: empty local part');
SELECT pg_temp.bad($$INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'sam @acme.com')$$, '23514', 'invalid e-mail address "sam @acme.com"', 'section 5: a space');
SELECT pg_temp.bad($$INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'sam@acme')$$, '23514', 'invalid e-mail address "sam@acme"', 'section 5: a domain of one label');
SELECT pg_temp.bad($$INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'sam@')$$, '23514', 'invalid e-mail address "sam@"', 'section 5: no domain');
SELECT pg_temp.bad($$INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'sam..x@acme.com')$$, '23514', 'invalid e-mail address "sam..x@acme.com"', 'section 5: two dots');
SELECT pg_temp.bad($$INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'Sam@ACME.com')$$, '23505',
                   'e-mail address "Sam@ACME.com" is already used by user 1', 'section 2: e-mail addresses are unique regardless of case');
SELECT lives_ok($$INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'first.last+tag@mail.acme.com')$$, 'section 5: a valid address with dots and a plus passes');

-- unknown ids, in each table and each function
SELECT pg_temp.bad($$INSERT INTO seatmgr.users (domain_id, email) VALUES (99, 'n@acme.com')$$, '23503', 'domain 99 does not exist', 'section 5: unknown domain of a user');
SELECT pg_temp.bad($$INSERT INTO seatmgr.divisions (domain_id, name) VALUES (99, 'X')$$, '23503', 'domain 99 does not exist', 'section 5: unknown domain of a division');
SELECT pg_temp.bad($$INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 99, 'X')$$, '23503', 'division 99 does not exist', 'section 5: unknown division of a team');
SELECT pg_temp.bad($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (99, 1)$$, '23503', 'team 99 does not exist', 'section 5: unknown team');
SELECT pg_temp.bad($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 99)$$, '23503', 'user 99 does not exist', 'section 5: unknown user of a team');
SELECT pg_temp.bad($$INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id) VALUES ('project', 'P', 99, 1)$$, '23503', 'user 99 does not exist', 'section 5: unknown sharer');
SELECT pg_temp.bad($$INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id) VALUES ('project', 'P', 1, 98)$$, '23503', 'user 98 does not exist', 'section 5: unknown recipient');
SELECT pg_temp.bad($$INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id, division_id) VALUES ('project', 'P', 1, 2, 97)$$, '23503', 'division 97 does not exist', 'section 5: unknown division of a share');
SELECT pg_temp.bad($$INSERT INTO seatmgr.group_members (group_id, user_id) VALUES (99, 1)$$, '23503', 'group 99 does not exist', 'section 5: unknown group');
SELECT pg_temp.bad($$INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (1, 99)$$, '23503', 'division 99 does not exist', 'section 5: unknown granted division');
SELECT pg_temp.bad($$INSERT INTO seatmgr.exclusions (domain_id, user_id) VALUES (1, 99)$$, '23503', 'user 99 does not exist', 'section 5: unknown excluded user');
SELECT pg_temp.bad($$INSERT INTO seatmgr.policies (division_id) VALUES (99)$$, '23503', 'division 99 does not exist', 'section 5: unknown division of a policy');
SELECT pg_temp.bad($$SELECT seatmgr_grant_license(99, 1)$$, '23503', 'user 99 does not exist', 'section 5: seatmgr_grant_license, unknown user');
SELECT pg_temp.bad($$SELECT seatmgr_grant_license(1, 99)$$, '23503', 'division 99 does not exist', 'section 5: seatmgr_grant_license, unknown division');
SELECT pg_temp.bad($$SELECT seatmgr_remove_license(99, 1)$$, '23503', 'user 99 does not exist', 'section 5: seatmgr_remove_license, unknown user');
SELECT pg_temp.bad($$SELECT seatmgr_remove_license(1, 99)$$, '23503', 'division 99 does not exist', 'section 5: seatmgr_remove_license, unknown division');
SELECT pg_temp.bad($$SELECT seatmgr_touch(99)$$, '23503', 'user 99 does not exist', 'section 5: seatmgr_touch, unknown user');
SELECT pg_temp.bad($$SELECT seatmgr_touch(ARRAY[1, 2, 99], now())$$, '23503', 'user 99 does not exist', 'section 5: seatmgr_touch of many, one unknown user moves no one');
SELECT pg_temp.bad($$SELECT * FROM seatmgr_explain(99)$$, '23503', 'user 99 does not exist', 'section 5: seatmgr_explain, unknown user');
SELECT pg_temp.bad($$SELECT * FROM seatmgr_run(99)$$, '23503', 'division 99 does not exist', 'section 5: seatmgr_run, unknown division');
SELECT pg_temp.bad($$SELECT * FROM seatmgr_run_export(99)$$, '23503', 'run 99 does not exist', 'section 5: seatmgr_run_export, unknown run');

-- a user, team or group of another domain
SELECT pg_temp.bad($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 3)$$, '23514',
                   'user 3 belongs to domain 2, not to domain 1 of team 1', 'section 5: a user of another domain joins a team');
SELECT pg_temp.bad($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (2, 1)$$, '23514',
                   'user 1 belongs to domain 1, not to domain 2 of team 2', 'section 5: a team of another domain');
-- (failed inserts consume identities: the new team's id is the sequence's next value)
SELECT pg_temp.bad($$INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 2, 'X')$$, '23514',
                   format('division 2 belongs to domain 2, not to domain 1 of team %s',
                          (SELECT last_value + 1 FROM seatmgr.teams_team_id_seq)),
                   'section 5: a team in a division of another domain');
SELECT pg_temp.bad($$INSERT INTO seatmgr.group_members (group_id, user_id) VALUES (2, 1)$$, '23514',
                   'user 1 belongs to domain 1, not to domain 2 of group 2', 'section 5: a group of another domain');
SELECT pg_temp.bad($$INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (1, 2)$$, '23514',
                   'division 2 belongs to domain 2, not to domain 1 of group 1', 'section 5: a grant into another domain');
SELECT pg_temp.bad($$INSERT INTO seatmgr.exclusions (domain_id, group_id) VALUES (1, 2)$$, '23514',
                   'group 2 belongs to domain 2, not to domain 1', 'section 5: an excluded group of another domain');
SELECT pg_temp.bad($$SELECT seatmgr_grant_license(3, 1)$$, '23514',
                   'user 3 belongs to domain 2, not to domain 1 of division 1', 'section 5: a grant to a user of another domain');
SELECT pg_temp.bad($$UPDATE seatmgr.users SET domain_id = 2 WHERE user_id = 2$$, '0A000',
                   'cannot move user 2 from domain 1 to domain 2', 'section 6: a user does not change domain');
SELECT pg_temp.bad($$UPDATE seatmgr.teams SET division_id = 2 WHERE team_id = 1$$, '23514',
                   'division 2 belongs to domain 2, not to domain 1 of team 1', 'section 5: a team moved into another domain''s division');

-- a share with oneself; bad object types
SELECT pg_temp.bad($$INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id) VALUES ('project', 'P', 1, 1)$$, '23514',
                   'user 1 cannot share an object with themself', 'section 5: a share with oneself');
SELECT pg_temp.bad($$INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id) VALUES ('board', 'P', 1, 2)$$, '23514',
                   'invalid object_type "board"', 'section 2: object types are project, project_template, portfolio, goal, dashboard');

-- negative or zero intervals and other bad settings
SELECT pg_temp.bad($$UPDATE seatmgr.policies SET revoke_inactive_after = '-1 day'$$, '23514',
                   'revoke_inactive_after must be a positive interval, not "-1 days"', 'section 5: a negative revoke_inactive_after');
SELECT pg_temp.bad($$UPDATE seatmgr.policies SET revoke_inactive_after = '0'$$, '23514',
                   'revoke_inactive_after must be a positive interval, not "00:00:00"', 'section 5: a zero revoke_inactive_after');
SELECT pg_temp.bad($$UPDATE seatmgr.policies SET grant_active_within = '-30 days'$$, '23514',
                   'grant_active_within must be a positive interval, not "-30 days"', 'section 5: a negative grant_active_within');
SELECT pg_temp.bad($$UPDATE seatmgr.policies SET grant_active_within = '0 days'$$, '23514',
                   'grant_active_within must be a positive interval, not "00:00:00"', 'section 5: a zero grant_active_within');
SELECT pg_temp.bad($$UPDATE seatmgr.policies SET run_every = '0'$$, '23514',
                   'run_every must be a positive interval, not "00:00:00"', 'section 5: a zero run_every');
SELECT pg_temp.bad($$UPDATE seatmgr.policies SET run_every = '1 mon -40 days'$$, '23514',
                   'run_every must be a positive interval, not "1 mon -40 days"', 'section 5: an interval that adds up to a negative');
SELECT pg_temp.bad($$UPDATE seatmgr.policies SET grant_scope = 'all'$$, '23514', 'invalid grant_scope "all"', 'section 2: grant_scope is domain or division');
SELECT pg_temp.bad($$INSERT INTO seatmgr.divisions (domain_id, name, seat_limit) VALUES (1, 'X', -1)$$, '23514',
                   'seat_limit must be at least 0, not -1', 'section 2: seat_limit is null or >= 0');
SELECT pg_temp.bad($$INSERT INTO seatmgr.divisions (domain_id, name, on_full) VALUES (1, 'X', 'queue')$$, '23514',
                   'invalid on_full "queue"', 'section 2: on_full is waitlist or error');
SELECT pg_temp.bad($$INSERT INTO seatmgr.exclusions (domain_id, user_id, group_id) VALUES (1, 1, 1)$$, '23514',
                   'an exclusion names exactly one of user_id and group_id, not both', 'section 2: exactly one of user_id and group_id');

-- NULLs to functions
SELECT pg_temp.bad($$SELECT seatmgr_touch(1, NULL)$$, '22004', 'activity time must not be NULL', 'section 5: seatmgr_touch with a NULL time');
SELECT pg_temp.bad($$SELECT seatmgr_touch(NULL::bigint)$$, '22004', 'user_id must not be NULL', 'section 5: seatmgr_touch with a NULL id');
SELECT pg_temp.bad($$SELECT seatmgr_touch(ARRAY[1, NULL]::bigint[])$$, '22004', 'user_ids must not contain NULL', 'section 5: seatmgr_touch with a NULL in the ids');

-- activity never moves backwards
SELECT seatmgr_touch(1, '2026-05-01');
SELECT seatmgr_touch(ARRAY[1, 2]::bigint[], '2026-04-01');
SELECT results_eq($$SELECT user_id::int, last_active_at FROM seatmgr.users WHERE user_id IN (1, 2) ORDER BY 1$$,
                  $$VALUES (1, '2026-05-01'::timestamptz), (2, '2026-04-01')$$,
                  'seatmgr_touch never moves last_active_at backwards');

SELECT * FROM finish();
ROLLBACK;
