# Issue 8, predictable runs: the plans of the sweep must not depend on
# statistics the runs themselves (or a bulk load) made stale.  On 50,000
# users with autovacuum off for seatmgr's tables and no ANALYZE after the
# load, five runs (each after new activity), a run after a bulk load of
# 20,000 invites, and a preview are executed with auto_explain logging
# every statement seatmgr runs, with its actual row counts.  A nested loop
# over rows a statement did not expect shows up as a scan executed again and
# again over many rows, or as a join filter that throws millions of rows
# away (0.1.0's runs took minutes that way); neither may appear.  No timing
# is asserted (the bench measures time, docs/benchmarks.md).  The same
# holds for the first bulk invite of a database VACUUM found empty.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use SeatmgrTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = seatmgr_node('plans');
my $db   = 'seatmgr_plans_test';
my $tmp  = PostgreSQL::Test::Utils::tempdir;
seatmgr_db($node, $db);
query($node, $db, <<'SQL');
DO $$
DECLARE t text;
BEGIN
  FOR t IN SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'seatmgr'::regnamespace AND c.relkind = 'r' LOOP
    EXECUTE format('ALTER TABLE seatmgr.%I SET (autovacuum_enabled = false)', t);
  END LOOP;
END $$;
INSERT INTO seatmgr.domains (name) VALUES ('big.example');
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Everyone');
INSERT INTO seatmgr.divisions (domain_id, name, seat_limit) VALUES (1, 'Pro', 30000);
INSERT INTO seatmgr.teams (domain_id, division_id, name)
SELECT 1, 1 + (i % 2), 'team ' || i FROM generate_series(1, 500) i;
-- activity: 60% this week, 20% within 60 days, 15% older, 5% never
INSERT INTO seatmgr.users (domain_id, email, last_active_at)
SELECT 1, 'u' || i || '@big.example',
       CASE WHEN i % 20 < 12 THEN now() - (i % 7) * interval '1 day'
            WHEN i % 20 < 16 THEN now() - (7 + i % 53) * interval '1 day'
            WHEN i % 20 < 19 THEN now() - (100 + i % 300) * interval '1 day' END
  FROM generate_series(1, 50000) i;
-- 42,500 licensed through teams, in one INSERT (the bulk path)
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
SELECT 1 + user_id % 500, user_id, now() - interval '400 days' FROM seatmgr.users WHERE user_id % 20 <> 3 AND user_id % 20 <> 7 AND user_id % 20 <> 11;
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after, grant_active_within)
VALUES (1, '90 days', '30 days'), (2, '90 days', '30 days');
SQL
cmp_ok(query($node, $db, 'SELECT count(*) FROM seatmgr.licenses'), '>', 40000,
	'50,000 users, more than 40,000 licences, never analyzed');

# explained(SQL...): runs the statements with every nested statement's plan
# logged to the client, in $explain_db
my $explain_db = $db;
sub explained
{
	my @c = map { ('-c', $_) } "LOAD 'auto_explain'", 'SET auto_explain.log_min_duration = 0',
	  'SET auto_explain.log_analyze = on', 'SET auto_explain.log_nested_statements = on',
	  'SET auto_explain.log_timing = off', 'SET client_min_messages = log', @_;
	IPC::Run::run([ 'psql', '-X', '-q', '-d', $node->connstr($explain_db), '-v', 'ON_ERROR_STOP=1', @c ],
		'<', \undef, '>', '/dev/null', '2>>', "$tmp/plans");
	return;
}
for my $i (1 .. 5)
{
	explained('SELECT count(*) FROM seatmgr_run(1)', 'SELECT count(*) FROM seatmgr_run(2)');
	# new activity, so that the next run has work
	$node->psql($db,
		"SELECT seatmgr_touch(array_agg(user_id), now() - interval '200 days') FROM seatmgr.users WHERE last_active_at IS NULL AND user_id % 5 = "
		  . ($i - 1));
	query($node, $db, "UPDATE seatmgr.users SET last_active_at = now() - interval '120 days' WHERE user_id % 97 = $i");
}
is(query($node, $db, "SELECT count(*) FROM seatmgr.runs WHERE status = 'succeeded'"), '10', 'ten runs succeeded');
# a bulk load of 20,000 invites, then a run and a preview
query($node, $db,
	"INSERT INTO seatmgr.users (domain_id, email, last_active_at) SELECT 1, 'n' || i || '\@big.example', now() FROM generate_series(1, 20000) i;\n"
	  . "INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 1 + user_id % 500, user_id FROM seatmgr.users WHERE email LIKE 'n%';");
explained('SELECT count(*) FROM seatmgr_run(1)', 'SELECT count(*) FROM seatmgr_run(2, preview => true)');
# The first bulk invite of a database whose tables VACUUM found empty (a
# fresh install, users loaded, VACUUM ANALYZE): the planner believes the
# licences empty, every estimate after the transition table is 1 row; the
# statement that grants must still read each CTE once (a nested loop of its
# CTEs took 8 s on 10,000 invites)
my $empty = 'seatmgr_plans_empty';
seatmgr_db($node, $empty);
query($node, $empty, <<'SQL');
INSERT INTO seatmgr.domains (name) VALUES ('new.example');
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Everyone');
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'All');
INSERT INTO seatmgr.users (domain_id, email) SELECT 1, 'u' || i || '@new.example' FROM generate_series(1, 5000) i;
VACUUM ANALYZE;
SQL
$explain_db = $empty;
explained('INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 1, user_id FROM seatmgr.users');
is(query($node, $empty, "SELECT count(*) FROM seatmgr.licenses WHERE status = 'active'"), '5000',
	'the first bulk invite after VACUUM ANALYZE of empty tables granted 5,000 licences');
my @plans = split /\n/, slurp_file("$tmp/plans");
my $plans = grep { /Query Text/ } @plans;
cmp_ok($plans, '>=', 24, "auto_explain logged the plans of the runs' statements ($plans)");
# the inner side of an n x m loop: a scan executed 100 times or more that
# reads 100 rows or more each time (returned, or removed by its filter)
my @rescans;
my $pending = '';
for my $line (@plans)
{
	if ($line =~ /(Seq Scan|CTE Scan|Function Scan|Subquery Scan|Materialize).*loops=[0-9][0-9][0-9]+/)
	{
		my ($rows) = $line =~ /.*actual rows=([0-9.]+)/;
		if (($rows // 0) >= 100)
		{
			push @rescans, $line;
		}
		else
		{
			$pending = $line;
			next;
		}
	}
	if ($pending ne '')
	{
		push @rescans, "$pending / $line" if $line =~ /Rows Removed by Filter: [0-9][0-9][0-9]+/;
		$pending = '';
	}
}
ok(!@rescans, 'no scan is repeated 100 times or more over 100 rows or more (no n x m loop)');
diag(join "\n", @rescans[ 0 .. ($#rescans < 4 ? $#rescans : 4) ]) if @rescans;
my @joins = grep { /Rows Removed by Join Filter: [0-9]{6,}/ } @plans;
ok(!@joins, 'no join filters out 100,000 rows or more');
diag(join "\n", @joins[ 0 .. ($#joins < 4 ? $#joins : 4) ]) if @joins;

$node->stop;
done_testing(6);
