# R6 and R13 under concurrency, and no deadlocks in normal use (issue 7):
# 16 pgbench clients for LOAD_SECONDS (default 120) mixing team invites
# (single, in bulk, under REPEATABLE READ), leaves, shares and their
# deletion, group joins and leaves, admin grants and removals, touches,
# seat_limit changes and real runs, while CALL seatmgr_sweep() runs every
# 2 s and the invariants are sampled every 3 s.  Every statement goes through
# load.try(), which records its SQLSTATE instead of letting pgbench abort the
# client; the expected refusals are 53400 (division full, on_full = 'error'),
# 55P03 (run in progress), 23505 (duplicates), 23514 (seat_limit below the
# active licenses, a share with oneself), 42704 and 23503 (no such license or
# id), 2BP01 (removal of a group-held license), 55000 (unpaid division) and
# 40001 (REPEATABLE READ).
#   LOAD_SECONDS=20 make prove_installcheck PROVE_TESTS=t/load.pl   (a shorter run)
#   a failed run keeps its node's data directory and its log under tmp_check/
#   (PG_TEST_NOCLEAN=1 keeps them always)
#   LOAD_HOT=N: the hot spot, users 1..N (default 20), that a quarter of the
#   statements aim at; small enough that a removal and a leave of the same
#   user meet (0.1.0 deadlocked there a few times a minute)
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use SeatmgrTest;
use IPC::Run;
use POSIX ();
use PostgreSQL::Test::Utils;
use Test::More;

my $node = seatmgr_node('load');
my $db   = 'seatmgr_load_test';
my $secs = $ENV{LOAD_SECONDS} // 120;
# users 1..U1 are of acme.com, U1+1..U of globex.com; teams 1..T1 and
# divisions 1..D1 of acme.com, the rest of globex.com; users 1..HOT are the
# hot spot a quarter of the statements aim at (t/load/*.sql)
my %v = (U1 => 1500, U => 2000, T1 => 20, T => 28, D1 => 5, D => 7, HOT => $ENV{LOAD_HOT} // 20);
my $invariants = "$SRCDIR/t/invariants.sql";
sub q1 { return query_all($node, $db, @_); }
sub invariants { return query_all($node, $db, slurp_file($invariants), @_); }

seatmgr_db($node, $db);
$node->psql($db, <<'SQL', extra_params => [ map { ('-v', "$_=$v{$_}") } qw(U1 U T1 T) ]) == 0
SET client_min_messages = warning;
SELECT setseed(0.7);
INSERT INTO seatmgr.domains (name) VALUES ('acme.com'), ('globex.com');
INSERT INTO seatmgr.divisions (domain_id, name, product, paid, seat_limit, on_full) VALUES
    (1, 'Engineering', 'tracker', true, 400, 'waitlist'),  -- 1
    (1, 'Sales', 'tracker', true, 150, 'waitlist'),        -- 2
    (1, 'Support', 'desk', true, 100, 'error'),            -- 3
    (1, 'Everyone', 'wiki', true, NULL, 'waitlist'),       -- 4: unlimited
    (1, 'Free', 'tracker', false, NULL, 'waitlist'),       -- 5: unpaid
    (2, 'Main', 'tracker', true, 200, 'waitlist'),         -- 6
    (2, 'Lab', 'wiki', true, NULL, 'waitlist');            -- 7: unlimited
-- acme.com: four teams in each of its divisions; globex.com: Main, Lab and a team without division
INSERT INTO seatmgr.teams (domain_id, division_id, name)
SELECT 1, 1 + (i - 1) % 5, 'acme team ' || i FROM generate_series(1, :T1) i;
INSERT INTO seatmgr.teams (domain_id, division_id, name)
SELECT 2, CASE WHEN i = :T THEN NULL ELSE 6 + i % 2 END, 'globex team ' || i FROM generate_series(:T1 + 1, :T) i;
INSERT INTO seatmgr.users (domain_id, email, is_admin, is_service_account, last_active_at)
SELECT CASE WHEN i <= :U1 THEN 1 ELSE 2 END,
       'user' || i || CASE WHEN i <= :U1 THEN '@acme.com' ELSE '@globex.com' END,
       i % 97 = 0, i % 89 = 0,
       CASE WHEN random() < 0.05 THEN NULL ELSE now() - random() * interval '150 days' END
  FROM generate_series(1, :U) i;
-- every user in one team of the domain, a third in a second one (Support,
-- which refuses when full, gets 80 members apart)
CREATE TEMP TABLE m AS
SELECT CASE WHEN i <= :U1 THEN 1 + (random() * (:T1 - 1))::int ELSE :T1 + 1 + (random() * (:T - :T1 - 1))::int END AS t,
       i AS u, now() - random() * interval '300 days' AS at
  FROM generate_series(1, :U) i, generate_series(1, 2) k
 WHERE k = 1 OR random() < 0.33;
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
SELECT DISTINCT ON (t2, u) t2, u, at
  FROM (SELECT CASE WHEN t <= :T1 AND (t - 1) % 5 = 2 THEN t + 1 ELSE t END AS t2, u, at FROM m) x
    ON CONFLICT DO NOTHING;
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
SELECT 3, i, now() - interval '20 days' FROM generate_series(2, :U1, 18) i LIMIT 80;
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id, shared_at)
SELECT 'project', 'p' || i, s, r, now() - random() * interval '100 days'
  FROM (SELECT i, 1 + (random() * (:U1 - 1))::int AS s, 1 + (random() * (:U1 - 1))::int AS r
          FROM generate_series(1, 400) i) x
 WHERE s <> r;
