# R21, SPEC section 5 and issue 7: a non-superuser database owner plants
# now(), clock_timestamp(), lower() and the =, <, - operators in a schema and
# puts it first in the database's search_path.  No seatmgr path ever calls
# them: CALL seatmgr_sweep() run by a superuser, the pg_cron job, the
# launcher's clean-up after a restart, the triggers and functions.  (In
# 0.1.0 each of the first three ran ALTER ROLE ... SUPERUSER for the owner.)
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use SeatmgrTest;
use POSIX qw(strftime);
use Test::More;

my $node = seatmgr_node('search_path');
my $db   = 'seatmgr_search_path_test';
# the test's own observations run under a safe path; what seatmgr runs gets the database's
sub qs
{
	local $ENV{PGOPTIONS} = '-c search_path=pg_catalog,public';
	return query($node, $db, $_[0]);
}
# as the database owner
sub q_owner
{
	local $ENV{PGUSER} = 'seatmgr_evil_owner';
	return query($node, $db, $_[0]);
}
query($node, 'postgres', "CREATE ROLE seatmgr_evil_owner LOGIN");
query($node, 'postgres', "CREATE DATABASE $db OWNER seatmgr_evil_owner");
query($node, $db, 'CREATE EXTENSION seatmgr');
q_owner(<<'SQL');
CREATE SCHEMA evil;
CREATE TABLE evil.calls (fn text, by_role text, at timestamptz DEFAULT pg_catalog.clock_timestamp());
GRANT USAGE ON SCHEMA evil TO PUBLIC;
GRANT INSERT, SELECT ON evil.calls TO PUBLIC;
-- each planted object records who ran it and tries to make the owner superuser
CREATE FUNCTION evil.hit(fn text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO evil.calls (fn, by_role) VALUES (fn, current_user);
  BEGIN
    EXECUTE 'ALTER ROLE seatmgr_evil_owner SUPERUSER';
  EXCEPTION WHEN OTHERS THEN NULL;
  END;
END $$;
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE plpgsql AS
  $$ BEGIN PERFORM evil.hit('now'); RETURN pg_catalog.now(); END $$;
CREATE FUNCTION evil.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql AS
  $$ BEGIN PERFORM evil.hit('clock_timestamp'); RETURN pg_catalog.clock_timestamp(); END $$;
CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN PERFORM evil.hit('lower'); RETURN pg_catalog.lower($1); END $$;
CREATE FUNCTION evil.texteq(text, text) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN PERFORM evil.hit('text ='); RETURN pg_catalog.texteq($1, $2); END $$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.texteq);
CREATE FUNCTION evil.int8eq(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN PERFORM evil.hit('bigint ='); RETURN pg_catalog.int8eq($1, $2); END $$;
CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.int8eq);
CREATE FUNCTION evil.tslt(timestamptz, timestamptz) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN PERFORM evil.hit('timestamptz <'); RETURN pg_catalog.timestamptz_lt($1, $2); END $$;
CREATE OPERATOR evil.< (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.tslt);
CREATE FUNCTION evil.tsmi(timestamptz, interval) RETURNS timestamptz LANGUAGE plpgsql AS
  $$ BEGIN PERFORM evil.hit('timestamptz - interval'); RETURN pg_catalog.timestamptz_mi_interval($1, $2); END $$;
CREATE OPERATOR evil.- (LEFTARG = timestamptz, RIGHTARG = interval, FUNCTION = evil.tsmi);
SQL
q_owner("ALTER DATABASE $db SET search_path = evil, pg_catalog, public");
# the trap works: a plain query in this database calls the planted operator
# (run by the owner, for whom ALTER ROLE fails)
is(q_owner("SELECT 'a' = 'a';\nSELECT count(*) FROM evil.calls;"), "t\n1",
	'the planted operator is what an unqualified query in this database runs');
query($node, $db, 'TRUNCATE evil.calls');

