# SPEC section 5: no input, however malformed, ends a backend abnormally or
# breaks an invariant.  The bash script t/sh/fuzz.sh (read its head) runs
# against a node of its own; each TAP line it prints is a result here.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use SeatmgrTest;
use Test::More;

my $node = seatmgr_node('fuzz');
run_sh($node, 'fuzz');
$node->stop;
done_testing();
