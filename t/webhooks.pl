# R17-R19 end to end: the delivery worker sends every event type to a real
# receiver on 127.0.0.1 that verifies each request with the standardwebhooks
# package from npm (t/webhook/receiver.js); a rolled-back change sends
# nothing; a receiver answering 500, timing out, refusing connections or
# answering garbage gets retries with growing gaps and finally `failed`;
# seatmgr_redeliver sends the same webhook-id again; filters hold; CALL
# seatmgr_deliver() delivers in the calling session; README's receiver works;
# seatmgr.database_names decides which databases the worker serves.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use SeatmgrTest;
use PostgreSQL::Test::Utils;
use Test::More;

# the receiver, README's receiver, and a port where nothing listens
my ($hook, $example_port, $refused) = hook_ports(3);
my $dir    = PostgreSQL::Test::Utils::tempdir;
my $secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
append_to_file("$dir/secrets", "$secret\n");
append_to_file("$dir/log",     '');
my $receiver = start_receiver($hook, $dir);

my $node = seatmgr_node('webhooks');
my $db   = 'seatmgr_webhooks_test';
sub q1 { return query($node, $db, $_[0]); }
# quick retries for the test: 1 s, then 2, 4; 4 attempts; 1 s to answer
query($node, 'postgres', <<'SQL');
ALTER SYSTEM SET seatmgr.webhook_retry_delay = '1s';
ALTER SYSTEM SET seatmgr.webhook_max_attempts = 4;
ALTER SYSTEM SET seatmgr.webhook_timeout = '1s';
SELECT pg_reload_conf();
SQL

query($node, 'postgres', "CREATE DATABASE $db");
q1('CREATE EXTENSION seatmgr');
q1(<<"SQL");
INSERT INTO seatmgr.domains (name) VALUES ('acme.com'), ('other.com');
INSERT INTO seatmgr.divisions (domain_id, name, seat_limit) VALUES (1, 'Eng', 2), (2, 'Theirs', NULL);
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'E'), (1, 1, 'E2'), (2, 2, 'T');
INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES
  (1, 'ann\@acme.com', now() - interval '1 year'), (1, 'bob\@acme.com', now()), (1, 'cat\@acme.com', now()),
  (2, 'zed\@other.com', now()), (1, 'rolledback\@acme.com', now());
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after) VALUES (1, '30 days');
INSERT INTO seatmgr.webhooks (domain_id, url, secret, event_types) VALUES
  (NULL, 'http://127.0.0.1:$hook/ok/all', '$secret', NULL),
  (1, 'http://127.0.0.1:$hook/ok/acme-granted', '$secret', '{license.granted}'),
  (2, 'http://127.0.0.1:$hook/ok/other', '$secret', NULL);
SQL
# every event type: granted, waitlisted, deactivated (a run), run.finished, reactivated, removed, warned
q1(<<'SQL');
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (1, 1, '2024-01-01'), (1, 2, now());
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 3);
SELECT count(*) FROM seatmgr_run(1);
DELETE FROM seatmgr.team_members WHERE user_id = 2;
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (2, 1);
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (3, 4);
-- warned (R14): an idle licence of other.com under a policy with a notice period
INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES (2, 'old@other.com', now() - interval '1 year');
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
  SELECT 3, user_id, '2024-01-01' FROM seatmgr.users WHERE email = 'old@other.com';
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after, notice_period) VALUES (2, '30 days', '7 days');
SELECT count(*) FROM seatmgr_run(2);
SQL
# a change rolled back
q1("BEGIN;\nINSERT INTO seatmgr.team_members (team_id, user_id) VALUES (2, 5);\nROLLBACK;");
q1('SELECT count(*) FROM seatmgr.deliveries');

ok(wait_for(30, sub { q1("SELECT count(*) FROM seatmgr.deliveries WHERE status = 'pending'") eq '0' }),
	'R19: the worker delivers every pending delivery (no CALL)');
received($node, $db, $dir);
is(q1("SELECT count(*) FROM seatmgr.deliveries WHERE status <> 'delivered'"), '0',
	'R18: a 2xx answer marks every delivery delivered');
