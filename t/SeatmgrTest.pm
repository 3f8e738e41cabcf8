# What the Perl TAP tests of seatmgr (t/*.pl) share: each test starts its own
# node (PostgreSQL::Test::Cluster) with pg_cron and seatmgr preloaded, as any
# non-root user, from `make prove_installcheck` or `make installcheck`.
#   use FindBin; use lib $FindBin::RealBin; use SeatmgrTest;
package SeatmgrTest;

use strict;
use warnings;
use Cwd ();
use File::Basename ();
use IPC::Run ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Exporter 'import';

our @EXPORT = qw(seatmgr_node seatmgr_db slow_run_org query query_all fresh_db server_epoch diag_lines note_lines wait_for hook_ports start_receiver received $SRCDIR);

# the checkout: t/'s parent (make runs prove in $(srcdir); TESTDIR is where tmp_check goes)
our $SRCDIR = Cwd::abs_path(File::Basename::dirname(Cwd::abs_path(__FILE__)) . '/..');

# PostgreSQL::Test::Utils clears PGUSER: every node's superuser is postgres,
# whoever runs the test, as on the cluster of scripts/test.sh.
$ENV{PGUSER} = 'postgres';

# seatmgr_node(NAME): a started node with pg_cron and seatmgr preloaded;
# pg_cron reaches it through its socket.  Its PGHOST, PGPORT and PGDATA are
# exported for psql, pgbench and pg_dump, and its installation's bindir
# comes first in PATH.
sub seatmgr_node
{
	my ($name) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(extra => [ '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8' ]);
	my $socket = $node->host;
	# restart_after_crash: the crash tests kill backends and workers with
	# SIGKILL and expect the postmaster to restart them (Cluster.pm turns it off)
	$node->append_conf('postgresql.conf', <<"CONF");
shared_preload_libraries = 'pg_cron,seatmgr'
cron.database_name = 'postgres'
cron.host = '$socket'
max_prepared_transactions = 10
restart_after_crash = on
log_statement = none
CONF
	$node->start;
	$ENV{PGHOST} = $node->host;
	$ENV{PGPORT} = $node->port;
	$ENV{PGDATA} = $node->data_dir;
	# the client programs (psql, pg_dump, pgbench...) of the node's installation
	$ENV{PATH} = $node->config_data('--bindir') . ":$ENV{PATH}";
	return $node;
}

# query(NODE, DB, SQL): the output of SQL (psql -XAtq, stops at the first error; dies on it)
sub query
{
	my ($node, $db, $sql) = @_;
	return $node->safe_psql($db, $sql);
}

# query_all(NODE, DB, SQL, PSQL OPTIONS...): what psql prints, its errors
# included (psql -XAtq, stops at the first error; never dies)
sub query_all
{
	my ($node, $db, $sql, @opts) = @_;
	my ($out, $err) = ('', '');
	$node->psql($db, $sql, stdout => \$out, stderr => \$err, extra_params => \@opts);
	return join "\n", grep { $_ ne '' } $out, $err;
}

# seatmgr_db(NODE, NAME): a new database with seatmgr installed (dies on an error)
sub seatmgr_db
{
	my ($node, $name) = @_;
	query($node, 'postgres', "CREATE DATABASE $name");
	query($node, $name, 'CREATE EXTENSION seatmgr');
	return;
}

# slow_run_org(USERS, SECONDS): SQL of one division of USERS users idle for a
# year, due for a scheduled run that hangs SECONDS in the middle of applying
# its changes (a trigger on license_events), for the crash tests to kill
sub slow_run_org
{
	my ($users, $seconds) = @_;
	return <<"SQL";
INSERT INTO seatmgr.domains (name) VALUES ('acme.com');
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Eng');
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'T');
INSERT INTO seatmgr.users (domain_id, email, last_active_at)
SELECT 1, 'u' || i || '\@acme.com', now() - interval '1 year' FROM generate_series(1, $users) i;
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) SELECT 1, user_id, '2024-01-01' FROM seatmgr.users;
INSERT INTO seatmgr.policies (division_id, enabled, revoke_inactive_after, next_run_at)
VALUES (1, true, '30 days', now() - interval '1 minute');
CREATE FUNCTION public.slow() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN PERFORM pg_sleep($seconds); RETURN NEW; END \$\$;
CREATE TRIGGER slow BEFORE INSERT ON seatmgr.license_events FOR EACH ROW EXECUTE FUNCTION public.slow();
SQL
}

