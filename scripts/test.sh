#!/usr/bin/env bash
# Every test of seatmgr: builds, starts a throwaway cluster, runs pg_regress,
# the isolation specs and pgTAP against it, then the Perl TAP tests (t/*.pl,
# each on a node of its own: pg_cron, crashes, webhooks...), and exits
# non-zero on any failure.  pg_regress, the specs and the TAP tests run as
# the postgres user (`make installcheck`, `make prove_installcheck`) on a
# copy of the checkout it owns, as any non-root user would run them.
#   usage: scripts/test.sh            (as root on Debian 12)
source "$(dirname "$0")/common.sh"

install_packages
install_node
build_install
start_cluster "${SEATMGR_CLUSTER:-test}"

status=0
copy_for_postgres
say "pg_regress and isolation specs (make installcheck, as postgres)"
# TAP_TESTS= : the TAP tests run below, on their own
if ! as_postgres make -C "$COPY" -s with_llvm=no PG_CONFIG="$PGBIN/pg_config" installcheck TAP_TESTS=; then
    status=1
    for f in "$COPY"/regression.diffs "$COPY"/output_iso/regression.diffs; do
        [ -f "$f" ] && { echo "--- $f"; head -200 "$f"; }
    done
fi

say "pgTAP (pg_prove)"
psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS seatmgr_tap' -c 'CREATE DATABASE seatmgr_tap'
psql -X -q -d seatmgr_tap -c 'CREATE EXTENSION pgtap'
if ! pg_prove -d seatmgr_tap --ext .sql "$TOP"/test/pgtap/*.sql; then
    status=1
fi

say "the examples of README.md and docs/, run and compared (scripts/doc_examples.pl, docs/examples.md)"
if ! perl "$TOP"/scripts/doc_examples.pl; then
    status=1
fi

say "Perl TAP tests: a real pg_cron schedule, crashes, webhooks to a verifying receiver... (make prove_installcheck, as postgres; a few minutes)"
# the webhook tests must run here (install_node put t/webhook/node_modules in place)
if ! SEATMGR_REQUIRE_WEBHOOKS=1 as_postgres make -C "$COPY" -s with_llvm=no PG_CONFIG="$PGBIN/pg_config" prove_installcheck; then
    status=1
    echo "the TAP tests' server logs: $COPY/tmp_check/log"
fi

if [ $status -ne 0 ]; then
    say "FAILED (server log: $CLUSTER/log)"
    tail -30 "$CLUSTER/log" || true
fi
exit $status
