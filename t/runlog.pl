# Run logs (issue 12): every real run, manual, scheduled or undo, writes a
# line to the server log when it starts and one when it ends, at the level
# of seatmgr.log_run_summary (default log), naming the run, the division,
# its domain and the database, never a user; a preview writes none; a
# failed run says so with its error.  Reads the node's server log.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use SeatmgrTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = seatmgr_node('runlog');
my $db   = 'seatmgr_runlog_test';
seatmgr_db($node, $db);
query($node, $db, <<'SQL');
INSERT INTO seatmgr.domains (name) VALUES ('acme.com');
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Eng');
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'T');
INSERT INTO seatmgr.users (domain_id, email, last_active_at, is_admin) VALUES
  (1, 'idle@acme.com', now() - interval '1 year', false), (1, 'boss@acme.com', now() - interval '1 year', true);
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (1, 1, '2024-01-01'), (1, 2, '2024-01-01');
UPDATE seatmgr.licenses SET granted_at = '2024-01-01';
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after) VALUES (1, '30 days');
SQL

sub mark { return -s $node->logfile; }
# the seatmgr run lines the server logged since mark $_[0]
sub since
{
	return join '', grep { /seatmgr: run / } split /^/m, slurp_file($node->logfile, $_[0]);
}
# runs SQL, ignoring its errors; its stdout and stderr
sub run_sql
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	$node->psql($db, $sql, stdout => \$out, stderr => \$err);
	return "$out\n$err";
}
my $run1 = qq{seatmgr: run 1 of division 1 ("Eng", domain acme.com) in database "$db"};

my $m = mark();
query($node, $db, 'SELECT count(*) FROM seatmgr_run(1, preview => true)');
is(since($m), '', 'a preview logs nothing');

$m = mark();
run_sql('SELECT count(*) FROM seatmgr_run(1)');
my $lines = since($m);
like($lines, qr/\QLOG:  $run1 started (manual)\E/, 'a manual run logs its start, with its division, domain and database');
like(join('', grep { /succeeded/ } split /^/m, $lines),
	qr/\QLOG:  $run1 succeeded in \E[0-9]+ ms: 1 deactivated, 0 added, 0 warned, 1 skipped$/,
	'... and its summary: duration and counts by action');
ok(scalar(() = $lines =~ /\n/g) == 2 && $lines !~ /@/, 'two lines a run, and no e-mail in them');

$m = mark();
run_sql('SELECT count(*) FROM seatmgr_undo_run(1)');
$lines = since($m);
ok( $lines =~ /\QLOG:  seatmgr: run 2 of division 1 ("Eng", domain acme.com) in database "$db" started (undo of run 1)\E/
	  && $lines =~ /run 2 .* succeeded in [0-9]+ ms: 0 deactivated, 1 added, 0 warned, 0 skipped/,
	'an undo logs its start (naming the run it undoes) and its summary');

$m = mark();
run_sql("UPDATE seatmgr.policies SET enabled = true, next_run_at = now() - interval '1 minute';\nCALL seatmgr_sweep();");
$lines = since($m);
# the undo restarted idle's clock (R16): only the admin is reported
ok( $lines =~ /\Qseatmgr: run 3 of division 1 ("Eng", domain acme.com) in database "$db" started (scheduled)\E/
	  && $lines =~ /run 3 .* succeeded in [0-9]+ ms: 0 deactivated, 0 added, 0 warned, 1 skipped/,
	'a scheduled run logs its start and its summary');

# seatmgr.log_run_summary: off writes nothing; notice shows the lines to the client too
$m = mark();
{
	local $ENV{PGOPTIONS} = '-c seatmgr.log_run_summary=off';
	run_sql('SELECT count(*) FROM seatmgr_run(1)');
}
is(since($m), '', 'seatmgr.log_run_summary = off: a run logs nothing');
my $out;
{
	local $ENV{PGOPTIONS} = '-c seatmgr.log_run_summary=notice';
	$out = run_sql('SELECT count(*) FROM seatmgr_run(1)');
}
like($out, qr/\QNOTICE:  seatmgr: run 5 of division 1 ("Eng", domain acme.com) in database "$db" started (manual)\E/,
	'seatmgr.log_run_summary = notice: the client sees the lines too');
like($out, qr/\QNOTICE:  run 5 of division 1 ("Eng", domain acme.com) succeeded: 0 deactivated, 0 added, 0 warned, 1 skipped\E/,
	'a manual run ends with a NOTICE of its counts');
is(query($node, 'postgres', "SELECT context FROM pg_settings WHERE name = 'seatmgr.log_run_summary'"),
	'superuser', 'only a superuser changes seatmgr.log_run_summary');

# a run that fails: another session holds the division as a run would
sub hold
{
	my $h = IPC::Run::start(
		[   'psql', '-X', '-q', '-d', $node->connstr($db),
			'-c', 'BEGIN',
			'-c', 'SELECT 1 FROM seatmgr.divisions WHERE division_id = 1 FOR NO KEY UPDATE',
			'-c', 'SELECT pg_sleep(3)', '-c', 'COMMIT'
		],
		'<', \undef, '>', '/dev/null', '2>', '/dev/null');
	sleep 1;
	return $h;
}
my $h = hold();
$m = mark();
{
	local $ENV{PGOPTIONS} = '-c lock_timeout=200';
	run_sql('SELECT count(*) FROM seatmgr_run(1)');
}
$lines = since($m);
$h->finish;
like($lines,
	qr/\QLOG:  seatmgr: run 6 of division 1 ("Eng", domain acme.com) in database "$db" failed in \E[0-9]+ ms: canceling statement due to lock timeout/,
	'a manual run that fails logs the error');
$h = hold();
$m = mark();
{
	local $ENV{PGOPTIONS} = '-c lock_timeout=200';
	run_sql("UPDATE seatmgr.policies SET next_run_at = now() - interval '1 minute';\nCALL seatmgr_sweep();");
}
$lines = since($m);
$h->finish;
like($lines,
	qr/\QWARNING:  seatmgr: run 7 of division 1 ("Eng", domain acme.com) in database "$db" failed in \E[0-9]+ ms: canceling statement due to lock timeout/,
	'a scheduled run that fails: a warning with the error (R12)');

$node->stop;
done_testing(12);
