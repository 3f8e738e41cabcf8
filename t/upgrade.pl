# The upgrade chain.  The SPEC names no versions; its preamble applies:
# "Where this file is silent, do what a PostgreSQL user would expect" -- and a
# user expects ALTER EXTENSION UPDATE to give what CREATE EXTENSION gives,
# keeping the data.  So a database created with seatmgr 0.1.0 and holding an
# organization (sql/seatmgr--0.1.0.sql), updated through
# sql/seatmgr--0.1.0--0.2.0.sql (built from sql/update--0.1.0--0.2.0.sql, sql/money.sql and sql/access.sql)
# with ALTER EXTENSION seatmgr UPDATE TO '0.2.0',
#   - keeps every row of every table 0.1.0 had (the columns 0.1.0 had; new
#     columns are not compared) and every sequence position;
#   - has exactly the catalog of a fresh CREATE EXTENSION seatmgr (0.2.0):
#     every object of the extension, described by t/canon.sql (part=catalog),
#     columns compared by name so that a column added by the upgrade script
#     equals the one of the fresh install;
#   - still works: a new membership of a paid team grants a licence.
# About 10 seconds.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use SeatmgrTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = seatmgr_node('upgrade');
my $tmp  = PostgreSQL::Test::Utils::tempdir;
my ($old, $new) = ('0.1.0', '0.2.0');
my $A = 'seatmgr_upgrade_a';    # created with 0.1.0, then updated
my $B = 'seatmgr_upgrade_b';    # created fresh with the default version

sub version { return query($node, $_[0], "SELECT extversion FROM pg_extension WHERE extname = 'seatmgr'"); }
sub q_all { return query_all($node, @_); }
# the first N lines of diff A B
sub diff_of
{
	my ($a, $b, $n) = @_;
	append_to_file("$tmp/diff.a", "$a\n");
	append_to_file("$tmp/diff.b", "$b\n");
	my $out = '';
	IPC::Run::run([ 'diff', "$tmp/diff.a", "$tmp/diff.b" ], '>', \$out);
	unlink "$tmp/diff.a", "$tmp/diff.b";
	my @l = split /\n/, $out;
	return map { substr($_, 0, 250) } @l[ 0 .. ($#l < $n - 1 ? $#l : $n - 1) ];
}

# --- database A: 0.1.0 and an organization -----------------------------------
fresh_db($node, $A);
$node->psql($A, "CREATE EXTENSION seatmgr VERSION '$old'") == 0
  or BAIL_OUT("CREATE EXTENSION seatmgr VERSION '$old' failed");
is(version($A), $old, "database A: CREATE EXTENSION seatmgr VERSION '$old'");
$node->psql($A, <<'SQL') == 0 or BAIL_OUT('filling database A failed');
INSERT INTO seatmgr.domains (name) VALUES ('acme.com');
-- Eng has 3 seats and a waitlist; Sales has no limit
INSERT INTO seatmgr.divisions (domain_id, name, seat_limit, seat_price) VALUES (1, 'Eng', 3, 20), (1, 'Sales', NULL, 10);
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'Platform'), (1, 2, 'Deals'), (1, NULL, 'Lunch');
INSERT INTO seatmgr.users (domain_id, email, last_active_at)
SELECT 1, 'u' || i || '@acme.com', now() - i * interval '20 days' FROM generate_series(1, 8) i;
-- five people for three seats: u4 and u5 wait
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
SELECT 1, user_id, '2024-01-01'::timestamptz + user_id * interval '1 day' FROM seatmgr.users WHERE user_id <= 5 ORDER BY user_id;
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (2, 6, '2024-02-01'), (3, 7, '2024-02-01');
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id, shared_at) VALUES ('project', 'p1', 6, 8, '2024-03-01');
INSERT INTO seatmgr.groups (domain_id, name) VALUES (1, 'IdP sales');
INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (1, 2);
INSERT INTO seatmgr.group_members (group_id, user_id, added_at) VALUES (1, 7, '2024-04-01');
INSERT INTO seatmgr.exclusions (domain_id, user_id, reason) VALUES (1, 1, 'the founder');
INSERT INTO seatmgr.policies (division_id, enabled, grant_active_within, revoke_inactive_after)
VALUES (1, true, '30 days', '50 days');
-- a real run: u3 (60 days idle) loses the seat; idle waiters are deactivated
SELECT count(*) FROM seatmgr_run(1);
SQL
my $facts = query($node, $A, <<'SQL');
SELECT format('%s licences (%s deactivated), %s runs, %s run changes, %s events',
         (SELECT count(*) FROM seatmgr.licenses), (SELECT count(*) FROM seatmgr.licenses WHERE status = 'deactivated'),
         (SELECT count(*) FROM seatmgr.runs WHERE status = 'succeeded'), (SELECT count(*) FROM seatmgr.run_changes),
         (SELECT count(*) FROM seatmgr.license_events))
