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
query($node, 'postgres', "CREATE DATABASE $db");
query($node, $db, 'CREATE EXTENSION seatmgr');
query($node, $db, <<'SQL');
INSERT INTO seatmgr.domains (name) VALUES ('acme.com');
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Eng');
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'T');
INSERT INTO seatmgr.users (domain_id, email, last_active_at)
SELECT 1, 'u' || i || '@acme.com', now() - interval '1 year' FROM generate_series(1, 50) i;
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) SELECT 1, user_id, '2024-01-01' FROM seatmgr.users;
INSERT INTO seatmgr.policies (division_id, enabled, revoke_inactive_after, next_run_at)
VALUES (1, true, '30 days', now() - interval '1 minute');
-- the run hangs in the middle of applying its changes
CREATE FUNCTION public.slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(120); RETURN NEW; END $$;
CREATE TRIGGER slow BEFORE INSERT ON seatmgr.license_events FOR EACH ROW EXECUTE FUNCTION public.slow();
SQL
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
