# The bash test t/sh/access_restore.sh (read its head: SPEC section 8 (R20): access survives pg_dump / pg_restore.  A source ...),
# run against a node of its own; each of its TAP lines is a result here.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use SeatmgrTest;
use Test::More;

my $node = seatmgr_node('access_restore');
run_sh($node, 'access_restore');
$node->stop;
done_testing();
