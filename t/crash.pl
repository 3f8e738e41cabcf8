# R12 after a crash: a backend killed (SIGKILL) in the middle of a scheduled
# run leaves no partial changes, and after the restart the run is 'failed'.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use SeatmgrTest;
use IPC::Run;
use Test::More;

my $node = seatmgr_node('crash');
my $db   = 'seatmgr_crash_test';
seatmgr_db($node, $db);
query($node, $db, slow_run_org(50, 120));
my $licenses = "SELECT string_agg(user_id || status, ',' ORDER BY user_id) FROM seatmgr.licenses";
my $before   = query($node, $db, $licenses);

# the sweep, in a session of its own that the kill ends
my ($out, $err) = ('', '');
my $sweep = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr($db), '-c', 'CALL seatmgr_sweep()' ],
	'<', \undef, '>', \$out, '2>', \$err);
ok(wait_for(30, sub { query($node, $db, 'SELECT status FROM seatmgr.runs') eq 'in_progress' }),
	'the scheduled run shows in_progress to other sessions while it runs');
my $pid = query($node, $db,
	"SELECT pid FROM pg_stat_activity WHERE query LIKE 'CALL seatmgr_sweep()%' AND pid <> pg_backend_pid()");
is(query($node, $db, "SELECT concat_ws(' ', datname, trigger, preview, phase, changes_total, changes_done) FROM seatmgr.progress WHERE pid = $pid"),
	"$db scheduled f applying changes 50 0",
	"seatmgr.progress shows it applying its first chunk: 0 of 50 changes done ($pid)");
kill 'KILL', $pid;
$sweep->finish;

# the postmaster restarts every backend; wait for it to accept connections again
wait_for(60, sub { query($node, $db, 'SELECT 1') eq '1' });
# the launcher worker marks the interrupted run failed at start-up
wait_for(30, sub { query($node, $db, 'SELECT status FROM seatmgr.runs') eq 'failed' });
is(query($node, $db, 'SELECT status FROM seatmgr.runs'), 'failed', 'after the restart the run is failed (launcher at start-up)');
like(query($node, $db, 'SELECT error FROM seatmgr.runs'), qr/^run interrupted/, 'its error says why');
is(query($node, $db, $licenses), $before, 'no licence changed');
is( query($node, $db,
		'SELECT (SELECT count(*) FROM seatmgr.run_changes) + (SELECT count(*) FROM seatmgr.license_events WHERE run_id IS NOT NULL)'),
	'0',
	'no run_changes and no license_events of the interrupted run');

$node->stop;
done_testing(6);