-- identity-provider groups: acme's grants Engineering, globex's grants Lab
INSERT INTO seatmgr.groups (domain_id, name) VALUES (1, 'acme staff'), (2, 'globex staff');
INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (1, 1), (2, 7);
INSERT INTO seatmgr.group_members (group_id, user_id) SELECT 1, i FROM generate_series(1, :U1, 50) i;
INSERT INTO seatmgr.group_members (group_id, user_id) SELECT 2, i FROM generate_series(:U1 + 1, :U, 25) i;
INSERT INTO seatmgr.exclusions (domain_id, user_id, reason) SELECT 1, i, 'vip' FROM generate_series(7, :U1, 151) i;
-- policies: Engineering, Support, Everyone and Main on a 1 second schedule
-- (the sweep runs them), Sales and Lab run by hand only.  Sales and Main
-- take seats idle for 20 and 30 seconds and give them to users active within
-- 5 and 10 seconds, so that runs keep deactivating, serving the waitlist and
-- granting while the load runs (t/load/touch.sql never touches a third of
-- the users)
INSERT INTO seatmgr.policies (division_id, enabled, run_every, revoke_inactive_after, grant_active_within, grant_scope, next_run_at) VALUES
    (1, true,  '1 second', '60 days',    '3 days',     'domain', now()),
    (2, false, '1 day',    '20 seconds', '5 seconds',  'division', NULL),
    (3, true,  '1 second', '30 days',    '1 day',      'domain', now()),
    (4, true,  '1 second', '90 days',    '1 day',      'domain', now()),
    (6, true,  '1 second', '30 seconds', '10 seconds', 'domain', now()),
    (7, false, '1 day',    '30 days',    NULL,         'domain', NULL);