SQL
like($facts, qr/^[1-9][0-9]* licences \([1-9][0-9]* deactivated\), 1 runs, [1-9][0-9]* run changes/,
	"database A holds an organization, with a real run ($facts)");

# issue 12: until the update, the new library serves 0.1.0's seatmgr.progress
# in its eight columns: a run held in "computing changes" by a session that
# locks seatmgr.exclusions, rolled back (the data below is read after it)
my @bg;
for my $sql ("BEGIN; LOCK TABLE seatmgr.exclusions IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;",
	"BEGIN; SELECT count(*) FROM seatmgr_run(1); ROLLBACK;")
{
	my ($o, $e) = ('', '');
	push @bg, IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr($A), '-c', $sql ],
		'<', \undef, '>', \$o, '2>', \$e);
	sleep 1 if @bg == 1;
}
wait_for(10, sub { query($node, $A, 'SELECT count(*) FROM seatmgr.progress') eq '1' });
my $progress = query($node, $A, <<'SQL');
SELECT concat_ws(' ', pid <> pg_backend_pid(), run_id > 0, division_id, division, phase, started_at <= now(),
                 changes_planned, users_deactivated, users_added) FROM seatmgr.progress
SQL
$_->finish for @bg;
is($progress, 't t 1 Eng computing changes t 0 0 0',
	"before the update, 0.1.0's seatmgr.progress shows a run in progress in its eight columns ($progress)");

# the data of 0.1.0: each table's rows (its 0.1.0 columns) and each sequence's position
my @tables = split /\n/, query($node, $A, "SELECT tablename FROM pg_tables WHERE schemaname = 'seatmgr' ORDER BY 1");
my @seqs   = split /\n/, query($node, $A, <<'SQL');
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'seatmgr' AND c.relkind = 'S' ORDER BY 1
SQL
my (%cols, %before);
# rows_of(DB, TABLE): the table's rows, only the columns 0.1.0 had
sub rows_of
{
	my ($db, $t) = @_;
	return q_all($db, qq{SELECT r FROM (SELECT ROW($cols{$t})::text AS r FROM seatmgr.$t) s ORDER BY r COLLATE "C"});
}
sub seq_of { return q_all($_[0], "SELECT last_value || ' ' || is_called FROM seatmgr.$_[1]"); }
for my $t (@tables)
{
	$cols{$t} = query($node, $A, <<"SQL");
SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
WHERE attrelid = 'seatmgr.$t'::regclass AND attnum > 0 AND NOT attisdropped
SQL
	$before{$t} = rows_of($A, $t);
}
$before{"seq $_"} = seq_of($A, $_) for @seqs;

# --- the update ---------------------------------------------------------------
my $update_err = '';
my $st = $node->psql($A, "ALTER EXTENSION seatmgr UPDATE TO '$new'", stderr => \$update_err);
ok($st == 0 && version($A) eq $new, "ALTER EXTENSION seatmgr UPDATE TO '$new': exits 0, extversion is $new");
diag("exit $st: " . substr($update_err, 0, 600)) if $st != 0;

for my $t (@tables)
{
	my $after = rows_of($A, $t);
	my @rows  = split /\n/, $before{$t};
	my @words = split ' ', $cols{$t};
	my ($rows, $ncols) = (scalar @rows, scalar @words);
	ok($after eq $before{$t}, "table seatmgr.$t keeps its $rows rows ($ncols columns of $old)");
	diag_lines(diff_of($before{$t}, $after, 20)) if $after ne $before{$t};
}
my $bad = '';
for my $s (@seqs)
{
	my $after = seq_of($A, $s);
	$bad .= " $s: $before{\"seq $s\"} -> $after;" if $after ne $before{"seq $s"};
}
ok($bad eq '', 'every sequence keeps its position');
diag($bad) if $bad ne '';

# --- database B: a fresh install of the default version ----------------------
fresh_db($node, $B);
$node->psql($B, 'CREATE EXTENSION seatmgr') == 0 or BAIL_OUT('CREATE EXTENSION seatmgr failed');
is(version($B), $new, "database B: CREATE EXTENSION seatmgr installs $new (the default version)");

