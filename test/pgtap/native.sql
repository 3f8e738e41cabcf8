-- pgTAP: seatmgr feels native (issue 12).
--   (a) every column of every table and view of the extension has a
--       comment (\d+ shows it): one query, so a column added later without
--       a comment fails it;
--   (b) errors about a row carry the fields ORMs and drivers read (psycopg's
--       e.diag.schema_name, table_name, column_name, constraint_name), read
--       here with GET STACKED DIAGNOSTICS: one or more errors of every C
--       file that raises row errors (validate.c, writer.c, functions.c,
--       sweep.c, webhooks.c, access.c), and errors about no row carry none.
--       (Not in pg_regress: psql's VERBOSITY verbose, which prints these
--       fields, also prints LOCATION lines with C line numbers.)
BEGIN;
CREATE EXTENSION seatmgr;
SELECT plan(2 + 22 * 7);

-- (a) column comments ----------------------------------------------------------
CREATE TEMP VIEW ext_columns AS
SELECT c.relname, a.attname, col_description(c.oid, a.attnum) AS comment
  FROM pg_depend d
  JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'seatmgr')
   AND d.deptype = 'e'
   AND n.nspname = 'seatmgr' AND c.relkind IN ('r', 'p', 'v', 'm', 'f');

SELECT cmp_ok((SELECT count(DISTINCT relname)::int FROM ext_columns), '>=', 28,
              'issue 12: the query sees every table and view of the extension (21 tables and 7 views)');
SELECT is((SELECT string_agg(relname || '.' || attname, ', ' ORDER BY relname, attname)
             FROM ext_columns WHERE coalesce(btrim(comment), '') = ''),
          NULL, 'issue 12: every column of every seatmgr table and view has a comment (COMMENT ON COLUMN, sql/comments.sql)');

-- (b) error fields -------------------------------------------------------------
-- acme.com (1): Eng (1, 1 seat, on_full error), Sales (2, unpaid); other.com (2)
INSERT INTO seatmgr.domains (name) VALUES ('acme.com'), ('other.com');
INSERT INTO seatmgr.divisions (domain_id, name, seat_limit, on_full) VALUES (1, 'Eng', 1, 'error');
INSERT INTO seatmgr.divisions (domain_id, name, paid) VALUES (1, 'Sales', false);
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'Platform');
INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'sam@acme.com'), (1, 'jo@acme.com'), (2, 'max@other.com');
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 1);   -- Eng is full now

-- fields(sql, sqlstate, message, table, column, constraint, description): the
-- statement fails with that SQLSTATE and message, and its error fields are
-- schema seatmgr (or none when table is NULL), table, column and constraint
-- (NULL: not set); the names it gives exist in the catalog
CREATE FUNCTION pg_temp.fields(sql text, code text, msg text, tab text, col text, con text, description text)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  e_code text; e_msg text; e_schema text; e_table text; e_column text; e_constraint text;
BEGIN
  BEGIN
    EXECUTE sql;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS e_code = RETURNED_SQLSTATE, e_msg = MESSAGE_TEXT, e_schema = SCHEMA_NAME,
                            e_table = TABLE_NAME, e_column = COLUMN_NAME, e_constraint = CONSTRAINT_NAME;
  END;
  RETURN NEXT is(e_code, code, description || ': SQLSTATE');
  RETURN NEXT is(e_msg, msg, description || ': message');
  RETURN NEXT is(nullif(e_schema, ''), CASE WHEN tab IS NOT NULL THEN 'seatmgr' END, description || ': SCHEMA_NAME');
  RETURN NEXT is(nullif(e_table, ''), tab, description || ': TABLE_NAME');
  RETURN NEXT is(nullif(e_column, ''), col, description || ': COLUMN_NAME');
  RETURN NEXT is(nullif(e_constraint, ''), con, description || ': CONSTRAINT_NAME');
  RETURN NEXT ok(tab IS NULL
                 OR (to_regclass('seatmgr.' || quote_ident(tab)) IS NOT NULL
                     AND (col IS NULL OR EXISTS (SELECT 1 FROM pg_attribute
                                                  WHERE attrelid = to_regclass('seatmgr.' || quote_ident(tab))
                                                    AND attname = col AND NOT attisdropped))
                     AND (con IS NULL OR EXISTS (SELECT 1 FROM pg_constraint
                                                  WHERE conrelid = to_regclass('seatmgr.' || quote_ident(tab)) AND conname = con)
                                      OR EXISTS (SELECT 1 FROM pg_index
                                                  WHERE indrelid = to_regclass('seatmgr.' || quote_ident(tab))
                                                    AND indexrelid = to_regclass('seatmgr.' || quote_ident(con))))),
                 description || ': the table, column and constraint named exist');
END $$;

-- validate.c: the row's table, the column at fault, the constraint that states the rule
SELECT pg_temp.fields($$INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'not an address')$$,
  '23514', 'invalid e-mail address "not an address"', 'users', 'email', NULL,
  'issue 12: a malformed e-mail in users');
SELECT pg_temp.fields($$INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'SAM@acme.com')$$,
  '23505', 'e-mail address "SAM@acme.com" is already used by user 1', 'users', 'email', 'users_email_key',
  'issue 12: a duplicate e-mail in users names its unique index');
SELECT pg_temp.fields($$INSERT INTO seatmgr.users (domain_id, email) VALUES (99, 'x@acme.com')$$,
  '23503', 'domain 99 does not exist', 'users', 'domain_id', 'users_domain_id_fkey',
  'issue 12: an unknown domain in users names the foreign key');