-- load.try(script, statement): runs the statement in a subtransaction and
-- counts its SQLSTATE (00000 when it succeeded) per client, script and SQLSTATE
CREATE SCHEMA load;
CREATE UNLOGGED TABLE load.outcomes (
    pid      integer,
    script   text,
    sqlstate text,
    n        bigint NOT NULL,
    message  text,
    PRIMARY KEY (pid, script, sqlstate)
);
CREATE FUNCTION load.try(p_script text, p_stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text := '00000';
    msg text;
    detail text;
    rel text;
BEGIN
    BEGIN
        EXECUTE p_stmt;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
        -- which locks a deadlock was made of; what an internal error hit
        IF st = '40P01' OR left(st, 2) IN ('XX', '58') THEN
            FOR rel IN SELECT DISTINCT m[1] FROM regexp_matches(coalesce(detail, ''), 'relation (\d+)', 'g') m LOOP
                detail := replace(detail, 'relation ' || rel || ' ', 'relation ' || rel::oid::regclass::text || ' ');
            END LOOP;
            msg := msg || ': ' || replace(coalesce(detail, ''), E'\n', ' ') || ' [' || left(p_stmt, 150) || ']';
        END IF;
    END;
    INSERT INTO load.outcomes AS o (pid, script, sqlstate, n, message)
    VALUES (pg_backend_pid(), p_script, st, 1, left(msg, 1000))
    ON CONFLICT (pid, script, sqlstate) DO UPDATE SET n = o.n + 1, message = coalesce(excluded.message, o.message);
    RETURN st;
END
$$;
SQL
  or BAIL_OUT("the setup of $db failed");
note('organization: ' . q1(<<'SQL'));
SELECT format('%s users, %s memberships, %s shares; licenses: %s', (SELECT count(*) FROM seatmgr.users),
       (SELECT count(*) FROM seatmgr.team_members), (SELECT count(*) FROM seatmgr.shares),
       (SELECT string_agg(format('division %s %s', division_id, n), ', ' ORDER BY division_id)
          FROM (SELECT division_id, format('%s active/%s waitlisted', count(*) FILTER (WHERE status = 'active'),
                                           count(*) FILTER (WHERE status = 'waitlisted')) AS n
                  FROM seatmgr.licenses GROUP BY 1) x))
SQL
# before the load: the invariants hold after the setup and after a first run
# of each division with a policy, one after the other
my $setup_violations = invariants();
my $first_runs       = q1(<<'SQL');
SELECT string_agg(format('division %s: %s changes', division_id, (SELECT count(*) FROM seatmgr_run(division_id))), ', ' ORDER BY division_id)
FROM seatmgr.policies
SQL
note("first runs: $first_runs");
my $run_violations = invariants();
ok($setup_violations eq '' && $run_violations eq '',
	'the invariants hold after the setup and after a first run of each division, before the load');
diag_lines('invariants violated after the setup:', $setup_violations) if $setup_violations ne '';
diag_lines('invariants violated after the first runs:', $run_violations) if $run_violations ne '';

# a restart shows as a new postmaster start time or, after a crash restart
# (same postmaster), as statistics reset by crash recovery
my $before = server_epoch($node);
my $work   = PostgreSQL::Test::Utils::tempdir;
my $stop   = "$work/stop";
append_to_file("$work/$_", '') for qw(sweep.err sweep.rc samples samples.bad);

# every(SECONDS, CODE): a child process that calls CODE every SECONDS until $stop exists
sub every
{
	my ($secs, $code) = @_;
	my $pid = fork() // die "fork: $!";
	return $pid if $pid;
	until (-e $stop)
	{
		$code->();
		sleep $secs;
	}
	POSIX::_exit(0);    # not the parent's END blocks (they stop the node)
}
# the scheduler: CALL seatmgr_sweep() every 2 s (errors with their SQLSTATE)
my $sweeper = every(
	2,
	sub {
		IPC::Run::run([ 'psql', '-X', '-q', '-v', 'VERBOSITY=verbose', '-d', $db, '-c', 'CALL seatmgr_sweep()' ],
			'<', \undef, '>', '/dev/null', '2>>', "$work/sweep.err");
		append_to_file("$work/sweep.rc", ($? >> 8) . "\n");
	});
# the invariants, sampled every 3 s (runs in progress allowed)
my $monitor = every(
	3,
	sub {
		my $out = '';
		IPC::Run::run(
			[ 'psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-v', 'during_load=true', '-d', $db, '-f', $invariants ],
			'<', \undef, '>&', \$out);
		chomp $out;
		append_to_file("$work/samples.bad", POSIX::strftime('%T', localtime) . ": $out\n") if $out ne '';
		append_to_file("$work/samples", "\n");
	});

my $start = time();
my @scripts = ('invite.sql@10', 'invite_bulk.sql@2', 'invite_rr.sql@2', 'leave.sql@10', 'share.sql@6', 'unshare.sql@5',
	'remove.sql@4', 'grant.sql@4', 'touch.sql@4', 'group.sql@2', 'limit.sql@1', 'run.sql@1');
IPC::Run::run(
	[   'timeout', $secs + 300, 'pgbench', '-n', '-c', '16', '-j', '2', '-T', $secs, '-d', $db,
		(map { ('-D', "$_=$v{$_}") } qw(U1 U T1 T D1 D HOT)),
		(map { ('-f', "$SRCDIR/t/load/$_") } @scripts)
	],
	'<', \undef, '>', "$work/pgbench.out", '2>', "$work/pgbench.err");
my $bench_rc = $? >> 8;
my $elapsed  = time() - $start;
append_to_file($stop, '');
waitpid($_, 0) for $sweeper, $monitor;
my $after = server_epoch($node);

my $pgbench_out = slurp_file("$work/pgbench.out");
my ($txns)   = $pgbench_out =~ /^number of transactions actually processed: ([0-9]*)/m;
my ($failed) = $pgbench_out =~ /^number of failed transactions: ([0-9]*)/m;
my ($tps)    = $pgbench_out =~ /^tps = ([0-9.]*)/m;
note("pgbench: 16 clients, $secs s ($elapsed s elapsed), exit code $bench_rc, "
	  . ($txns // '?') . ' transactions (' . ($tps // '?') . ' tps), ' . ($failed // 0) . ' failed');
ok($bench_rc == 0 && ($txns // 0) > 0 && ($failed // 0) == 0, "pgbench ran $secs s with no client aborted");
if ($bench_rc != 0)
{
	my @err = grep { !/^pgbench: client .* executing/ } split /\n/, slurp_file("$work/pgbench.err");
	diag_lines('pgbench stderr (last lines):', @err[ ($#err > 19 ? $#err - 19 : 0) .. $#err ]);
}

note_lines('statements by script and SQLSTATE (count, a message):', q1(<<'SQL'));
SELECT format('  %-12s %s %8s  %s', script, sqlstate, sum(n), left(max(message), 110)) FROM load.outcomes
GROUP BY script, sqlstate ORDER BY script, sqlstate
SQL
note('errors by SQLSTATE: ' . q1(<<'SQL'));
SELECT string_agg(format('%s %s', sqlstate, n), ', ' ORDER BY sqlstate)
FROM (SELECT sqlstate, sum(n) AS n FROM load.outcomes WHERE sqlstate <> '00000' GROUP BY 1) x
SQL
my $sweep_err = slurp_file("$work/sweep.err");
my $sweeps    = () = slurp_file("$work/sweep.rc") =~ /\n/g;
my %codes;
$codes{$1}++ while $sweep_err =~ /ERROR:  ([0-9A-Z]{5})/g;
note("CALL seatmgr_sweep(): $sweeps calls, errors: " . (join(', ', map { "$_ $codes{$_}" } sort keys %codes) || 'none'));
note('runs: ' . q1(<<'SQL'));
SELECT string_agg(format('%s %s %s', trigger, status, n), ', ' ORDER BY trigger, status)
FROM (SELECT trigger, status, count(*) AS n FROM seatmgr.runs GROUP BY 1, 2) x
SQL
my $failed_runs = q1(<<'SQL');
SELECT format('  %s x %s', count(*), left(error, 150)) FROM seatmgr.runs WHERE status = 'failed' GROUP BY error ORDER BY count(*) DESC
SQL
diag_lines('failed runs by error:', $failed_runs) if $failed_runs ne '';

my $deadlocks = q1(<<'SQL');
SELECT (SELECT coalesce(sum(n), 0) FROM load.outcomes WHERE sqlstate = '40P01')
     + (SELECT count(*) FROM seatmgr.runs WHERE error ILIKE '%deadlock%')
SQL
# (a number, or psql's error, which fails the test)
$deadlocks += $codes{'40P01'} // 0 if $deadlocks =~ /^[0-9]+$/;
is($deadlocks, '0', "no deadlock (40P01) in any statement, sweep or run ($deadlocks)");
if ($deadlocks ne '0')
{
	diag_lines(
		'deadlocks by script (lock waits from the DETAIL; the statement of the client that got the error in brackets):',
		q1("SELECT format('  %s: %s (%s)', script, sum(n), max(message)) FROM load.outcomes WHERE sqlstate = '40P01' GROUP BY script ORDER BY 1"));
	diag_lines('deadlocks in runs and sweeps:',
		q1("SELECT '  run ' || run_id || ': ' || left(error, 300) FROM seatmgr.runs WHERE error ILIKE '%deadlock%'"),
		grep { /ERROR:  40P01/ } split /\n/, $sweep_err);
}

my %internal_sweeps;
$internal_sweeps{$_}++ for grep { /ERROR:  (XX|58)/ } split /\n/, $sweep_err;
my $internal = q1(<<'SQL') . join('', map { "$internal_sweeps{$_} $_\n" } sort keys %internal_sweeps);
SELECT format('  %s %s x %s: %s', script, sqlstate, sum(n), max(message)) FROM load.outcomes
WHERE left(sqlstate, 2) IN ('XX', '58') GROUP BY script, sqlstate ORDER BY 1
SQL
ok($internal eq '', 'no internal error (SQLSTATE class XX or 58)');
diag_lines('internal errors:', $internal) if $internal ne '';

my $lost = (slurp_file("$work/pgbench.err") . $sweep_err) =~ /terminated abnormally|server closed the connection/;
ok($after eq $before && !$lost,
	'the server never restarted (postmaster start and statistics unchanged, no connection lost)');
diag("postmaster start / stats reset before: $before\nafter: $after") if $after ne $before;

my $samples = () = slurp_file("$work/samples") =~ /\n/g;
my $bad     = slurp_file("$work/samples.bad");
ok($samples > 0 && $bad eq '', "the invariants held in each of the $samples samples taken during the load");
if ($bad ne '')
{
	my @bad = split /\n/, $bad;
	diag_lines('samples with violations (' . scalar(@bad) . " of $samples; the first 20):", @bad[ 0 .. ($#bad < 19 ? $#bad : 19) ]);
}

my $violations = invariants();
ok($violations eq '', 'the invariants hold at the end (t/invariants.sql)');
diag_lines('invariants violated (invariant|violations|examples):', $violations) if $violations ne '';

# the load did what it says: every script ran and succeeded at least once,
# seat limits changed, runs and sweeps did real work
my $missing = q1(<<'SQL');
SELECT string_agg(s, ', ') FROM unnest(ARRAY['invite', 'invite_bulk', 'invite_rr', 'leave', 'share', 'unshare', 'remove', 'grant', 'touch', 'touch_many', 'group_join', 'group_leave', 'limit', 'run']) s
WHERE NOT EXISTS (SELECT 1 FROM load.outcomes o WHERE o.script = s AND o.sqlstate = '00000')
SQL
ok($missing eq '', 'every kind of statement succeeded at least once' . ($missing ne '' ? " (never: $missing)" : ''));
is( q1(<<'SQL'), 't|t',
SELECT (SELECT count(*) >= 2 FROM seatmgr.runs WHERE status = 'succeeded' AND trigger = 'scheduled'),
       (SELECT count(*) >= 2 FROM seatmgr.runs WHERE status = 'succeeded' AND trigger = 'manual')
SQL
	'scheduled and manual runs succeeded during the load');
cmp_ok(q1("SELECT count(*) FROM seatmgr.license_events WHERE event IN ('deactivated', 'waitlisted')"),
	'>', 0, 'runs deactivated licenses and full divisions waitlisted new ones');
note('license events: ' . q1(<<'SQL'));
SELECT string_agg(format('%s %s', event, n), ', ' ORDER BY event) FROM (SELECT event, count(*) AS n FROM seatmgr.license_events GROUP BY 1) x
SQL
note('seats now: ' . q1(<<'SQL'));
SELECT string_agg(format('division %s: %s active/%s, %s waitlisted', division_id, active, coalesce(seat_limit::text, '-'), waitlisted), '; ' ORDER BY division_id)
FROM seatmgr.division_seats
SQL

$node->stop;
done_testing(10);
