# R6 and R13 under concurrency, no deadlocks in normal use: 16 pgbench
# clients for LOAD_SECONDS (default 120).  The bash script t/sh/load.sh (read
# its head) runs against a node of its own; each TAP line it prints is a
# result here.
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
