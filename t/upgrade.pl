# The bash test t/sh/upgrade.sh (read its head: The upgrade chain.  The SPEC names no versions; its preamble applies: ...),
# run against a node of its own; each of its TAP lines is a result here.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use SeatmgrTest;
use Test::More;

my $node = seatmgr_node('upgrade');
run_sh($node, 'upgrade');
$node->stop;
done_testing();
