# R11 with a real pg_cron: the job seatmgr_schedule() creates runs
# seatmgr_sweep(), and a 'scheduled' run appears.  pg_cron 1.4's finest
# schedule is one minute, so this test waits up to two and a half.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use SeatmgrTest;
use Test::More;

my $node = seatmgr_node('cron');
my $db   = 'seatmgr_cron_test';
query($node, 'postgres', "CREATE DATABASE $db");
query($node, 'postgres', 'CREATE EXTENSION IF NOT EXISTS pg_cron');
query($node, $db, 'CREATE EXTENSION seatmgr');
query($node, $db, <<'SQL');
INSERT INTO seatmgr.domains (name) VALUES ('acme.com');
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Eng');
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'T');
INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES (1, 'idle@acme.com', now() - interval '1 year');
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (1, 1, '2024-01-01');
INSERT INTO seatmgr.policies (division_id, enabled, revoke_inactive_after, next_run_at)
VALUES (1, true, '30 days', now() - interval '1 minute');
SQL

# where pg_cron is not installed, the error's hint is the call to run in the cron database
my ($out, $err);
$node->psql($db, "SELECT seatmgr_schedule('* * * * *')", stdout => \$out, stderr => \$err);
my ($hint) = $err =~ /^HINT:  .*run: (.*)$/m;
like($err, qr/ERROR:  pg_cron is not installed in database "\Q$db\E"/,
	'seatmgr_schedule() without pg_cron in this database: a clear error');
is($hint,
	"SELECT cron.schedule_in_database('seatmgr_sweep:$db', '* * * * *', 'CALL public.seatmgr_sweep()', '$db');",
	'its hint is the exact cron.schedule_in_database call');
my $jobid = query($node, 'postgres', $hint // 'SELECT NULL');
like($jobid, qr/^[0-9]+$/, "running the hint in the cron database schedules the job ($jobid)");

my $scheduled = "SELECT status FROM seatmgr.runs WHERE trigger = 'scheduled'";
wait_for(150, sub { query($node, $db, $scheduled) eq 'succeeded' });
is(query($node, $db, $scheduled), 'succeeded', 'pg_cron ran CALL seatmgr_sweep(): a scheduled run appears (R11)');
is(query($node, $db, 'SELECT status FROM seatmgr.licenses WHERE user_id = 1'),
	'deactivated', 'the scheduled run did its work (R7)');
cmp_ok(query($node, 'postgres',
		"SELECT count(*) FROM cron.job_run_details WHERE jobid = $jobid AND status = 'succeeded'"),
	'>=', 1, 'cron.job_run_details records the job as succeeded');
query($node, 'postgres', "SELECT cron.unschedule($jobid)");

# in the cron database itself, seatmgr_schedule() and seatmgr_unschedule() manage the job
query($node, 'postgres', 'CREATE EXTENSION IF NOT EXISTS seatmgr');
my $id2 = query($node, 'postgres', "SELECT seatmgr_schedule('*/5 * * * *')");
is(query($node, 'postgres', "SELECT schedule || ' ' || command FROM cron.job WHERE jobid = $id2"),
	'*/5 * * * * CALL public.seatmgr_sweep()',
	'seatmgr_schedule() in the cron database creates the job');
my $first  = query($node, 'postgres', 'SELECT seatmgr_unschedule()');
my $second = query($node, 'postgres', 'SELECT seatmgr_unschedule()');
is("$first $second", 't f', 'seatmgr_unschedule() removes it, then finds none');

$node->stop;
done_testing(8);