is(q1("SELECT count(*) FROM recv WHERE NOT (line->>'verified')::boolean"), '0',
	'R18: standardwebhooks verifies the signature of every request (' . q1('SELECT count(*) FROM recv') . ' requests)');
is( q1(<<'SQL'),
SELECT string_agg(DISTINCT ((line->>'body')::jsonb->>'type'), ',' ORDER BY ((line->>'body')::jsonb->>'type'))
FROM recv WHERE line->>'path' = '/ok/all'
SQL
	'license.deactivated,license.granted,license.reactivated,license.removed,license.waitlisted,license.warned,run.finished',
	'R17: every event type arrives');
is( q1(<<'SQL'), '2',
SELECT count(*) FROM recv r
JOIN seatmgr.notices n ON n.notice_id = ((r.line->>'body')::jsonb->'data'->>'notice_id')::bigint
 AND n.deadline = ((r.line->>'body')::jsonb->'data'->>'deadline')::timestamptz
WHERE (r.line->>'body')::jsonb->>'type' = 'license.warned'
SQL
	"R17: license.warned arrives with its notice's id and deadline (at both matching webhooks)");
is( q1(<<'SQL'), '0',
SELECT count(*) FROM seatmgr.deliveries d
WHERE NOT EXISTS (SELECT 1 FROM recv r WHERE r.line->>'id' = d.message_id AND (r.line->>'body')::jsonb = d.payload
                  AND r.line->>'contentType' = 'application/json' AND r.line->>'method' = 'POST')
SQL
	'R18: each delivery is a POST of its documented payload, content-type application/json, webhook-id = message_id');
is(q1("SELECT count(*) FROM recv r WHERE abs((r.line->>'timestamp')::bigint - (r.line->>'at')::bigint / 1000) > 5"),
	'0', 'R18: webhook-timestamp is the Unix time of the request');
is( q1('SELECT count(*) FROM seatmgr.license_events'),
	q1("SELECT count(*) FROM recv WHERE line->>'path' = '/ok/all' AND (line->>'body')::jsonb->>'type' LIKE 'license.%'"),
	'R17: the webhook of every domain gets one request per license event');
is( q1(<<'SQL'), 'license.granted/acme.com',
SELECT string_agg(DISTINCT (line->>'body')::jsonb->>'type' || '/' || ((line->>'body')::jsonb->'data'->>'domain'), ',')
FROM recv WHERE line->>'path' = '/ok/acme-granted'
SQL
	"R17: the event-type filter holds (acme's granted-only webhook got only grants of acme)");
is( q1(
		"SELECT string_agg(DISTINCT (line->>'body')::jsonb->'data'->>'domain', ',') FROM recv WHERE line->>'path' = '/ok/other'"
	),
	'other.com',
	"R17: the domain filter holds (other.com's webhook got only other.com's events)");
is(q1("SELECT count(*) FROM recv WHERE line->>'body' LIKE '%rolledback\@acme.com%'"),
	'0', 'R17: a rolled-back change sends nothing');

# failures: 500, a timeout, a refused connection, garbage, a redirect to file:
q1(<<"SQL");
UPDATE seatmgr.webhooks SET enabled = false;
INSERT INTO seatmgr.webhooks (domain_id, url, secret, event_types) VALUES
  (2, 'http://127.0.0.1:$hook/fail', '$secret', '{license.granted}'),
  (2, 'http://127.0.0.1:$hook/slow', '$secret', '{license.granted}'),
  (2, 'http://127.0.0.1:$refused/refused', '$secret', '{license.granted}'),
  (2, 'http://127.0.0.1:$hook/garbage', '$secret', '{license.granted}'),
  (2, 'http://127.0.0.1:$hook/redirect', '$secret', '{license.granted}');
INSERT INTO seatmgr.users (domain_id, email) VALUES (2, 'failing\@other.com');
INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 3, user_id FROM seatmgr.users WHERE email = 'failing\@other.com';
SQL
ok( wait_for(
		40,
		sub {
			q1("SELECT count(*) FROM seatmgr.deliveries WHERE webhook_id > 3 AND status = 'failed' AND attempts = 4") eq '5';
		}),
	'R18: 500, timeout, refused connection, garbage and a redirect each end failed after the last of 4 attempts');