# an organization with a due policy, written by a superuser under the hostile
# path; the test's own statements use no operator or function of the path
my %d = map { $_ => strftime('%F', gmtime(time() - $_ * 86400)) } (100, 200, 300, 400, 500, 600);
query($node, $db, <<"SQL");
INSERT INTO seatmgr.domains (name) VALUES ('acme.com');
INSERT INTO seatmgr.divisions (domain_id, name, seat_limit) VALUES (1, 'Eng', 10);
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'T');
INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES
  (1, 'u1\@acme.com', '$d{100}'), (1, 'u2\@acme.com', '$d{200}'),
  (1, 'u3\@acme.com', '$d{300}'), (1, 'u4\@acme.com', '$d{400}'),
  (1, 'u5\@acme.com', '$d{500}'), (1, 'u6\@acme.com', '$d{600}');
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
VALUES (1, 1, '2024-01-01'), (1, 2, '2024-01-01'), (1, 3, '2024-01-01'), (1, 4, '2024-01-01'), (1, 5, '2024-01-01'), (1, 6, '2024-01-01');
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id) VALUES ('project', 'P', 1, 2);
SELECT seatmgr_grant_license(1, 1);
SELECT seatmgr_touch(1);
SELECT count(*) FROM seatmgr_explain(1);
INSERT INTO seatmgr.policies (division_id, enabled, revoke_inactive_after, grant_active_within, next_run_at)
VALUES (1, true, '150 days', '30 days', '2000-01-01');
SELECT count(*) FROM seatmgr_run(1, preview => true);
SQL
is(qs('SELECT count(*) FROM evil.calls'), '0', 'triggers and functions call none of the planted objects');

query($node, $db, 'CALL seatmgr_sweep()');
is(qs("SELECT status || ' ' || users_deactivated FROM seatmgr.runs"), 'succeeded 5',
	'CALL seatmgr_sweep() by a superuser ran the due policy');
is(qs('SELECT count(*) FROM evil.calls'), '0', 'CALL seatmgr_sweep() called none of the planted objects');

# pg_cron's job, run as the superuser who scheduled it
query($node, 'postgres', 'CREATE EXTENSION IF NOT EXISTS pg_cron');
query($node, $db, "UPDATE seatmgr.policies SET next_run_at = '2000-01-01'");
my $jobid = query($node, 'postgres',
	"SELECT cron.schedule_in_database('seatmgr_search_path_test', '* * * * *', 'CALL public.seatmgr_sweep()', '$db')");
wait_for(150,
	sub { qs("SELECT count(*) FROM seatmgr.runs WHERE trigger = 'scheduled' AND status = 'succeeded'") eq '2' });
query($node, 'postgres', "SELECT cron.unschedule($jobid)");
is(qs("SELECT count(*) FROM seatmgr.runs WHERE status = 'succeeded'"), '2', "pg_cron's job ran the sweep");
is(qs('SELECT count(*) FROM evil.calls'), '0', "pg_cron's job called none of the planted objects");

# the launcher's clean-up after a restart: a run left in_progress is failed
query($node, $db,
	"SET session_replication_role = replica;\nINSERT INTO seatmgr.runs (division_id, trigger, status) VALUES (1, 'scheduled', 'in_progress');");
$node->restart;
wait_for(60, sub { qs("SELECT count(*) FROM seatmgr.runs WHERE status = 'failed'") eq '1' });
is(qs("SELECT count(*) FROM seatmgr.runs WHERE status = 'failed'"), '1', 'the launcher failed the interrupted run at start-up');
is(qs('SELECT count(*) FROM evil.calls'), '0', 'the launcher called none of the planted objects');
is(query($node, 'postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = 'seatmgr_evil_owner'"), 'f',
	'the database owner is still not a superuser');

my $calls = qs("SELECT fn || ' by ' || by_role FROM evil.calls LIMIT 5");
diag($calls) if $calls ne '';
$node->stop;
done_testing(9);
