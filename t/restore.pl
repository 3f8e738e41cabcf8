# The bash test t/sh/restore.sh (read its head: SPEC section 5: "A restore with plain pg_dump/pg_restore (or pg_dump | psql) ...),
# run against a node of its own; each of its TAP lines is a result here.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use SeatmgrTest;
use Test::More;

my $node = seatmgr_node('restore');
run_sh($node, 'restore');
$node->stop;
done_testing();
