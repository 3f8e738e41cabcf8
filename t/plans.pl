# The bash test t/sh/plans.sh (read its head: Issue 8, predictable runs: the plans of the sweep must not depend on ...),
# run against a node of its own; each of its TAP lines is a result here.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use SeatmgrTest;
use Test::More;

my $node = seatmgr_node('plans');
run_sh($node, 'plans');
$node->stop;
done_testing();