SELECT pg_temp.fields($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 3)$$,
  '23514', 'user 3 belongs to domain 2, not to domain 1 of team 1', 'team_members', 'user_id', NULL,
  'issue 12: a team_members row linking a user of another domain');
SELECT pg_temp.fields($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 1)$$,
  '23505', 'user 1 is already a member of team 1', 'team_members', NULL, 'team_members_pkey',
  'issue 12: a duplicate team_members row');
SELECT pg_temp.fields($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (77, 2)$$,
  '23503', 'team 77 does not exist', 'team_members', 'team_id', 'team_members_team_id_fkey',
  'issue 12: a team_members row with an unknown team');
SELECT pg_temp.fields($$UPDATE seatmgr.divisions SET seat_limit = -1 WHERE division_id = 1$$,
  '23514', 'seat_limit must be at least 0, not -1', 'divisions', 'seat_limit', 'divisions_seat_limit_check',
  'issue 12: a negative seat_limit names the check constraint');
SELECT pg_temp.fields($$INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id) VALUES ('project', 'p', 1, 1)$$,
  '23514', 'user 1 cannot share an object with themself', 'shares', NULL, 'shares_check',
  'issue 12: a share with oneself names the check constraint');
SELECT pg_temp.fields($$INSERT INTO seatmgr.policies (division_id, revoke_inactive_after) VALUES (1, '-1 day')$$,
  '23514', 'revoke_inactive_after must be a positive interval, not "-1 days"', 'policies', 'revoke_inactive_after', NULL,
  'issue 12: a negative interval in policies');
SELECT pg_temp.fields($$INSERT INTO seatmgr.webhooks (domain_id, url) VALUES (1, 'ftp://hooks.example.com/x')$$,
  '22023', 'webhook url "ftp://hooks.example.com/x" is not an http or https URL', 'webhooks', 'url', NULL,
  'issue 12: a bad webhook url');

-- writer.c: R6, a full division with on_full = 'error'
SELECT pg_temp.fields($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 2)$$,
  '53400', 'division 1 ("Eng") is full: its seat_limit of 1 is reached', 'divisions', 'seat_limit', NULL,
  'issue 12: R6 seat limit full (53400) names divisions.seat_limit');

-- functions.c: the object's table and key when no row of a trigger is at fault
SELECT pg_temp.fields($$SELECT seatmgr_remove_license(2, 1)$$,
  '42704', 'user 2 holds no license in division 1 ("Eng")', 'licenses', NULL, NULL,
  'issue 12: R4 seatmgr_remove_license of an unknown licence');
SELECT pg_temp.fields($$SELECT seatmgr_grant_license(1, 999)$$,
  '23503', 'division 999 does not exist', 'divisions', 'division_id', NULL,
  'issue 12: R4 seatmgr_grant_license into an unknown division');
SELECT pg_temp.fields($$SELECT seatmgr_grant_license(2, 2)$$,
  '55000', 'division 2 ("Sales") is not paid', 'divisions', 'paid', NULL,
  'issue 12: R4 seatmgr_grant_license into an unpaid division');
SELECT pg_temp.fields($$SELECT seatmgr_answer_notice(4242, 'keep')$$,
  '42704', 'notice 4242 does not exist', 'notices', 'notice_id', NULL,
  'issue 12: R15 seatmgr_answer_notice of an unknown notice');
SELECT pg_temp.fields($$SELECT seatmgr_touch(1, now() + interval '1 hour')$$,
  '22023', format('activity time "%s" is in the future', (now() + interval '1 hour')::text), 'users', 'last_active_at', NULL,
  'issue 12: R21 seatmgr_touch in the future names users.last_active_at');

-- sweep.c, webhooks.c, access.c
SELECT pg_temp.fields($$SELECT * FROM seatmgr_undo_run(31337)$$,
  '23503', 'run 31337 does not exist', 'runs', 'run_id', NULL,
  'issue 12: R16 seatmgr_undo_run of an unknown run');
SELECT pg_temp.fields($$SELECT seatmgr_redeliver(808)$$,
  '42704', 'delivery 808 does not exist', 'deliveries', 'delivery_id', NULL,
  'issue 12: seatmgr_redeliver of an unknown delivery');
SELECT pg_temp.fields($$SELECT seatmgr_allow('postgres', 'owner')$$,
  '22023', 'invalid access "owner"', 'access', 'access', NULL,
  'issue 12: seatmgr_allow with an unknown kind of access');

-- R20: a scoped role's insert of a row out of its scope names the row's column
CREATE ROLE seatmgr_t_native_app;
SELECT seatmgr_allow('seatmgr_t_native_app', 'app', domain_id => 2);
SET ROLE seatmgr_t_native_app;
SELECT pg_temp.fields($$INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 3)$$,
  '42501', 'permission denied for team 1', 'team_members', 'team_id', NULL,
  'issue 12: R20 a team_members row out of the caller''s scope (42501) names team_members.team_id');
RESET ROLE;

-- errors about no row carry no table
SELECT pg_temp.fields($$SELECT * FROM seatmgr_cost(now(), now() - interval '1 day')$$,
  '22023', format('from_at "%s" is later than to_at "%s"', now()::text, (now() - interval '1 day')::text), NULL, NULL, NULL,
  'issue 12: seatmgr_cost with a reversed period (about no row) has no table');
SELECT pg_temp.fields($$SELECT * FROM seatmgr_run(1, preview => NULL)$$,
  '22004', 'preview must not be NULL', NULL, NULL, NULL,
  'issue 12: a NULL argument (about no row) has no table');

SELECT * FROM finish();
ROLLBACK;
