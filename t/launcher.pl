# The launcher (src/worker.c) and the setting seatmgr.database_names:
# which databases it visits at start-up, what its log lines say, that it
# keeps no session in any database, and that every seatmgr setting is the
# one README.md documents (its "Settings" table is parsed, so it cannot
# drift).  Its own node (t/SeatmgrTest.pm: pg_cron and seatmgr preloaded).
#
#   make prove_installcheck PROVE_TESTS=t/launcher.pl
use strict;
use warnings;

use File::Basename qw(dirname);
use FindBin;
use lib $FindBin::RealBin;
use SeatmgrTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = seatmgr_node('launcher');

# ---------------------------------------------------------------------
# Every setting documented, as documented: README.md's "Settings" table
# ---------------------------------------------------------------------

my $readme = slurp_file(dirname(__FILE__) . '/../README.md');
my ($section) = $readme =~ /^## Settings\n(.*?)^## /ms;
ok(defined $section, 'README.md has a "Settings" section');
my %documented;
for my $row (($section // '') =~ /^\|[^\n]*\|$/mg)
{
	my @cells = map { s/^\s+|\s+$//gr } split /\|/, $row;
	shift @cells;    # before the first |
	next unless $cells[0] =~ /^`(seatmgr\.\w+)`$/;
	my $name = $1;
	my ($default) = $cells[1] =~ /^`(.*)`$/;
	$default = '' if defined $default && $default eq "''";
	my ($context) = $cells[2] =~ /^`(\w+)`$/;
	$documented{$name} = ($default // '?') . '|' . ($context // '?');
}
my %actual = map { my ($n, $d, $c) = split /\|/; ($n => "$d|$c") }
  split /\n/,
  $node->safe_psql('postgres',
	"SELECT name || '|' || current_setting(name) || '|' || context FROM pg_settings WHERE name LIKE 'seatmgr.%' ORDER BY name"
  );
ok(scalar(keys %actual) >= 6, 'seatmgr defines its settings (' . join(', ', sort keys %actual) . ')');
is_deeply(\%documented, \%actual,
	'README.md\'s settings table lists every seatmgr setting of pg_settings, with its default and context, and nothing else');
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_settings WHERE name LIKE 'seatmgr.%' AND name NOT IN ('"
		  . join("', '", sort keys %documented) . "')"),
	'0',
	'no undocumented seatmgr setting');
# MarkGUCPrefixReserved("seatmgr"): an unknown seatmgr.* name is refused
my ($ret, $out, $err) = $node->psql('postgres', 'SET seatmgr.no_such_setting = 1');
like($err, qr/invalid configuration parameter name "seatmgr.no_such_setting"/,
	'the prefix seatmgr is reserved: an unknown seatmgr.* setting is refused');

# ---------------------------------------------------------------------
# Three databases: seat_a and seat_b with seatmgr, plain_c without
# ---------------------------------------------------------------------

for my $db (qw(seat_a seat_b))
{
	seatmgr_db($node, $db);
	query($node, $db, slow_run_org(20, 300));
}
query($node, 'postgres', 'CREATE DATABASE plain_c');

# A scheduled run of $db is killed (SIGKILL) in the middle: the postmaster
# restarts every process, the launcher too.  Returns the log offset before.
sub crash_mid_run
{
	my ($db) = @_;
	my ($o, $e) = ('', '');
	my $h = IPC::Run::start(
		[ 'psql', '-X', '-d', $node->connstr($db), '-c', 'CALL seatmgr_sweep()' ],
		'>', \$o, '2>', \$e);
	$node->poll_query_until($db, "SELECT EXISTS (SELECT 1 FROM seatmgr.runs WHERE status = 'in_progress')")
	  or die "no run in progress in $db";
	my $pid = $node->safe_psql($db,
		"SELECT pid FROM pg_stat_activity WHERE query LIKE 'CALL seatmgr_sweep()%' AND pid <> pg_backend_pid()");
	my $offset = -s $node->logfile;
	kill 'KILL', $pid;
	$h->finish;
	$node->poll_query_until('postgres', 'SELECT true') or die 'the server did not come back';
	return $offset;
}

sub log_since
{
	my ($offset) = @_;
	return substr(slurp_file($node->logfile), $offset);
}

sub count_of
{
	my ($text, $re) = @_;
	my @m = $text =~ /$re/g;
	return scalar @m;
}

sub run_status
{
	my ($db) = @_;
	return $node->safe_psql($db, 'SELECT string_agg(status, \',\' ORDER BY run_id) FROM seatmgr.runs');
}

# No seatmgr process stays connected to a database once start-up is done:
# the launcher has no database, the clean-up workers have left.
sub no_session_left
{
	my ($when) = @_;
	ok( $node->poll_query_until('postgres',
			"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'seatmgr cleanup'"),
		"$when: no seatmgr cleanup worker is left");
	is( $node->safe_psql('postgres',
			"SELECT count(*) FILTER (WHERE datid IS NULL) || '/' || count(*) FROM pg_stat_activity WHERE backend_type = 'seatmgr launcher'"),
		'1/1',
		"$when: the seatmgr launcher runs, connected to no database (datid NULL)");
	is( $node->safe_psql('postgres',
			"SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'seatmgr%' AND datid IS NOT NULL"),
		'0',
		"$when: no seatmgr process holds a session in any database");
}

# ---------------------------------------------------------------------
# The default (seatmgr.database_names empty): every database where
# seatmgr is installed
# ---------------------------------------------------------------------

my $offset = crash_mid_run('seat_a');
ok( $node->wait_for_log(qr/seatmgr: database "seat_a": 1 interrupted run marked failed/, $offset),
	'default: the clean-up of seat_a logs the interrupted run it marked failed');
is(run_status('seat_a'), 'failed', 'default: the run the crash interrupted in seat_a is failed');
like($node->safe_psql('seat_a', 'SELECT error FROM seatmgr.runs'), qr/^run interrupted/, 'default: its error says why');
$node->wait_for_log(qr/seatmgr: database "seat_b": /, $offset);
no_session_left('default');
my $log = log_since($offset);
is(count_of($log, qr/LOG:  seatmgr launcher started: visiting every database where seatmgr is installed$/m),
	1, 'default: one start-up line says the launcher visits every database where seatmgr is installed');
is(count_of($log, qr/seatmgr: database "seat_a": /), 1, 'default: one line for seat_a');
is(count_of($log, qr/LOG:  seatmgr: database "seat_b": nothing to clean up$/m),
	1, 'default: seat_b, which the crash did not touch, has its line: nothing to clean up');
is(count_of($log, qr/database "(plain_c|postgres|template0|template1)"/),
	0, 'default: databases without seatmgr, and templates, are not reported');
is(count_of($log, qr/seatmgr: database /), 2, 'default: one line per database where seatmgr is installed, no more');

# ---------------------------------------------------------------------
# seatmgr.database_names names the databases: only those are visited
# ---------------------------------------------------------------------

($ret, $out, $err) = $node->psql('postgres', q{ALTER SYSTEM SET seatmgr.database_names = '"seat_a'});
like($err, qr/invalid value for parameter "seatmgr.database_names"/, 'a list that does not parse is refused');

$node->safe_psql('postgres',
	q{ALTER SYSTEM SET seatmgr.database_names = 'seat_a, plain_c, template0, no_such_db'});
$offset = -s $node->logfile;
$node->restart;
$node->wait_for_log(qr/seatmgr: database "plain_c": /, $offset);
$log = log_since($offset);
like($log, qr/LOG:  seatmgr launcher shutting down$/m, 'a clean shutdown logs that the launcher stops');
like($log,
	qr/LOG:  seatmgr launcher started: visiting the databases of seatmgr.database_names: seat_a, plain_c, template0, no_such_db$/m,
	'named: the start-up line names the databases of seatmgr.database_names');
like($log,
	qr/WARNING:  seatmgr launcher: database "no_such_db" of seatmgr.database_names does not exist; skipped$/m,
	'named: a name that is no database gets a WARNING naming it');
like($log,
	qr/LOG:  seatmgr launcher: database "template0" of seatmgr.database_names is a template or does not allow connections; skipped$/m,
	'named: a template is skipped, with a line');
like($log, qr/LOG:  seatmgr: database "plain_c": seatmgr is not installed$/m,
	'named: a named database without seatmgr is reported');
like($log, qr/LOG:  seatmgr: database "seat_a": nothing to clean up$/m, 'named: seat_a is visited');
is(count_of($log, qr/database "seat_b"/), 0, 'named: seat_b, not named, is not visited');

$offset = crash_mid_run('seat_b');
ok($node->wait_for_log(qr/seatmgr: database "plain_c": /, $offset), 'named: the launcher visited its databases after the crash');
$log = log_since($offset);
like($log, qr/LOG:  seatmgr launcher started: visiting the databases of seatmgr.database_names: seat_a, plain_c, template0, no_such_db$/m,
	'named: after the crash too, the start-up line names them');
is(count_of($log, qr/database "seat_b"/), 0, 'named: no line for seat_b');
is(run_status('seat_b'), 'in_progress', 'named: the run the crash interrupted in seat_b stays in_progress (seat_b is not visited)');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'named: the server keeps running with an unknown name in the setting');
no_session_left('named');

# ---------------------------------------------------------------------
# Pending deliveries: the clean-up asks for a delivery worker
# ---------------------------------------------------------------------

# seat_b is not served: deliveries wait there, no worker sends them
$node->safe_psql('seat_b', q{
DROP TRIGGER slow ON seatmgr.license_events;
INSERT INTO seatmgr.webhooks (url) VALUES ('http://127.0.0.1:9/refused');
INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'new@acme.com');
INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 1, user_id FROM seatmgr.users WHERE email = 'new@acme.com';
});
ok($node->safe_psql('seat_b', "SELECT count(*) FROM seatmgr.deliveries WHERE status = 'pending'") > 0,
	'named: a change in seat_b, not served, leaves its delivery pending');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'seatmgr delivery'"),
	'0', 'named: no delivery worker serves seat_b');

$node->safe_psql('postgres', 'ALTER SYSTEM RESET seatmgr.database_names');
$offset = -s $node->logfile;
$node->restart;
ok( $node->wait_for_log(
		qr/LOG:  seatmgr: database "seat_b": 1 interrupted run marked failed; deliveries pending: \d+, delivery worker requested$/m,
		$offset),
	'default again: seat_b is visited, its interrupted run failed and its pending deliveries reported, in one line');
is(run_status('seat_b'), 'failed', 'default again: the run the crash interrupted in seat_b is failed');
ok( $node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'seatmgr delivery' AND datname = 'seat_b'"),
	'default again: the delivery worker the clean-up asked for serves seat_b');
is(count_of(log_since($offset), qr/seatmgr: database "seat_b"/), 1, 'default again: one line for seat_b');

$node->stop;
done_testing();
