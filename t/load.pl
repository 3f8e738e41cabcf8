# The bash test t/sh/load.sh (read its head: R6 and R13 under concurrency, and no deadlocks in normal use (issue 7): ...),
# run against a node of its own; each of its TAP lines is a result here.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use SeatmgrTest;
use Test::More;

my $node = seatmgr_node('load');
run_sh($node, 'load');
$node->stop;
done_testing();
