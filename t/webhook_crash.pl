# R17 across crashes: kill -9 of a backend during a burst of commits, and of
# the delivery worker in the middle of a batch; afterwards every committed
# license event has been delivered (counted by webhook-id at a receiver that
# verifies each request with standardwebhooks), and nothing of a rolled-back
# transaction was sent.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use SeatmgrTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

# SEATMGR_HOOK_PORT + 3, as before (t/webhooks.pl uses + 0 to + 2)
my $port   = (hook_ports(4))[3];
my $dir    = PostgreSQL::Test::Utils::tempdir;
my $secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
append_to_file("$dir/secrets", "$secret\n");
append_to_file("$dir/log",     '');
my $receiver = start_receiver($port, $dir);

my $node = seatmgr_node('webhook_crash');
my $db   = 'seatmgr_webhook_crash';
seatmgr_db($node, $db);
query($node, $db, <<"SQL");
INSERT INTO seatmgr.domains (name) VALUES ('acme.com');
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Eng');
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'E');
-- each request takes 0.3 s: the worker is always in the middle of a batch
INSERT INTO seatmgr.webhooks (url, secret) VALUES ('http://127.0.0.1:$port/slowish', '$secret');
SQL
# a burst: 400 transactions (about 10 s), each inviting one new user; every 4th rolled back
my $burst = '';
for my $i (1 .. 400)
{
	my ($end, $who) = $i % 4 == 0 ? ('ROLLBACK', "rb$i") : ('COMMIT', "u$i");
	$burst .=
	    "BEGIN; SELECT pg_sleep(0.02); INSERT INTO seatmgr.users (domain_id, email) VALUES (1, '$who\@acme.com');\n"
	  . "INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 1, user_id FROM seatmgr.users WHERE email = '$who\@acme.com'; $end;\n";
}
append_to_file("$dir/burst.sql", $burst);
my $burst_run;
{
	local $ENV{PGAPPNAME} = 'seatmgr_burst';
	$burst_run = IPC::Run::start(
		[ 'psql', '-X', '-q', '-d', $node->connstr($db), '-v', 'ON_ERROR_STOP=0', '-f', "$dir/burst.sql" ],
		'<', \undef, '>', '/dev/null', '2>', '/dev/null');
}
ok(wait_for(30, sub { query($node, $db, 'SELECT count(*) FROM seatmgr.users') >= 60 }), 'a burst of commits is running');
my $pid = query($node, $db,
	"SELECT pid FROM pg_stat_activity WHERE datname = '$db' AND application_name = 'seatmgr_burst'");
kill 'KILL', $pid if $pid;
$burst_run->finish;
wait_for(60, sub { query($node, $db, 'SELECT 1') eq '1' });
ok($pid ne '', "a backend of the burst was killed with SIGKILL ($pid); the server restarted");

# the worker restarts with the server; 300 more invites in one statement keep
# it busy (32 requests at a time, 0.3 s each), and it is killed mid-batch
sub worker
{
	return query($node, $db,
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'seatmgr delivery' AND datname = '$db'");
}
ok(wait_for(30, sub { worker() ne '' }), 'the delivery worker runs again after the restart');
query($node, $db,
	"INSERT INTO seatmgr.users (domain_id, email) SELECT 1, 'bulk' || i || '\@acme.com' FROM generate_series(1, 300) i;\n"
	  . "INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 1, user_id FROM seatmgr.users WHERE email LIKE 'bulk%';");
sub requests { return scalar(() = slurp_file("$dir/log") =~ /\n/g); }
my $n0 = requests();
wait_for(30, sub { requests() > $n0 + 40 });
my $wpid    = worker();
my $pending = query($node, $db, "SELECT count(*) FROM seatmgr.deliveries WHERE status = 'pending'");
kill 'KILL', $wpid if $wpid;
ok($wpid ne '' && $pending > 0,
	"the delivery worker ($wpid) was killed with SIGKILL in the middle of its work ($pending deliveries pending)");
wait_for(60, sub { query($node, $db, 'SELECT 1') eq '1' });

ok( wait_for(120, sub { query($node, $db, "SELECT count(*) FROM seatmgr.deliveries WHERE status <> 'delivered'") eq '0' }),
	'after both crashes every delivery is delivered');
received($node, $db, $dir);
my $committed = query($node, $db, 'SELECT count(*) FROM seatmgr.license_events');
is( query($node, $db, <<'SQL'), '0',
SELECT count(*) FROM seatmgr.license_events e
WHERE NOT EXISTS (SELECT 1 FROM seatmgr.deliveries d JOIN recv r ON r.line->>'id' = d.message_id
                  WHERE (d.payload->'data'->>'event_id')::bigint = e.event_id AND (r.line->>'verified')::boolean)
SQL
	"every committed event ($committed) reached the receiver, signed (counted by webhook-id)");
is( query($node, $db,
		"SELECT count(*) FROM recv r WHERE NOT EXISTS (SELECT 1 FROM seatmgr.deliveries d WHERE d.message_id = r.line->>'id')"),
	'0',
	'no request carried a webhook-id that is not a committed delivery');
is(query($node, $db, q{SELECT count(*) FROM recv WHERE line->>'body' ~ '"rb[0-9]+@acme.com"'}),
	'0', 'nothing of a rolled-back transaction was sent');
note('requests: ' . query($node, $db, 'SELECT count(*) FROM recv')
	  . ', distinct webhook-ids: ' . query($node, $db, "SELECT count(DISTINCT line->>'id') FROM recv")
	  . ', deliveries: ' . query($node, $db, 'SELECT count(*) FROM seatmgr.deliveries'));

$node->stop;
$receiver->kill_kill;
done_testing(8);
