# SPEC section 5: "A restore with plain pg_dump/pg_restore (or pg_dump | psql)
# either reproduces the organization exactly (licenses, sources, events, runs)
# or fails loudly; it never silently yields a different one."
#
# A use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use SeatmgrTest;
use Digest::MD5 qw(md5_hex);
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = seatmgr_node('restore');
my $tmp  = PostgreSQL::Test::Utils::tempdir;
my $src  = 'seatmgr_restore_src';

sub canon { return query_all($node, $_[0], slurp_file("$SRCDIR/t/canon.sql"), '-v', 'part=data'); }
# run(COMMAND, REDIRECTIONS...): the exit status of COMMAND (IPC::Run's)
sub run { IPC::Run::run(@_); return $? >> 8; }

# diag_canon_diff(SOURCE, RESTORED): what differs between two canonical texts,
# table by table (the lines of only one of them, as comm -3 of the sorted
# texts gives them, summed up by awk)
my $summary_awk = <<'AWK';

        { if ($1 == "") { side = ">"; line = $2 } else { side = "<"; line = $1 }
          key = line; sub(/:.*/, "", key); sub(/ rows$/, "", key)
          if (!(key in seen)) { seen[key] = 1; order[++n] = key }
          if (key ~ /^sequence /) sub(/^[^:]*: /, "", line)
          if (line ~ /^[a-z_]+ rows: /) { sub(/.*: /, "", line); rows[key, side] = line; next }
          cnt[key, side]++
          if (cnt[key, side] <= 2) ex[key, side, cnt[key, side]] = substr(line, 1, 180) }
        END { for (i = 1; i <= n; i++) {
                  k = order[i]
                  if (k ~ /^sequence /) { printf "#   %s: source %s, restored %s\n", k, ex[k, "<", 1], ex[k, ">", 1]; continue }
                  printf "#   %s:", k
                  if ((k, "<") in rows) printf " %s rows in the source, %s restored;", rows[k, "<"], rows[k, ">"]
                  printf " %d rows only in the source, %d only in the restored database\n", cnt[k, "<"], cnt[k, ">"]
                  for (j = 1; j <= 2; j++) if ((k, "<", j) in ex) print "#     < " ex[k, "<", j]
                  for (j = 1; j <= 2; j++) if ((k, ">", j) in ex) print "#     > " ex[k, ">", j] } }