# --- the catalogs of A and B ---------------------------------------------------
sub catalog { return q_all($_[0], slurp_file("$SRCDIR/t/canon.sql"), '-v', 'part=catalog'); }
my ($catalog_a, $catalog_b) = (catalog($A), catalog($B));
my $members = () = $catalog_b =~ /^member /mg;
ok($catalog_a eq $catalog_b && $members > 20,
	"the catalog of $old updated to $new equals a fresh $new ($members objects: tables, columns, constraints, indexes, triggers, routines, views, ACLs, RLS, comments, dump config)");
if ($catalog_a ne $catalog_b)
{
	diag("diff (< updated from $old, > fresh $new); the first 60 lines:");
	diag_lines(diff_of($catalog_a, $catalog_b, 60));
}

# --- the money and time objects of 0.2.0 read the history of 0.1.0 ------------
# (issue 10) the events 0.1.0 wrote give the seats of now, one open period per
# active licence, the billable users, and the run's seat change
my $got = q_all($A, <<'SQL');
SELECT (SELECT string_agg(division_id || ':' || active, ' ' ORDER BY division_id) FROM seatmgr_seats_at(now()))
         = (SELECT string_agg(d.division_id || ':' || (SELECT count(*) FROM seatmgr.licenses l
                              WHERE l.division_id = d.division_id AND l.status = 'active'), ' ' ORDER BY d.division_id)
              FROM seatmgr.divisions d),
       (SELECT count(*) FROM seatmgr.license_periods WHERE upper_inf(period))
         = (SELECT count(*) FROM seatmgr.licenses WHERE status = 'active'),
       (SELECT count(*) FROM seatmgr.billable_users)
         = (SELECT count(DISTINCT user_id) FROM seatmgr.licenses WHERE status = 'active'),
       (SELECT seat_change = users_added - users_deactivated AND monthly_cost_change = seat_change * 20
          FROM seatmgr.run_history),
       (SELECT count(*) > 0 FROM seatmgr_cost(now() - interval '1 day', now()))
SQL
is($got, 't|t|t|t|t',
	"after the update, seatmgr_seats_at, license_periods, billable_users, run_history's seat_change and monthly_cost_change and seatmgr_cost read 0.1.0's licences, events and runs"
);

# --- A still works -------------------------------------------------------------
$got = q_all($A, <<'SQL');
INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES (1, 'upgrade.check@acme.com', now());
INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 2, user_id FROM seatmgr.users WHERE email = 'upgrade.check@acme.com';
SELECT l.status FROM seatmgr.licenses l JOIN seatmgr.users u USING (user_id)
WHERE u.email = 'upgrade.check@acme.com' AND l.division_id = 2;
SQL
is($got, 'active', 'after the update, a new member of a paid team of database A gets a licence');

# --- issue 10's (and 12's) objects came with the update, and work ---------------------------
for my $o ('member table seatmgr.notices',
	'member function public.seatmgr_answer_notice(bigint,pg_catalog.text)',
	'member function public.seatmgr_undo_run(bigint)',
	'member function public.seatmgr_simulate(bigint,interval,interval,interval)',
	'member function public.seatmgr_run_summary(bigint)')
{
	ok(index($catalog_a, $o) >= 0, "the update brings $o");
}
$got = q_all($A, <<'SQL');
SELECT string_agg(attname, ',' ORDER BY attname) FROM pg_attribute
WHERE attrelid IN ('seatmgr.policies'::regclass, 'seatmgr.runs'::regclass)
  AND attname IN ('notice_period', 'users_warned', 'undoes_run_id')
SQL
is($got, 'notice_period,undoes_run_id,users_warned',
	"the update adds policies.notice_period, runs.users_warned and runs.undoes_run_id ($got)");
# (client_min_messages: the run's NOTICE summary is not one of the two numbers)
$got = join ' ', split /\n/, q_all($A, <<'SQL');
SET client_min_messages = warning;
UPDATE seatmgr.policies SET notice_period = '7 days', grant_active_within = NULL WHERE division_id = 1;
UPDATE seatmgr.users SET last_active_at = now() - interval '400 days';
UPDATE seatmgr.divisions SET seat_limit = NULL WHERE division_id = 1;
SELECT count(*) FROM seatmgr_run(1) WHERE action = 'warned';
SELECT count(*) FROM seatmgr.notices WHERE outcome IS NULL;
SQL
like("$got ", qr/^([1-9][0-9]*) \1 $/,
	"after the update, a run of database A with notice_period warns and opens notices (R14): $got ");

$node->stop;
done_testing();