# fresh_db(NODE, NAME): a new empty database (from template0, as a restore wants)
sub fresh_db
{
	my ($node, $name) = @_;
	query($node, 'postgres', "CREATE DATABASE $name TEMPLATE template0");
	return;
}

# server_epoch(NODE): the postmaster's start time and when the statistics
# were reset: a restart changes the first, a crash restart (same postmaster)
# the second, as crash recovery discards the statistics
sub server_epoch
{
	my ($node) = @_;
	return query($node, 'postgres',
		"SELECT pg_postmaster_start_time() || ' / ' || coalesce((SELECT stats_reset FROM pg_stat_bgwriter)::text, '-')");
}

# diag_lines(TEXT...): the non-empty lines of the texts, as one diagnostic
# (shown by prove); note_lines(TEXT...): as a note (shown with prove -v)
sub _lines { return join "\n", grep { $_ ne '' } map { split /\n/ } @_; }
sub diag_lines { my $l = _lines(@_); diag($l) if $l ne ''; return; }
sub note_lines { my $l = _lines(@_); note($l) if $l ne ''; return; }

# wait_for(SECONDS, CODE): calls CODE every second until it returns true;
# true if it did within SECONDS
sub wait_for
{
	my ($secs, $code) = @_;
	my $deadline = time() + $secs;
	while (1)
	{
		my $r = eval { $code->() };
		return 1 if $r;
		return 0 if time() >= $deadline;
		sleep 1;
	}
}

# The webhook receiver (t/webhook/receiver.js), run by node with the
# standardwebhooks package that scripts/common.sh's install_node puts in
# t/webhook/node_modules (npm ci).  Without node or that package the test
# is skipped, saying why (and bails out where SEATMGR_REQUIRE_WEBHOOKS is set).
our $HOOKDIR = "$SRCDIR/t/webhook";

# hook_ports(N): N ports on 127.0.0.1, SEATMGR_HOOK_PORT and the ones after
# it when that is set (scripts/test.sh), free ones otherwise
sub hook_ports
{
	my ($n) = @_;
	my $why;
	$why = 'node is not installed (scripts/common.sh install_node installs it)'
	  unless grep { -x "$_/node" } split /:/, $ENV{PATH};
	$why //= "$HOOKDIR/node_modules lacks standardwebhooks: run `npm ci` in t/webhook (scripts/test.sh does)"
	  unless -d "$HOOKDIR/node_modules/standardwebhooks";
	if (defined $why)
	{
		# scripts/test.sh sets SEATMGR_REQUIRE_WEBHOOKS: there they must run
		BAIL_OUT("$why; SEATMGR_REQUIRE_WEBHOOKS is set") if $ENV{SEATMGR_REQUIRE_WEBHOOKS};
		plan skip_all => $why;
	}
	my $base = $ENV{SEATMGR_HOOK_PORT};
	return map { $base ? $base + $_ : PostgreSQL::Test::Cluster::get_free_port() } 0 .. $n - 1;
}

# start_receiver(PORT, DIR, script => S, out => FILE, env => {...}): node
# t/webhook/S (receiver.js by default) on 127.0.0.1:PORT, logging requests to
# DIR/log and verifying them with the secrets in DIR/secrets, its output in
# FILE (DIR/receiver.out); returns its IPC::Run handle (once receiver.js
# says it listens)
sub start_receiver
{
	my ($port, $dir, %opt) = @_;
	my $script = $opt{script} // 'receiver.js';
	local $ENV{LOG}          = "$dir/log";
	local $ENV{SECRETS_FILE} = "$dir/secrets";
	my %env = %{ $opt{env} // {} };
	local @ENV{ keys %env } = values %env;
	my $out = $opt{out} // "$dir/receiver.out";
	my $h = IPC::Run::start([ 'node', "$HOOKDIR/$script", $port ],
		'<', \undef, '>', $out, '2>&1', init => sub { chdir $HOOKDIR });
	wait_for(20, sub { slurp_file($out) =~ /listening/ })
	  if $script eq 'receiver.js';
	return $h;
}

# received(NODE, DB, DIR): loads the receiver's log (DIR/log) into table
# public.recv(line jsonb) of DB
sub received
{
	my ($node, $db, $dir) = @_;
	query($node, $db, <<"SQL");
SET client_min_messages = warning;
CREATE TABLE IF NOT EXISTS public.recv (line jsonb);
TRUNCATE public.recv;
\\copy public.recv (line) FROM '$dir/log' WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')
SQL
	return;
}

1;