received($node, $db, $dir);
# the gaps (ms) between the requests of one path, in order
sub gaps
{
	return q1(<<"SQL");
SELECT string_agg(gap::text, ' ' ORDER BY at) FROM (SELECT (line->>'at')::bigint AS at,
       (line->>'at')::bigint - lag((line->>'at')::bigint) OVER (ORDER BY (line->>'at')::bigint) AS gap
       FROM recv WHERE line->>'path' = '$_[0]') g WHERE gap IS NOT NULL
SQL
}
# each gap at least 1.4 times the one before (the back-off doubles; each gap also holds the batch's 1 s timeout)
sub growing
{
	my @g = split ' ', $_[0];
	return 0 unless @g == 3;
	for my $i (1 .. $#g)
	{
		return 0 unless $g[$i] >= int($g[ $i - 1 ] * 14 / 10);
	}
	return 1;
}
my ($g500, $gslow, $ggarbage) = (gaps('/fail'), gaps('/slow'), gaps('/garbage'));
ok(growing($g500),     "R18: a receiver answering 500 gets 4 attempts with growing gaps ($g500 ms)");
ok(growing($gslow),    "R18: a receiver that times out gets 4 attempts with growing gaps ($gslow ms)");
ok(growing($ggarbage), "R18: a receiver answering garbage gets 4 attempts with growing gaps ($ggarbage ms)");
is(q1("SELECT count(DISTINCT line->>'id') FROM recv WHERE line->>'path' IN ('/fail', '/slow', '/garbage')"),
	'3', 'R18: every retry carries the same webhook-id');
is( q1(
		"SELECT last_status || ' ' || last_error FROM seatmgr.deliveries d JOIN seatmgr.webhooks w USING (webhook_id) WHERE w.url LIKE '%/fail'"
	),
	'500 HTTP status 500',
	'R18: the last status and error are stored (500)');
like(
	q1("SELECT last_error FROM seatmgr.deliveries d JOIN seatmgr.webhooks w USING (webhook_id) WHERE w.url LIKE '%/refused'"),
	qr/connect/, 'R18: a refused connection is stored as the error');
is( q1("SELECT last_status FROM seatmgr.deliveries d JOIN seatmgr.webhooks w USING (webhook_id) WHERE w.url LIKE '%/redirect'")
	  . ' ' . q1("SELECT count(*) FROM recv WHERE line->>'path' = '/redirect'"),
	'302 4',
	'R18: a redirect (to file:) is not followed: a failed attempt');

# seatmgr_redeliver sends the same webhook-id again
q1("UPDATE seatmgr.webhooks SET enabled = (url LIKE '%/ok/%')");
my $id = q1(
	"SELECT min(delivery_id) FROM seatmgr.deliveries d JOIN seatmgr.webhooks w USING (webhook_id) WHERE w.url LIKE '%/ok/all'");
my $msg = q1("SELECT message_id FROM seatmgr.deliveries WHERE delivery_id = $id");
q1("SELECT seatmgr_redeliver($id)");
ok(wait_for(20, sub { q1("SELECT status FROM seatmgr.deliveries WHERE delivery_id = $id") eq 'delivered' }),
	'R18: a redelivered delivery is delivered again');
received($node, $db, $dir);
is(q1("SELECT count(*) FROM recv WHERE line->>'id' = '$msg' AND (line->>'verified')::boolean"),
	'2', 'R18: seatmgr_redeliver sent the same webhook-id again, signed');

# CALL seatmgr_deliver(): in the calling transaction, invisible to the worker
my $out = q1(<<'SQL');
BEGIN;
INSERT INTO seatmgr.users (domain_id, email) VALUES (2, 'called@other.com');
INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 3, user_id FROM seatmgr.users WHERE email = 'called@other.com';
CALL seatmgr_deliver();
SELECT string_agg(status, ',') FROM seatmgr.deliveries WHERE payload->'data'->>'email' = 'called@other.com';
COMMIT;
SQL
is($out, 'delivered,delivered', "R19: CALL seatmgr_deliver() delivers in the calling session ($out)");
received($node, $db, $dir);
is(q1("SELECT count(*) FROM recv WHERE line->>'body' LIKE '%called\@other.com%' AND (line->>'verified')::boolean"),
	'2', 'R19: ... once each, signed');

# README's receiver (t/webhook/example.js) verifies a delivery
my $example = start_receiver($example_port, $dir,
	script => 'example.js',
	out    => "$dir/example.out",
	env    => { WEBHOOK_SECRET => $secret, PORT => $example_port });
sleep 1;
q1(<<"SQL");
UPDATE seatmgr.webhooks SET enabled = false;
INSERT INTO seatmgr.webhooks (domain_id, url, secret) VALUES (2, 'http://127.0.0.1:$example_port/', '$secret');
INSERT INTO seatmgr.users (domain_id, email) VALUES (2, 'yan\@other.com');
INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 3, user_id FROM seatmgr.users WHERE email = 'yan\@other.com';
SQL
ok(wait_for(20, sub { slurp_file("$dir/example.out") =~ /license\.granted yan\@other\.com/ }),
	"README's receiver (t/webhook/example.js) verifies a delivery and logs it");
is(q1("SELECT status FROM seatmgr.deliveries d JOIN seatmgr.webhooks w USING (webhook_id) WHERE w.url LIKE '%:$example_port/'"),
	'delivered', "README's receiver answered 204 to a valid signature");

# seatmgr.database_names: a reload that leaves this database out stops its
# worker (deliveries wait, pending); naming it again delivers them
sub workers
{
	return query($node, 'postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'seatmgr delivery' AND datname = '$db'");
}
query($node, 'postgres', "ALTER SYSTEM SET seatmgr.database_names = 'postgres';\nSELECT pg_reload_conf();");
ok(wait_for(20, sub { workers() eq '0' }),
	'R19: a reload of seatmgr.database_names without this database stops its delivery worker');
q1(<<'SQL');
INSERT INTO seatmgr.users (domain_id, email) VALUES (2, 'held@other.com');
INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 3, user_id FROM seatmgr.users WHERE email = 'held@other.com';
SQL
sleep 3;
is( q1("SELECT string_agg(status, ',') FROM seatmgr.deliveries WHERE payload->'data'->>'email' = 'held\@other.com'")
	  . ' ' . workers(),
	'pending 0',
	'R19: ... and its deliveries wait, pending, with no worker started for them');
query($node, 'postgres', "ALTER SYSTEM RESET seatmgr.database_names;\nSELECT pg_reload_conf();");
q1("INSERT INTO seatmgr.users (domain_id, email) VALUES (2, 'wakes\@other.com')");
q1("INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 3, user_id FROM seatmgr.users WHERE email = 'wakes\@other.com'");
ok( wait_for(
		20,
		sub {
			q1( "SELECT string_agg(status, ',' ORDER BY delivery_id) FROM seatmgr.deliveries "
				  . "WHERE payload->'data'->>'email' IN ('held\@other.com', 'wakes\@other.com')") eq 'delivered,delivered';
		}),
	'R19: named again, the next commit starts a worker that delivers the ones that waited too');

# A worker that leaves of its own accord (here: seatmgr.database_names left
# its database out) has not failed: left out and named again three times
# within a minute, the database still gets a worker at each commit (the
# launcher counted such exits as failures and gave the database up)
for my $i (1 .. 3)
{
	query($node, 'postgres', "ALTER SYSTEM SET seatmgr.database_names = 'postgres';\nSELECT pg_reload_conf();");
	wait_for(20, sub { workers() eq '0' });
	query($node, 'postgres', "ALTER SYSTEM RESET seatmgr.database_names;\nSELECT pg_reload_conf();");
	q1("INSERT INTO seatmgr.users (domain_id, email) VALUES (2, 'cycle$i\@other.com')");
	q1("INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 3, user_id FROM seatmgr.users WHERE email = 'cycle$i\@other.com'");
	ok( wait_for(
			20,
			sub {
				q1( "SELECT string_agg(status, ',') FROM seatmgr.deliveries "
					  . "WHERE payload->'data'->>'email' = 'cycle$i\@other.com'") eq 'delivered';
			}),
		"R19: left out of seatmgr.database_names and named again ($i of 3 within a minute), the next commit is delivered");
}

$node->stop;
$example->kill_kill;
$receiver->kill_kill;
done_testing(31);
