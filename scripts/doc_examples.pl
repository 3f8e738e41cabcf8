#!/usr/bin/perl
# Runs every example of README.md and docs/ and compares what psql prints
# with what the document shows (docs/examples.md says how to write one).
#   usage: scripts/doc_examples.pl [-v] [FILE.md ...]   (default: README.md docs/*.md docs/sv/*.md)
# Needs a running server with seatmgr installed and pg_cron preloaded, reached
# through PGHOST/PGPORT/PGUSER as a superuser (scripts/test.sh's cluster); each
# document gets a fresh database "app", one psql session (two for examples
# written with the prompts A=> and B=>), TimeZone UTC and DateStyle ISO.
# Prints TAP: one test per document, the differences as diagnostics, and one
# that META.json (PGXN) carries seatmgr.control's default_version; exits
# non-zero on any failure.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IPC::Run qw(start pump finish timeout);
use JSON::PP ();

my $verbose = @ARGV && $ARGV[0] eq '-v' ? shift : 0;
my $top = dirname(dirname(__FILE__));
$top =~ s{^\./?}{};
$top = '.' if $top eq '';
my @files = @ARGV ? @ARGV : (glob("$top/README.md"), glob("$top/docs/*.md"), glob("$top/docs/sv/*.md"));
my $marker = '@@doc_examples@@';
my $out_prefix = qr/^-- (?=\s|(?:ERROR|WARNING|NOTICE|HINT|DETAIL|CONTEXT|INFO|LOG|FEL|VARNING|NOTIS):)/;

# parse FILE: its steps, each {session, sql, expect (undef: must not fail),
# line}, its roles and the fenced blocks left out with their reasons
sub parse {
    my ($file) = @_;
    open my $fh, '<', $file or die "$file: $!";
    my @lines = <$fh>;
    chomp @lines;
    my (@steps, @roles, @skipped, @errors);
    my $i = 0;
    my $pending_skip;    # the reason of a <!-- not run: ... --> just seen
    while ($i < @lines) {
        my $l = $lines[$i];
        if ($l =~ /^<!-- doc-test roles: (.*?) -->$/) {
            push @roles, split /[\s,]+/, $1;
            $i++;
            next;
        }
        if ($l =~ /^<!-- doc-test setup: (.+?) -->$/) {
            push @steps, { session => 'A', sql => $1, line => $i + 1, file => $file };
            $i++;
            next;
        }
        if ($l =~ /^<!-- not run: (.+?) -->$/) {
            $pending_skip = $1;
            $i++;
            next;
        }
        unless ($l =~ /^```(\S*)\s*$/) {
            $pending_skip = undef if $l =~ /\S/;
            $i++;
            next;
        }
        my ($info, $start) = ($1, $i + 1);
        my @body;
        $i++;
        while ($i < @lines && $lines[$i] !~ /^```\s*$/) { push @body, $lines[$i++]; }
        $i++;
        # an output block right after a sql block belongs to it
        my @output;
        my $has_output = 0;
        if ($info eq 'sql' && $i < @lines && $lines[$i] =~ /^```\s*$/) {
            $i++;
            while ($i < @lines && $lines[$i] !~ /^```\s*$/) { push @output, $lines[$i++]; }
            $i++;
            $has_output = 1;
        }
        if (defined $pending_skip) {
            push @skipped, "$file:$start ($pending_skip)";
            $pending_skip = undef;
            next;
        }
        if ($info eq 'sql') {
            my @s = sql_steps($file, $start, @body);
            if ($has_output) {
                my @shown = grep { !defined $_->{expect} } @s;
                push @errors, "$file:$start: an output block after a block with no statement whose output is not shown\n"
                    unless @shown;
                # the output block is the output of the block's statements whose output is not shown inline
                $_->{expect} = [] for @shown;
                $shown[-1]{expect} = \@output if @shown;
            }
            push @steps, @s;
        } elsif ($info eq '' && (grep { /\S/ } @body) && (grep { /\S/ } @body)[0] =~ /^\w*=> /) {
            push @steps, transcript_steps($file, $start, @body);
        } else {
            push @errors, "$file:$start: a ```$info block that is neither run nor marked <!-- not run: reason -->\n";
        }
    }
    return (\@steps, \@roles, \@skipped, \@errors);
}

