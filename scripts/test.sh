#!/usr/bin/env bash
# Every test of seatmgr: builds, starts a throwaway cluster, runs pg_regress,
# the isolation specs, pgTAP and the pg_cron and crash tests (t/), and exits
# non-zero on any failure.
#   usage: scripts/test.sh            (as root on Debian 12)
source "$(dirname "$0")/common.sh"

install_packages
install_node
build_install
start_cluster "${SEATMGR_CLUSTER:-test}"

status=0
say "pg_regress and isolation specs (make installcheck)"
if ! make -C "$TOP" -s with_llvm=no PG_CONFIG="$PGBIN/pg_config" installcheck; then
    status=1
    for f in "$TOP"/regression.diffs "$TOP"/output_iso/regression.diffs; do
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

say "a real pg_cron schedule, crashes, webhooks to a verifying receiver (prove, t/*.t; a few minutes)"
if ! prove --exec bash "$TOP"/t/*.t; then
    status=1
fi

if [ $status -ne 0 ]; then
    say "FAILED (server log: $CLUSTER/log)"
    tail -30 "$CLUSTER/log" || true
fi
exit $status
