# SPEC section 5: no input, however malformed (NULLs in any column or
# argument, huge or non-finite numbers, 'infinity' times, 10 MB strings), ever
# ends a backend abnormally or restarts the server; the inputs that must be
# refused are refused; the invariants hold afterwards (issue 7).
#
# The bad inputs are generated: every writable column of every table an
# application writes (read from the catalog) crossed with bad values of its
# type, as an INSERT of an otherwise valid row and as an UPDATE of an existing
# row, plus every public function with NULL and extreme arguments.  Each runs
# in its own subtransaction from a procedure that commits its outcome (ok, or
# SQLSTATE and message) after each input, so an input that kills the backend
# is left marked 'running': it is recorded as crashed, the server is waited
# for and the remaining inputs run in a new session.
#
# A crash restart does not change pg_postmaster_start_time() (the postmaster
# survives; it only reinitializes), so a restart is detected three ways: the
# fuzz session's psql exit status, a sentinel session that must survive the
# whole test, and pg_stat_bgwriter.stats_reset (statistics are discarded by
# crash recovery) together with pg_postmaster_start_time().
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use SeatmgrTest;
use IPC::Run;
use POSIX qw(WNOHANG);
use PostgreSQL::Test::Utils;
use Test::More;

my $node = seatmgr_node('fuzz');
my $db   = 'seatmgr_fuzz_test';
my $tmp  = PostgreSQL::Test::Utils::tempdir;
sub q1 { return query_all($node, $db, @_); }

seatmgr_db($node, $db);
$node->psql($db, <<'SQL') == 0 or BAIL_OUT("the setup of $db failed");
SET client_min_messages = warning;
-- the organization the inputs are tried against
INSERT INTO seatmgr.domains (name) VALUES ('acme.com'), ('other.com');
INSERT INTO seatmgr.divisions (domain_id, name, seat_limit, on_full) VALUES
    (1, 'Eng', 5, 'waitlist'),      -- 1: limited
    (1, 'Open', NULL, 'waitlist'),  -- 2: unlimited
    (2, 'Other', NULL, 'waitlist'), -- 3: of other.com
    (1, 'Strict', 3, 'error');      -- 4: limited, refuses when full
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'A'), (2, 3, 'O'), (1, 2, 'B');
INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES
    (1, 'sam@acme.com', now() - interval '40 days'), (1, 'jo@acme.com', now() - interval '1 day'),
    (1, 'ana@acme.com', now()), (2, 'max@other.com', now() - interval '2 days');
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (1, 1, now() - interval '50 days'), (3, 1, now() - interval '50 days'), (3, 2, now()), (2, 4, now());
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id) VALUES ('project', 'P1', 1, 2);
INSERT INTO seatmgr.groups (domain_id, name) VALUES (1, 'Staff'), (2, 'Theirs');
INSERT INTO seatmgr.group_members (group_id, user_id) VALUES (1, 2), (1, 3);
INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (1, 2);
INSERT INTO seatmgr.exclusions (domain_id, user_id, reason) VALUES (1, 3, 'ceo');
INSERT INTO seatmgr.policies (division_id, enabled, revoke_inactive_after, grant_active_within) VALUES (1, false, '30 days', '7 days');
INSERT INTO seatmgr.policies (division_id, enabled, run_every, revoke_inactive_after) VALUES (2, true, '1 day', '60 days');

CREATE SCHEMA fuzz;
-- a 10 MB string that does not compress
CREATE TABLE fuzz.bigval AS SELECT string_agg(md5(i::text), '') AS v FROM generate_series(1, 327680) i;
CREATE FUNCTION fuzz.big() RETURNS text LANGUAGE sql STABLE AS 'SELECT v FROM fuzz.bigval';

CREATE TABLE fuzz.inputs (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL,      -- control, insert, update, call
    tbl         text,
    col         text,
    label       text NOT NULL,      -- the bad value, or the call
    stmt        text NOT NULL,
    must_refuse boolean NOT NULL DEFAULT false,
    state       text,               -- NULL (to run), running, done
    outcome     text,               -- ok, refused, norow (an UPDATE that found no row), crashed, hung
    sqlstate    text,
    message     text
);