# a ```sql block: statements end at a line ending in ';' (a comment after it
# allowed) or at a psql meta-command; the "-- " lines right after a statement
# that read as psql output (a table, ERROR:, HINT:, ...) are its output
sub sql_steps {
    my ($file, $start, @body) = @_;
    my (@steps, @acc);
    my $j = 0;
    while ($j < @body) {
        my $l = $body[$j];
        push @acc, $l;
        my $code = $l;
        $code =~ s/--.*$// unless $code =~ /^\\/;
        if ($code =~ /;\s*$/ || $l =~ /^\\/) {
            my $step = { session => 'A', sql => join("\n", @acc), line => $start + $j, file => $file };
            @acc = ();
            if ($j + 1 < @body && $body[$j + 1] =~ $out_prefix) {
                my @out;
                while ($j + 1 < @body && $body[$j + 1] =~ /^--(?: (.*))?$/) {
                    push @out, defined $1 ? $1 : '';
                    $j++;
                }
                $step->{expect} = \@out;
            }
            push @steps, $step;
        }
        $j++;
    }
    push @steps, { session => 'A', sql => join("\n", @acc), line => $start + $#body, file => $file }
        if grep { /\S/ && !/^\s*--/ } @acc;
    return @steps;
}

# a transcript: "=> statement" (or "app=> ", or "A=> " / "B=> " for two
# sessions) followed by exactly what psql prints for it
sub transcript_steps {
    my ($file, $start, @body) = @_;
    my @steps;
    for my $j (0 .. $#body) {
        if ($body[$j] =~ /^(\w*)=> ?(.*)$/) {
            my ($who, $sql) = ($1, $2);
            $who = 'A' if $who eq '' || $who eq 'app';
            push @steps, { session => $who, sql => $sql, expect => [], line => $start + $j, file => $file };
        } elsif (@steps) {
            push @{ $steps[-1]{expect} }, $body[$j];
        }
    }
    return @steps;
}

sub normalize {
    return grep { /\S/ } map { (my $x = $_) =~ s/\s+$//; $x } @_;
}

# does the shown line match the printed one? "file.c:..." stands for a line number
sub same_line {
    my ($shown, $got) = @_;
    return 1 if $shown eq $got;
    if ($shown =~ /^(.*:)\.\.\.$/) {
        my $p = $1;
        return $got =~ /^\Q$p\E\d+$/;
    }
    return 0;
}

sub psql_admin {
    my ($sql) = @_;
    local $ENV{PGOPTIONS} = '-c client_min_messages=warning';
    system('psql', '-X', '-q', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', $sql) == 0
        or die "psql failed: $sql\n";
}

sub run_document {
    my ($file, $steps, $roles) = @_;
    my @diag;
    my $dir = tempdir(CLEANUP => 1);
    psql_admin('DROP DATABASE IF EXISTS app WITH (FORCE)');
    psql_admin("DROP ROLE IF EXISTS $_") for @$roles;
    psql_admin("CREATE ROLE $_") for @$roles;
    psql_admin('CREATE DATABASE app');
    my %s;
    local $ENV{PGTZ} = 'UTC';
    local $ENV{PGDATESTYLE} = 'ISO, MDY';
    local $ENV{PGOPTIONS} = '-c intervalstyle=postgres';
    my $compared = 0;
    for my $st (@$steps) {
        my $who = $st->{session};
        unless ($s{$who}) {
            my ($in, $out) = ('', '');
            my $t = timeout(120);
            my $h = start(['psql', '-X', '-q', '-d', 'app', '-P', 'footer=off'],
                          '<', \$in, '>&', \$out, init => sub { chdir $dir }, $t);
            $s{$who} = { h => $h, in => \$in, out => \$out, t => $t };
        }
        my $p = $s{$who};
        ${ $p->{out} } = '';
        ${ $p->{in} } .= "$st->{sql}\n\\echo $marker\n";
        $p->{t}->start(120);
        pump $p->{h} until ${ $p->{out} } =~ /^\Q$marker\E$/m;
        (my $got = ${ $p->{out} }) =~ s/^\Q$marker\E\n.*//ms;
        my @got = normalize(split /\n/, $got);
        my $where = "$st->{file}:$st->{line}";
        if (defined $st->{expect}) {
            my @want = normalize(@{ $st->{expect} });
            my $ok = @want == @got;
            for my $k (0 .. $#want) { $ok &&= same_line($want[$k], $got[$k]); }
            $compared++;
            push @diag, "$where: $st->{sql}\n  shown:\n" . join('', map { "    $_\n" } @want)
                . "  printed:\n" . join('', map { "    $_\n" } @got) unless $ok;
        } elsif (grep { /^(ERROR|FATAL|PANIC):/ } @got) {
            push @diag, "$where: $st->{sql}\n  failed, and the document shows no error:\n"
                . join('', map { "    $_\n" } @got);
        }
        print "# $where run", (defined $st->{expect} ? ', compared' : ''), "\n" if $verbose;
    }
    for my $p (values %s) {
        ${ $p->{in} } .= "\\q\n";
        finish $p->{h};
    }
    psql_admin('DROP DATABASE IF EXISTS app WITH (FORCE)');
    psql_admin("DROP ROLE IF EXISTS $_") for @$roles;
    return ($compared, @diag);
}

my ($n, $failed) = (0, 0);
print "1..", scalar(@files) + 1, "\n";
for my $file (@files) {
    $n++;
    (my $name = $file) =~ s{^\Q$top\E/}{};
    my ($steps, $roles, $skipped, $errors) = parse($file);
    my @diag = @$errors;
    my $compared = 0;
    if (@$steps) {
        my @d;
        ($compared, @d) = run_document($file, $steps, $roles);
        push @diag, @d;
    }
    my $what = sprintf '%s: %d statements run, %d outputs compared, %d blocks not run',
        $name, scalar(@$steps), $compared, scalar(@$skipped);
    if (@diag) {
        $failed++;
        print "not ok $n - $what\n";
        print map { s/^/# /mgr } @diag;
    } else {
        print "ok $n - $what\n";
    }
    print map { "#   not run: $_\n" } @$skipped if $verbose;
}
# one version: seatmgr.control's default_version is META.json's, the extension's too
{
    $n++;
    open my $c, '<', "$top/seatmgr.control" or die "seatmgr.control: $!";
    my ($control) = map { /^default_version = '(.*)'/ ? $1 : () } <$c>;
    open my $m, '<', "$top/META.json" or die "META.json: $!";
    my $meta = JSON::PP->new->decode(do { local $/; <$m> });
    my @v = ($meta->{version}, $meta->{provides}{seatmgr}{version});
    if (defined $control && !grep { !defined $_ || $_ ne $control } @v) {
        print "ok $n - META.json's version and provides.seatmgr.version are seatmgr.control's default_version $control\n";
    } else {
        $failed++;
        print "not ok $n - META.json's versions (", join(', ', map { $_ // 'none' } @v),
            ") are not seatmgr.control's default_version (", $control // 'none', ")\n";
    }
}
exit($failed ? 1 : 0);
