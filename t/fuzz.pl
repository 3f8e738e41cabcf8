# The bash test t/sh/fuzz.sh (read its head: SPEC section 5: no input, however malformed (NULLs in any column or ...),
# run against a node of its own; each of its TAP lines is a result here.
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