AWK
sub diag_canon_diff
{
	my ($a, $b) = @_;
	my (%n, @comm);
	$n{$_}++ for split /\n/, $a;
	$n{$_}-- for split /\n/, $b;
	for my $line (sort keys %n)
	{
		push @comm, ($n{$line} > 0 ? $line : "\t$line") for 1 .. abs $n{$line};
	}
	my $out = '';
	IPC::Run::run([ 'awk', '-F', "\t", $summary_awk ], '<', \join('', map { "$_\n" } @comm), '>', \$out);
	my @l = split /\n/, $out;
	diag(join "\n", map { s/^# ?//r } @l[ 0 .. ($#l < 79 ? $#l : 79) ]) if @l;
	return;
}

# --- the source organization ------------------------------------------------
fresh_db($node, $src);
$node->psql($src, 'CREATE EXTENSION seatmgr') == 0 or BAIL_OUT('CREATE EXTENSION seatmgr failed');
run([ 'psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', $src, '-f', "$SRCDIR/scripts/sample_org.sql" ],
	'<', \undef, '>', '/dev/null') == 0
  or BAIL_OUT('scripts/sample_org.sql failed');
$node->psql($src, <<'SQL') == 0 or BAIL_OUT('building the source organization failed');
-- R4: an admin takes back an Engineering seat held through a team only;
-- Engineering is full (seat_limit 900, a waitlist): the first waiter gets it
SELECT seatmgr_remove_license(l.user_id, 1)
  FROM seatmgr.licenses l
 WHERE l.division_id = 1 AND l.status = 'active' AND l.user_id >= 10
   AND NOT EXISTS (SELECT 1 FROM seatmgr.license_sources s
                    WHERE s.user_id = l.user_id AND s.division_id = 1 AND s.kind <> 'team')
 ORDER BY l.user_id LIMIT 1;
-- R4: an admin gives Sales seats to two people in no team
SELECT seatmgr_grant_license(u.user_id, 3)
  FROM seatmgr.users u
 WHERE u.domain_id = 1 AND u.user_id >= 10
   AND NOT EXISTS (SELECT 1 FROM seatmgr.licenses l WHERE l.user_id = u.user_id)
 ORDER BY u.user_id LIMIT 2;
-- R3: a new identity-provider group with a Sales grant and three members
INSERT INTO seatmgr.groups (domain_id, name) VALUES (1, 'Sales ops');
INSERT INTO seatmgr.group_grants (group_id, division_id) VALUES (3, 3);
INSERT INTO seatmgr.group_members (group_id, user_id, added_at)
SELECT 3, user_id, now() - interval '10 days' FROM seatmgr.users
 WHERE domain_id = 1 AND user_id BETWEEN 2000 AND 2002;
-- R2: a share of an Engineering member with someone in no team (waits: Engineering is full)
INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id, shared_at)
SELECT 'dashboard', 'restore-test', 3, u.user_id, now() - interval '2 days'
  FROM seatmgr.users u
 WHERE u.domain_id = 1 AND u.user_id >= 10
   AND NOT EXISTS (SELECT 1 FROM seatmgr.licenses l WHERE l.user_id = u.user_id)
 ORDER BY u.user_id DESC LIMIT 1;
-- R7, R8: a real run of Engineering's policy: deactivates the idle, seats waiters
SELECT count(*) FROM seatmgr_run(1);
-- R5: someone leaves the Sales team that was their only source: the licence goes
DELETE FROM seatmgr.team_members m
 WHERE (m.team_id, m.user_id) = (
       SELECT s.ref_id, s.user_id FROM seatmgr.license_sources s
        WHERE s.division_id = 3 AND s.kind = 'team'
          AND NOT EXISTS (SELECT 1 FROM seatmgr.license_sources o
                           WHERE o.user_id = s.user_id AND o.division_id = 3 AND o.kind <> 'team')
        ORDER BY s.user_id LIMIT 1);
SQL
my $facts = query($node, $src, <<'SQL');
SELECT format('%s deactivated, %s waitlisted, %s auto sources, %s runs deactivating, %s removed events',
         (SELECT count(*) FROM seatmgr.licenses WHERE status = 'deactivated'),
         (SELECT count(*) FROM seatmgr.licenses WHERE status = 'waitlisted'),
         (SELECT count(*) FROM seatmgr.license_sources WHERE kind = 'auto'),
         (SELECT count(*) FROM seatmgr.runs WHERE status = 'succeeded' AND users_deactivated > 0),
         (SELECT count(*) FROM seatmgr.license_events WHERE event = 'removed'))
SQL
like($facts,
	qr/^[1-9][0-9]* deactivated, [1-9][0-9]* waitlisted, [1-9][0-9]* auto sources, 1 runs deactivating, [1-9][0-9]* removed/,
	"the source organization has what a replay through the triggers cannot rebuild ($facts)");
my ($src_out, $src_err) = ('', '');
$node->psql($src, slurp_file("$SRCDIR/t/canon.sql"), stdout => \$src_out, stderr => \$src_err,
	extra_params => [ '-v', 'part=data' ]) == 0
  or BAIL_OUT('t/canon.sql failed on the source');
my $src_canon = $src_out;

# --- checks of one restored database ---------------------------------------
# check_restore(LABEL, DB, STATUS, ERRORS, LOUD_OK): 4 assertions.  With
# LOUD_OK, a restore that fails loudly (non-zero exit and an ERROR on stderr)
# is accepted as the SPEC allows, and the 4 assertions are skipped.
sub check_restore
{
	my ($label, $db, $status, $err, $loud_ok) = @_;
	my @errors = grep { /ERROR/ } split /\n/, $err;
  SKIP:
	{
		if ($loud_ok && $status ne '0' && @errors)
		{
			note("$label failed loudly (exit $status, " . scalar(@errors)
				  . " ERROR lines), as the SPEC allows; the first:\n" . substr($errors[0], 0, 250));
			skip "$label: failed loudly, not compared", 4;
		}
		is($status, '0', "$label: the restore exits 0");
		ok(!@errors, "$label: no ERROR on stderr");
		if (@errors)
		{
			my @lines = split /\n/, $err;
			my @shown;
			for my $i (grep { $lines[$_] =~ /ERROR/ } 0 .. $#lines)
			{
				push @shown, @lines[ $i .. ($i + 2 > $#lines ? $#lines : $i + 2) ];
				last if @shown >= 24;
			}
			diag(scalar(@errors) . " ERROR lines; the first ones:\n" . join "\n", map { substr($_, 0, 250) } @shown[ 0 .. ($#shown < 23 ? $#shown : 23) ]);
		}
		my $canon = canon($db);
		ok($canon eq $src_canon, "$label: every table and sequence of schema seatmgr is identical to the source's");
		if ($canon ne $src_canon)
		{
			diag('md5 of the source\'s canonical text ' . md5_hex($src_canon) . ', of the restored ' . md5_hex($canon));
			diag('what differs, table by table (< source, > restored):');
			diag_canon_diff($src_canon, $canon);
		}
		# a normal session: the triggers work again (Sales, division 3, has no limit)
		my $got = query_all($node, $db, <<'SQL');
INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES (1, 'restore.check@acme.com', now());
INSERT INTO seatmgr.team_members (team_id, user_id) SELECT 7, user_id FROM seatmgr.users WHERE email = 'restore.check@acme.com';
SELECT l.status || ' ' || (SELECT count(*) FROM seatmgr.license_events e
                            WHERE e.user_id = l.user_id AND e.division_id = 3 AND e.event = 'granted')
  FROM seatmgr.licenses l JOIN seatmgr.users u USING (user_id)
 WHERE u.email = 'restore.check@acme.com' AND l.division_id = 3;
SQL
		is($got, 'active 1', "$label: afterwards a new member of a paid team gets a licence (triggers active again)");
	}
	return;
}
# dump_into_psql(DB, PG_DUMP OPTIONS...): pg_dump of the source | psql into DB;
# the exit status (0, or both statuses, as PIPESTATUS) and what both printed on stderr
sub dump_into_psql
{
	my ($db, @opts) = @_;
	my ($e1, $e2) = ('', '');
	my $h = IPC::Run::harness([ 'pg_dump', @opts, '-d', $src ], '2>', \$e1, '|',
		[ 'psql', '-X', '-q', '-d', $db ], '>', '/dev/null', '2>', \$e2);
	$h->run;
	my $st = join '', map { $_ >> 8 } $h->full_results;
	return ($st eq '00' ? '0' : $st, "$e1$e2");
}

# --- (a) custom format, pg_restore ------------------------------------------
my $err = '';
my $st = run([ 'pg_dump', '-Fc', '-d', $src, '-f', "$tmp/src.dump" ], '<', \undef, '2>', \$err);
ok($st == 0 && $err !~ /./, 'pg_dump -Fc of the source: exits 0, nothing on stderr');
fresh_db($node, 'seatmgr_restore_a');
$err = '';
$st  = run([ 'pg_restore', '-d', 'seatmgr_restore_a', "$tmp/src.dump" ], '<', \undef, '2>', \$err);
check_restore('(a) pg_restore', 'seatmgr_restore_a', $st, $err);

# --- (b) plain format into psql ---------------------------------------------
fresh_db($node, 'seatmgr_restore_b');
check_restore('(b) pg_dump | psql', 'seatmgr_restore_b', dump_into_psql('seatmgr_restore_b'));

# --- (c) pg_restore with two jobs --------------------------------------------
# The archive records no order between the data of an extension's tables (each
# TABLE DATA entry depends only on its table, which is not in the archive), so
# the jobs load them in any order and the extension's own foreign keys fail
# (users before domains, ...) whatever seatmgr's triggers do.  A loud failure
# is what the SPEC then asks for; a success must be exact.
fresh_db($node, 'seatmgr_restore_c');
$err = '';
$st  = run([ 'pg_restore', '-j', '2', '-d', 'seatmgr_restore_c', "$tmp/src.dump" ], '<', \undef, '2>', \$err);
check_restore('(c) pg_restore -j 2', 'seatmgr_restore_c', $st, $err, 'loud-ok');

# --- (d) data only, into an installed extension ------------------------------
fresh_db($node, 'seatmgr_restore_d');
query($node, 'seatmgr_restore_d', 'CREATE EXTENSION seatmgr');
check_restore('(d) pg_dump --data-only | psql', 'seatmgr_restore_d', dump_into_psql('seatmgr_restore_d', '--data-only'));

# --- (e) INSERT statements into psql -----------------------------------------
fresh_db($node, 'seatmgr_restore_e');
check_restore('(e) pg_dump --inserts | psql', 'seatmgr_restore_e', dump_into_psql('seatmgr_restore_e', '--inserts'));

# --- (f) replica role instead of row_security = off --------------------------
run([ 'pg_dump', '-d', $src, '-f', "$tmp/src.sql" ]);
append_to_file("$tmp/src-no-rls.sql",
	join '', grep { $_ ne "SET row_security = off;\n" } split /^/m, slurp_file("$tmp/src.sql"));
fresh_db($node, 'seatmgr_restore_f');
$err = '';
{
	local $ENV{PGOPTIONS} = '-c session_replication_role=replica';
	$st = run([ 'psql', '-X', '-q', '-d', 'seatmgr_restore_f', '-f', "$tmp/src-no-rls.sql" ],
		'<', \undef, '>', '/dev/null', '2>', \$err);
}
check_restore('(f) pg_dump | psql with session_replication_role = replica', 'seatmgr_restore_f', $st, $err);

# --- a replay that is not recognised as a restore ----------------------------
# Without "SET row_security = off;" the triggers may fire: then the replay
# must stop with an error, never finish with a different organization.
fresh_db($node, 'seatmgr_restore_loud');
$err = '';
$st  = run([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'seatmgr_restore_loud', '-f', "$tmp/src-no-rls.sql" ],
	'<', \undef, '>', '/dev/null', '2>', \$err);
my ($same, $loud_canon) = ('no', '');
if ($st == 0)
{
	$loud_canon = canon('seatmgr_restore_loud');
	$same = 'yes' if $loud_canon eq $src_canon;
}
ok($st != 0 || $same eq 'yes', 'a plain dump without SET row_security = off: fails loudly or gives the same organization');
if ($st != 0)
{
	my ($first) = grep { /ERROR/ } split /\n/, $err;
	note("it failed (psql exit $st): " . substr($first // '', 0, 300));
}
elsif ($same eq 'yes')
{
	note('it succeeded with an identical organization');
}
else
{
	diag('it succeeded SILENTLY WITH A DIFFERENT organization (< source, > restored):');
	diag_canon_diff($src_canon, $loud_canon);
}

$node->stop;
done_testing(27);