-- the bad values for one column: label, SQL expression, must it be refused?
CREATE FUNCTION fuzz.bad_values(tbl text, col text, typ text, not_null boolean, fk boolean, op text)
RETURNS TABLE (label text, expr text, must boolean) LANGUAGE plpgsql AS $$
DECLARE
    activity  boolean := col IN ('last_active_at', 'added_at', 'shared_at');
    validated boolean := (tbl = 'domains' AND col = 'name') OR col IN ('email', 'on_full', 'grant_scope', 'object_type');
BEGIN
    RETURN QUERY VALUES ('NULL', 'NULL', not_null);
    IF typ = 'timestamp with time zone' THEN
        RETURN QUERY VALUES
            ('infinity', $e$'infinity'::timestamptz$e$, activity OR col = 'next_run_at'),
            ('-infinity', $e$'-infinity'::timestamptz$e$, activity OR col = 'next_run_at'),
            ('one day ahead', $e$now() + interval '1 day'$e$, activity),
            ('year 294276', $e$'294276-12-31 23:00:00+00'::timestamptz$e$, activity),
            ('4713 BC', $e$'4713-01-01 00:00:00+00 BC'::timestamptz$e$, false);
    ELSIF typ = 'interval' THEN
        RETURN QUERY VALUES
            ('1000000 years', $e$interval '1000000 years'$e$, true),
            ('101 years', $e$interval '101 years'$e$, true),
            ('-1 day', $e$interval '-1 day'$e$, true),
            ('0', $e$interval '0'$e$, true),
            ('-178000000 years', $e$interval '-178000000 years'$e$, true),
            ('1 microsecond', $e$interval '1 microsecond'$e$, false);
    ELSIF typ = 'numeric' THEN
        RETURN QUERY VALUES
            ('NaN', $e$'NaN'::numeric$e$, true),
            ('Infinity', $e$'Infinity'::numeric$e$, true),
            ('-Infinity', $e$'-Infinity'::numeric$e$, true),
            ('-1', '-1', true),
            ('1e300', '1e300', false),
            ('1e-300', '1e-300', false);
    ELSIF typ = 'integer' THEN
        RETURN QUERY VALUES ('-1', '-1', true), ('0', '0', false), ('2147483647', '2147483647', false);
    ELSIF typ = 'bigint' THEN
        RETURN QUERY VALUES
            ('0', '0', fk), ('-1', '-1', fk), ('9223372036854775807', '9223372036854775807', fk),
            ('999999 (no such id)', '999999', fk);
    ELSIF typ = 'text' THEN
        RETURN QUERY VALUES
            ('empty string', $e$''$e$, validated),
            ('bogus value', $e$'bogus value'$e$, validated),
            ('10 MB string', 'fuzz.big()', validated);
        IF col = 'email' THEN
            RETURN QUERY VALUES ('10 MB e-mail address', $e$fuzz.big() || '@acme.com'$e$, true);
        ELSIF tbl = 'domains' AND col = 'name' THEN
            RETURN QUERY VALUES ('10 MB of labels', $e$repeat('a.', 5242879) || 'com'$e$, true);
        END IF;
    END IF;
    -- ids of the other domain (ids: see the organization above)
    RETURN QUERY
        SELECT 'of the other domain: ' || x.v, x.v, x.m
          FROM (VALUES ('teams', 'domain_id', 'both', '2', true),
                       ('teams', 'division_id', 'both', '3', true),
                       ('divisions', 'domain_id', 'update', '2', true),
                       ('users', 'domain_id', 'update', '2', true),
                       ('users', 'domain_id', 'insert', '2', false),
                       ('groups', 'domain_id', 'update', '2', true),
                       ('team_members', 'team_id', 'both', '2', true),
                       ('team_members', 'user_id', 'both', '4', true),
                       ('shares', 'division_id', 'both', '3', true),
                       ('shares', 'sharer_id', 'both', '4', false),    -- R2: changes nothing
                       ('shares', 'recipient_id', 'both', '4', false), -- R2: changes nothing
                       ('group_members', 'group_id', 'both', '2', true),
                       ('group_members', 'user_id', 'both', '4', true),
                       ('group_grants', 'group_id', 'both', '2', true),
                       ('group_grants', 'division_id', 'both', '3', true),
                       ('exclusions', 'domain_id', 'both', '2', true),
                       ('exclusions', 'user_id', 'both', '4', true),
                       ('exclusions', 'group_id', 'insert', '2', true)) x(t, c, o, v, m)
         WHERE x.t = tbl AND x.c = col AND x.o IN (op, 'both');
END
$$;

