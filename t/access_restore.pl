# SPEC section 8 (R20): access survives pg_dump / pg_restore.  A source
# database with an organization of two domains gives app, reader and admin
# access (unscoped, to one domain, to one division) with seatmgr_allow; it is
# restored with pg_dump -Fc | pg_restore and with pg_dump | psql.  Each restored
# database must have the same seatmgr.access rows, the same privileges on
# every object of the extension (relacl, proacl, nspacl), the same row-level
# security (relrowsecurity and every policy), and behave the same: a
# domain-scoped reader sees its domain only, a division-scoped admin is
# refused another division with 42501.  Policies a DBA adds by hand on an
# extension's tables are not dumped; seatmgr's own come with CREATE
# EXTENSION.  About 5 seconds.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use SeatmgrTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = seatmgr_node('access_restore');
my $tmp  = PostgreSQL::Test::Utils::tempdir;
my $src  = 'seatmgr_access_src';

# the roles belong to the cluster (pg_dumpall --globals-only); they exist before and after
for my $r (qw(seatmgr_r_app seatmgr_r_reader seatmgr_r_admin))
{
	$node->psql('postgres', "CREATE ROLE $r") == 0 or BAIL_OUT("CREATE ROLE $r failed");
}

fresh_db($node, $src);
$node->psql($src, <<'SQL') == 0 or BAIL_OUT('building the source failed');
CREATE EXTENSION seatmgr;
INSERT INTO seatmgr.domains (name) VALUES ('acme.com'), ('other.com');
INSERT INTO seatmgr.divisions (domain_id, name) VALUES (1, 'Eng'), (1, 'Sales'), (2, 'Theirs');
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'E'), (1, 2, 'S'), (2, 3, 'T');
INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'a@acme.com'), (1, 'b@acme.com'), (2, 'z@other.com');
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 1), (2, 2), (3, 3);
SELECT seatmgr_allow('seatmgr_r_app', 'app');
SELECT seatmgr_allow('seatmgr_r_reader', 'reader', domain_id => 1);
SELECT seatmgr_allow('seatmgr_r_admin', 'admin', division_id => 1);
SQL

# what must survive: grants, privileges (a default ACL is the same whether
# NULL or written out), row-level security
sub state
{
	return query($node, $_[0], <<'SQL');
SELECT 'access: ' || role::text || ' ' || access || ' ' || coalesce(domain_id::text, '-') || ' ' || coalesce(division_id::text, '-')
  FROM seatmgr.access ORDER BY 1;
SELECT 'relacl: ' || c.relname || ' ' || coalesce(c.relacl, acldefault('r', c.relowner))::text || ' rls=' || c.relrowsecurity
  FROM pg_class c WHERE c.relnamespace = 'seatmgr'::regnamespace AND c.relkind IN ('r', 'v') ORDER BY 1;
SELECT 'proacl: ' || p.oid::regprocedure::text || ' ' || coalesce(p.proacl, acldefault('f', p.proowner))::text
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'seatmgr' ORDER BY 1;
SELECT 'nspacl: ' || coalesce(nspacl, acldefault('n', nspowner))::text FROM pg_namespace WHERE nspname = 'seatmgr';
SELECT 'policy: ' || tablename || ' ' || policyname || ' ' || cmd || ' ' || qual FROM pg_policies WHERE schemaname = 'seatmgr' ORDER BY 1;
SQL
}
my $src_state = state($src);
ok(scalar(() = $src_state =~ /^access: /mg) == 3 && scalar(() = $src_state =~ /^policy: /mg) >= 17,
	'the source has three grants and a policy on every scoped table');

# behave: the reader sees its domain's users only; the admin may not grant in another division
sub behaves
{
	my ($db, $label) = @_;
	my $seen = query($node, $db,
		"SET ROLE seatmgr_r_reader;\nSELECT string_agg(email, ',' ORDER BY email) FROM seatmgr.users;");
	is($seen, 'a@acme.com,b@acme.com', "$label: the domain-scoped reader sees its domain's users only ($seen)");
	my ($out, $err) = ('', '');
	$node->psql($db, "SET ROLE seatmgr_r_admin;\nSELECT seatmgr_grant_license(2, 2);", stdout => \$out, stderr => \$err);
	like($err, qr/permission denied for division 2/, "$label: the division-scoped admin is refused another division (42501)");
	return;
}
behaves($src, 'source');

# (a) pg_dump -Fc | pg_restore
IPC::Run::run([ 'pg_dump', '-Fc', '-d', $node->connstr($src), '-f', "$tmp/src.dump" ])
  or BAIL_OUT('pg_dump -Fc failed');
fresh_db($node, 'seatmgr_access_a');
my $err = '';
my $ok = IPC::Run::run([ 'pg_restore', '-d', $node->connstr('seatmgr_access_a'), "$tmp/src.dump" ], '<', \undef, '2>', \$err);
ok($ok && $err !~ /ERROR/, 'pg_dump -Fc, pg_restore: exit 0, no ERROR');
is(state('seatmgr_access_a'), $src_state, 'pg_restore: the same grants, privileges and row-level security');
behaves('seatmgr_access_a', 'pg_restore');

# (b) pg_dump | psql
fresh_db($node, 'seatmgr_access_b');
$err = '';
$ok = IPC::Run::run([ 'pg_dump', '-d', $node->connstr($src) ], '|',
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('seatmgr_access_b') ],
	'>', '/dev/null', '2>', \$err);
ok($ok && $err !~ /ERROR/, 'pg_dump | psql: exit 0, no ERROR');
is(state('seatmgr_access_b'), $src_state, 'pg_dump | psql: the same grants, privileges and row-level security');
behaves('seatmgr_access_b', 'pg_dump | psql');

$node->stop;
done_testing(11);