-- an otherwise valid row of each table ({u}, {g}, {d}: a user, group and
-- division of domain 1 of the input's own, so that keys never collide) and
-- the existing row each UPDATE changes
CREATE TABLE fuzz.tables (tbl text PRIMARY KEY, template jsonb NOT NULL, target text NOT NULL);
INSERT INTO fuzz.tables VALUES
  ('domains',       '{"name": "''fuzz{n}.com''"}', 'domain_id = 1'),
  ('divisions',     '{"domain_id": "1", "name": "''fuzz''"}', 'division_id = 1'),
  ('teams',         '{"domain_id": "1", "division_id": "2", "name": "''fuzz''"}', 'team_id = 1'),
  ('users',         '{"domain_id": "1", "email": "''fuzz{n}@acme.com''"}', 'user_id = 1'),
  ('team_members',  '{"team_id": "3", "user_id": "{u}"}', 'team_id = 1 AND user_id = 1'),
  ('shares',        '{"object_type": "''project''", "object_id": "''fuzz''", "sharer_id": "1", "recipient_id": "{u}"}', 'share_id = 1'),
  ('groups',        '{"domain_id": "1", "name": "''fuzz''"}', 'group_id = 1'),
  ('group_members', '{"group_id": "1", "user_id": "{u}"}', 'group_id = 1 AND user_id = 2'),
  ('group_grants',  '{"group_id": "{g}", "division_id": "2"}', 'group_id = 1 AND division_id = 2'),
  ('exclusions',    '{"domain_id": "1", "user_id": "{u}", "reason": "''fuzz''"}', 'exclusion_id = 1'),
  ('policies',      '{"division_id": "{d}"}', 'division_id = 1');

CREATE FUNCTION fuzz.insert_stmt(tbl text, cols jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT format('INSERT INTO seatmgr.%I (%s) VALUES (%s)', tbl,
                  string_agg(quote_ident(key), ', ' ORDER BY key), string_agg(value, ', ' ORDER BY key))
      FROM jsonb_each_text(cols)
$$;

DO $gen$
DECLARE
    t record;
    c record;
    b record;
    cols jsonb;
BEGIN
    -- controls: the valid rows themselves, and an UPDATE that finds its row
    FOR t IN SELECT * FROM fuzz.tables ORDER BY tbl LOOP
        INSERT INTO fuzz.inputs (kind, tbl, label, stmt)
        VALUES ('control', t.tbl, 'valid row', fuzz.insert_stmt(t.tbl, t.template)),
               ('control', t.tbl, 'update of the target row',
                format('UPDATE seatmgr.%I SET created_at = created_at WHERE %s', t.tbl, t.target));
    END LOOP;
    -- every writable column crossed with its bad values
    FOR t IN SELECT * FROM fuzz.tables ORDER BY tbl LOOP
        FOR c IN SELECT a.attname::text AS col, format_type(a.atttypid, NULL) AS typ, a.attnotnull AS not_null,
                        EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = a.attrelid AND k.contype = 'f'
                                   AND a.attnum = ANY (k.conkey)) AS fk
                   FROM pg_attribute a
                  WHERE a.attrelid = format('seatmgr.%I', t.tbl)::regclass AND a.attnum > 0
                    AND NOT a.attisdropped AND a.attidentity = '' AND a.attgenerated = ''
                  ORDER BY a.attnum LOOP
            FOR b IN SELECT * FROM fuzz.bad_values(t.tbl, c.col, c.typ, c.not_null, c.fk, 'insert') LOOP
                cols := t.template || jsonb_build_object(c.col, b.expr);
                IF t.tbl = 'exclusions' AND c.col = 'group_id' THEN
                    cols := cols - 'user_id';   -- exactly one of user_id, group_id
                END IF;
                INSERT INTO fuzz.inputs (kind, tbl, col, label, stmt, must_refuse)
                VALUES ('insert', t.tbl, c.col, b.label, fuzz.insert_stmt(t.tbl, cols), b.must);
            END LOOP;
            FOR b IN SELECT * FROM fuzz.bad_values(t.tbl, c.col, c.typ, c.not_null, c.fk, 'update') LOOP
                INSERT INTO fuzz.inputs (kind, tbl, col, label, stmt, must_refuse)
                VALUES ('update', t.tbl, c.col, b.label,
                        format('UPDATE seatmgr.%I SET %I = %s WHERE %s', t.tbl, c.col, b.expr, t.target), b.must);
            END LOOP;
        END LOOP;
    END LOOP;
END
$gen$;

-- every public function with NULL and extreme arguments: (call, must it be refused?)
INSERT INTO fuzz.inputs (kind, tbl, label, stmt, must_refuse)
SELECT 'call', split_part(x.s, '(', 1), x.s, 'SELECT * FROM ' || x.s, x.m
  FROM (VALUES
    ('seatmgr_run(1, preview => NULL)', true),
    ('seatmgr_run(NULL, NULL)', true),
    ('seatmgr_run(0)', true),
    ('seatmgr_run(-1)', true),
    ('seatmgr_run(9223372036854775807)', true),
    ('seatmgr_run(999999)', true),
    ('seatmgr_run(999999, true)', true),
    ('seatmgr_run(1, true)', false),
    ('seatmgr_run(NULL::bigint, true)', false),
    ('seatmgr_run(3)', false),
    ('seatmgr_run(1)', false),
    ('seatmgr_run(NULL::bigint)', false),
    ('seatmgr_grant_license(NULL, 1)', true),
    ('seatmgr_grant_license(1, NULL)', true),
    ('seatmgr_grant_license(NULL, NULL)', true),
    ('seatmgr_grant_license(999999, 1)', true),
    ('seatmgr_grant_license(1, 999999)', true),
    ('seatmgr_grant_license(0, 1)', true),
    ('seatmgr_grant_license(-1, 1)', true),
    ('seatmgr_grant_license(9223372036854775807, 1)', true),
    ('seatmgr_grant_license(2, 0)', true),
    ('seatmgr_grant_license(2, -1)', true),
    ('seatmgr_grant_license(2, 9223372036854775807)', true),
    ('seatmgr_grant_license(4, 1)', true),
    ('seatmgr_grant_license(2, 3)', true),
    ('seatmgr_grant_license(2, 4)', false),
    ('seatmgr_remove_license(NULL, 1)', true),
    ('seatmgr_remove_license(1, NULL)', true),
    ('seatmgr_remove_license(NULL, NULL)', true),
    ('seatmgr_remove_license(999999, 1)', true),
    ('seatmgr_remove_license(1, 999999)', true),
    ('seatmgr_remove_license(0, 1)', true),
    ('seatmgr_remove_license(-1, 1)', true),
    ('seatmgr_remove_license(9223372036854775807, 1)', true),
    ('seatmgr_remove_license(1, 0)', true),
    ('seatmgr_remove_license(1, 9223372036854775807)', true),
    ('seatmgr_remove_license(4, 1)', true),
    ('seatmgr_remove_license(1, 3)', true),
    ('seatmgr_remove_license(2, 2)', false),
    ('seatmgr_touch(NULL::bigint)', true),
    ('seatmgr_touch(NULL::bigint, now())', true),
    ('seatmgr_touch(1, NULL)', true),
    ('seatmgr_touch(1, ''infinity'')', true),
    ('seatmgr_touch(1, ''-infinity'')', true),
    ('seatmgr_touch(1, now() + interval ''1 day'')', true),
    ('seatmgr_touch(1, now() + interval ''100 years'')', true),
    ('seatmgr_touch(1, ''9999-12-31'')', true),
    ('seatmgr_touch(1, ''294276-12-31 23:00:00+00'')', true),
    ('seatmgr_touch(999999)', true),
    ('seatmgr_touch(0)', true),
    ('seatmgr_touch(-1)', true),
    ('seatmgr_touch(9223372036854775807)', true),
    ('seatmgr_touch(2, ''4713-01-01 00:00:00+00 BC'')', false),
    ('seatmgr_touch(2)', false),
    ('seatmgr_touch(NULL::bigint[])', true),
    ('seatmgr_touch(ARRAY[NULL]::bigint[])', true),
    ('seatmgr_touch(ARRAY[1, NULL]::bigint[])', true),
    ('seatmgr_touch(ARRAY[1]::bigint[], NULL)', true),
    ('seatmgr_touch(ARRAY[1]::bigint[], ''infinity'')', true),
    ('seatmgr_touch(ARRAY[1]::bigint[], ''-infinity'')', true),
    ('seatmgr_touch(ARRAY[1, 2]::bigint[], now() + interval ''1 day'')', true),
    ('seatmgr_touch(ARRAY[1, 999999]::bigint[])', true),
    ('seatmgr_touch(ARRAY[0]::bigint[])', true),
    ('seatmgr_touch(ARRAY[-1, 9223372036854775807]::bigint[])', true),
    ('seatmgr_touch(ARRAY(SELECT generate_series(1, 2000000)::bigint))', true),
    ('seatmgr_touch(''{}''::bigint[])', false),
    ('seatmgr_touch(array_fill(2::bigint, ARRAY[200000]))', false),
    ('seatmgr_touch(ARRAY[[1, 2], [2, 1]]::bigint[])', false),
    ('seatmgr_explain(NULL)', true),
    ('seatmgr_explain(999999)', true),
    ('seatmgr_explain(0)', true),
    ('seatmgr_explain(-1)', true),
    ('seatmgr_explain(9223372036854775807)', true),
    ('seatmgr_explain(1)', false),
    ('seatmgr_run_export(NULL)', true),
    ('seatmgr_run_export(999999)', true),
    ('seatmgr_run_export(0)', true),
    ('seatmgr_run_export(-1)', true),
    ('seatmgr_run_export(9223372036854775807)', true),
    ('seatmgr_run_export((SELECT max(run_id) FROM seatmgr.runs))', false),
    ('seatmgr_run_summary(NULL)', true),
    ('seatmgr_run_summary(999999)', true),
    ('seatmgr_run_summary(-1)', true),
    ('seatmgr_run_summary(9223372036854775807)', true),
    ('seatmgr_run_summary((SELECT max(run_id) FROM seatmgr.runs))', false),
    ('seatmgr_answer_notice(NULL, ''keep'')', true),
    ('seatmgr_answer_notice(1, NULL)', true),
    ('seatmgr_answer_notice(NULL, NULL)', true),
    ('seatmgr_answer_notice(999999, ''keep'')', true),
    ('seatmgr_answer_notice(-1, ''release'')', true),
    ('seatmgr_answer_notice(9223372036854775807, ''keep'')', true),
    ('seatmgr_answer_notice(1, '''')', true),
    ('seatmgr_answer_notice(1, repeat(''x'', 10000000))', true),
    ('seatmgr_answer_notice(1, E''keep\\n'')', true),
    ('seatmgr_undo_run(NULL)', true),
    ('seatmgr_undo_run(999999)', true),
    ('seatmgr_undo_run(0)', true),
    ('seatmgr_undo_run(-1)', true),
    ('seatmgr_undo_run(9223372036854775807)', true),
    ('seatmgr_simulate(NULL, NULL, NULL)', true),
    ('seatmgr_simulate(999999, NULL, NULL)', true),
    ('seatmgr_simulate(-1, ''1 day'', ''1 day'')', true),
    ('seatmgr_simulate(1, ''infinity''::interval, NULL)', true),
    ('seatmgr_simulate(1, ''-1 day'', NULL)', true),
    ('seatmgr_simulate(1, ''0'', NULL)', true),
    ('seatmgr_simulate(1, NULL, ''178000000 years'')', true),
    ('seatmgr_simulate(1, NULL, NULL, ''-infinity''::interval)', true),
    ('seatmgr_simulate(1, ''1 microsecond'', ''100 years'', ''1 day'')', false),
    ('seatmgr_simulate(1, NULL, NULL)', false),
    ('seatmgr_schedule(NULL)', true),
    ('seatmgr_schedule('''')', false),
    ('seatmgr_schedule(fuzz.big())', false),
    ('seatmgr_schedule(''* * * * * * * * * *'')', false)) x(s, m);

-- the input's own user, group and division of domain 1 (pools created below)
UPDATE fuzz.inputs SET stmt = replace(replace(replace(replace(stmt,
    '{n}', id::text), '{u}', (4 + id)::text), '{g}', (2 + id)::text), '{d}', (4 + id)::text);
INSERT INTO seatmgr.users (domain_id, email, last_active_at)
SELECT 1, 'pool' || i || '@acme.com', now() - interval '10 days' FROM generate_series(1, (SELECT max(id) FROM fuzz.inputs)) i;
INSERT INTO seatmgr.groups (domain_id, name)
SELECT 1, 'pool ' || i FROM generate_series(1, (SELECT max(id) FROM fuzz.inputs)) i;
INSERT INTO seatmgr.divisions (domain_id, name)
SELECT 1, 'pool ' || i FROM generate_series(1, (SELECT max(id) FROM fuzz.inputs)) i;

-- runs one input in its own subtransaction; commits 'running' before it and
-- its outcome after it, so an input that ends the backend stays 'running'
CREATE PROCEDURE fuzz.run_one(input integer) LANGUAGE plpgsql AS $$
DECLARE
    r record;
    st text;
    msg text;
    n bigint;
BEGIN
    SELECT id, kind, stmt INTO r FROM fuzz.inputs WHERE id = input AND state IS NULL;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    UPDATE fuzz.inputs SET state = 'running' WHERE id = r.id;
    COMMIT;
    -- an accepted input is undone (the sentinel SQLSTATE SMFZZ), so that every
    -- input meets the same organization: a share whose sharer one input moved
    -- to the other domain would make the next input's other-domain division legal
    BEGIN
        EXECUTE r.stmt;
        GET DIAGNOSTICS n = ROW_COUNT;
        RAISE EXCEPTION 'undo' USING ERRCODE = 'SMFZZ';
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
        IF st = 'SMFZZ' THEN
            st := NULL;
            msg := NULL;
        END IF;
    END;
    UPDATE fuzz.inputs
       SET state = 'done',
           outcome = CASE WHEN st IS NOT NULL THEN 'refused'
                          WHEN r.stmt LIKE 'UPDATE%' AND n = 0 THEN 'norow'
                          ELSE 'ok' END,
           sqlstate = st,
           message = CASE WHEN length(msg) > 300 THEN left(msg, 300) || format('... (%s characters)', length(msg)) ELSE msg END
     WHERE id = r.id;
    COMMIT;
END
$$;
SQL

# a restart shows as a new postmaster start time or, after a crash restart
# (same postmaster), as statistics reset by crash recovery
my $before = server_epoch($node);
my $sentinel_count =
  "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'seatmgr_fuzz_sentinel'";
my $sentinel = fork() // die "fork: $!";
if ($sentinel == 0)
{
	$ENV{PGAPPNAME} = 'seatmgr_fuzz_sentinel';
	open STDOUT, '>', '/dev/null';
	open STDERR, '>', '/dev/null';
	exec('psql', '-X', '-q', '-d', 'postgres', '-c', 'SELECT pg_sleep(3600)') or POSIX::_exit(127);
}
wait_for(10, sub { query($node, 'postgres', $sentinel_count) eq '1' });

# the fuzz session, one CALL a input, each with a 60 s statement_timeout: an
# input left 'running' is a crash when the session was lost, a hang when it
# was cancelled.  Errors are the point, so they are kept out of the server log.
my $start = time();
my $first_rc;
my $crashes = 0;
for my $attempt (1 .. 40)
{
	unlink "$tmp/fuzz.sql";
	append_to_file("$tmp/fuzz.sql",
		query($node, $db, "SELECT format('CALL fuzz.run_one(%s);', id) FROM fuzz.inputs WHERE state IS NULL ORDER BY id") . "\n");
	my $err = '';
	{
		local $ENV{PGOPTIONS} =
		  '-c log_min_messages=fatal -c log_min_error_statement=panic -c client_min_messages=warning -c statement_timeout=60s';
		IPC::Run::run([ 'psql', '-X', '-q', '-d', $db, '-f', "$tmp/fuzz.sql" ],
			'<', \undef, '>', '/dev/null', '2>', \$err);
	}
	my $rc = $? >> 8;
	$first_rc //= $rc;
	if ($rc == 0)
	{
		query($node, $db, "UPDATE fuzz.inputs SET state = 'done', outcome = 'hung' WHERE state = 'running'");
		last;
	}
	$crashes++;
	diag("the fuzz session ended with exit code $rc: "
		  . substr(join(' ', grep { !/^psql:.*statement timeout/ } split /\n/, $err), 0, 200));
	# the server restarts every backend; wait until it accepts connections again
	wait_for(60, sub { query($node, $db, 'SELECT 1') eq '1' });
	query($node, $db, "UPDATE fuzz.inputs SET state = 'done', outcome = 'crashed' WHERE state = 'running'");
}
note('fuzz run: ' . (time() - $start) . ' s');
my $after = server_epoch($node);

my $total = q1("SELECT count(*) FROM fuzz.inputs WHERE kind <> 'control'");
cmp_ok($total, '>=', 200, "at least 200 bad inputs generated ($total)");
note(q1(<<'SQL'));
SELECT format('inputs tried: %s; refused: %s; accepted: %s; crashed: %s; hung: %s; not run: %s',
       (SELECT count(*) FROM fuzz.inputs WHERE kind <> 'control'),
       (SELECT count(*) FROM fuzz.inputs WHERE kind <> 'control' AND outcome = 'refused'),
       (SELECT count(*) FROM fuzz.inputs WHERE kind <> 'control' AND outcome = 'ok'),
       (SELECT count(*) FROM fuzz.inputs WHERE outcome = 'crashed'),
       (SELECT count(*) FROM fuzz.inputs WHERE outcome = 'hung'),
       (SELECT count(*) FROM fuzz.inputs WHERE state IS DISTINCT FROM 'done'))
SQL
note_lines('by outcome and SQLSTATE:', q1(<<'SQL'));
SELECT format('  %-9s %-5s %s', outcome, coalesce(sqlstate, ''), count(*)) FROM fuzz.inputs WHERE kind <> 'control'
GROUP BY outcome, sqlstate ORDER BY outcome, sqlstate
SQL

my $bad = q1(<<'SQL');
SELECT format('input %s %s %s: %s (%s %s)', id, kind, tbl, label, outcome, left(coalesce(sqlstate || ' ' || message, stmt), 160))
FROM fuzz.inputs WHERE kind = 'control' AND outcome IS DISTINCT FROM 'ok' ORDER BY id
SQL
ok($bad eq '',
	'every control (the valid row of each table, the UPDATE of its target row) is accepted: the inputs test what they say');
diag_lines('controls that failed:', $bad) if $bad ne '';

my $crashed = q1(<<'SQL');
SELECT format('input %s %s %s = %s (%s): %s', id, kind, coalesce(tbl || '.' || col, tbl), label, outcome, left(stmt, 160))
FROM fuzz.inputs WHERE outcome IN ('crashed', 'hung') OR state IS DISTINCT FROM 'done' ORDER BY id
SQL
ok($first_rc == 0 && $crashed eq '',
	"no input ended the fuzz session's backend or ran over 60 s (psql exit code $first_rc, $crashes crash(es))");
diag_lines('inputs that ended the backend (crashed) or hung:', $crashed) if $crashed ne '';

# the sentinel's psql still runs (not reaped: waitpid says 0) and its session is there
my $sentinel_alive = waitpid($sentinel, WNOHANG) == 0;
ok($after eq $before && $sentinel_alive && query($node, 'postgres', $sentinel_count) eq '1',
	'the server never restarted: postmaster start and statistics unchanged, a sentinel session survived');
diag("postmaster start / stats reset before: $before\nafter: $after") if $after ne $before;
query($node, 'postgres',
	"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'seatmgr_fuzz_sentinel'");
waitpid($sentinel, 0) if $sentinel_alive;

my $internal = q1(<<'SQL');
SELECT format('input %s %s %s.%s = %s: %s %s', id, kind, tbl, col, label, sqlstate, left(message, 160))
FROM fuzz.inputs WHERE left(sqlstate, 2) IN ('XX', '58') ORDER BY id
SQL
ok($internal eq '', 'no internal error (SQLSTATE class XX or 58)');
diag_lines('internal errors:', $internal) if $internal ne '';

my $accepted = q1(<<'SQL');
SELECT format('input %s %s %s = %s (%s)', id, kind, coalesce(tbl || '.' || col, tbl), label,
              CASE outcome WHEN 'ok' THEN 'accepted' ELSE outcome END)
FROM fuzz.inputs WHERE must_refuse AND outcome IS DISTINCT FROM 'refused' ORDER BY id
SQL
my $must = q1('SELECT count(*) FROM fuzz.inputs WHERE must_refuse');
ok($accepted eq '',
	"every input that must be refused ($must: NULL in NOT NULL columns and arguments, infinite or future times, intervals over 100 years or not positive, bad seat_price and seat_limit, unknown and cross-domain ids, malformed names) is refused"
);
if ($accepted ne '')
{
	my @l = split /\n/, $accepted;
	diag_lines('must be refused but were not (' . scalar(@l) . '):', $accepted);
}

my $violations = query_all($node, $db, slurp_file("$SRCDIR/t/invariants.sql"));
ok($violations eq '', 'the invariants hold afterwards (t/invariants.sql)');
diag_lines('invariants violated (invariant|violations|examples):', $violations) if $violations ne '';

$node->stop;
done_testing(7);
