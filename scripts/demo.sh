#!/usr/bin/env bash
# The seatmgr demo, end to end: installs what it needs, builds and installs
# the extension, starts a throwaway cluster under the checkout (pg_cron and
# seatmgr preloaded), loads a sample organization, shows who holds which
# seat and why, previews and runs a sweep, shows the history and writes the
# run's CSV export.
#   usage: scripts/demo.sh [--keep]     (as root on Debian 12)
#   --keep leaves the cluster running and prints how to connect to it.
source "$(dirname "$0")/common.sh"

install_packages
build_install
start_cluster demo
DB=seatmgr_demo
psql -X -q -d postgres -c "CREATE DATABASE $DB"
sql() { psql -X -d $DB -v ON_ERROR_STOP=1 "$@"; }

say "CREATE EXTENSION seatmgr, and a sample organization (acme.com, a mixed domain; globex.com)"
sql -q -c 'CREATE EXTENSION seatmgr CASCADE'
t0=$(date +%s%N)
sql -q -f "$TOP/scripts/sample_org.sql" >/dev/null
printf 'loaded in %d ms through the triggers: ' $(( ($(date +%s%N) - t0) / 1000000 ))
sql -At -c "SELECT format('%s users, %s team memberships, %s shares, %s licences',
                 (SELECT count(*) FROM seatmgr.users), (SELECT count(*) FROM seatmgr.team_members),
                 (SELECT count(*) FROM seatmgr.shares), (SELECT count(*) FROM seatmgr.licenses))"

say "Seats of each division (seatmgr.division_seats)"
sql -c "SELECT domain, division, product, paid, seat_limit, active, waitlisted, free_seats, cost
          FROM seatmgr.division_seats ORDER BY division_id"

say "Where the licences come from"
sql -c "SELECT d.name AS division, l.status, s.kind AS source, count(DISTINCT l.user_id) AS users
          FROM seatmgr.licenses l JOIN seatmgr.divisions d USING (division_id)
          JOIN seatmgr.license_sources s USING (user_id, division_id)
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"

explain() {  # explain LABEL USER_ID
    printf '\n%s: ' "$1"
    sql -At -c "SELECT email FROM seatmgr.users WHERE user_id = $2"
    sql -c "SELECT e.division_id, d.name AS division, e.status, e.sources, e.verdict
              FROM seatmgr_explain($2) e JOIN seatmgr.divisions d USING (division_id)"
}

say "Who holds which seat, and why (seatmgr_explain)"
team_member=$(sql -At -c "SELECT s.user_id FROM seatmgr.license_sources s JOIN seatmgr.users u USING (user_id)
                           WHERE s.kind = 'team' AND s.division_id = 1 AND NOT u.is_service_account
                           GROUP BY s.user_id HAVING count(*) = 1 ORDER BY s.user_id LIMIT 1")
jo=$(sql -At -c "SELECT s.user_id FROM seatmgr.license_sources s WHERE s.kind = 'share'
                   AND NOT EXISTS (SELECT 1 FROM seatmgr.license_sources t WHERE t.user_id = s.user_id AND t.kind <> 'share')
                 ORDER BY s.user_id LIMIT 1")
waiting=$(sql -At -c "SELECT user_id FROM seatmgr.licenses WHERE status = 'waitlisted' AND division_id = 1
                       ORDER BY granted_at, user_id LIMIT 1")
grouped=$(sql -At -c "SELECT user_id FROM seatmgr.group_members WHERE group_id = 1 AND user_id <> $waiting
                       ORDER BY user_id LIMIT 1")
explain "A member of a paid team (R1)" "$team_member"
explain "Jo, licensed by a share without any team (R2)" "$jo"
explain "First on the Engineering waitlist (R6)" "$waiting"
explain "A member of okta-all-tools, a group granting two products (R3, R7)" "$grouped"

say "Sam is in a team and was also shared a project; she leaves her team (R5)"
sam=$(sql -At -c "SELECT s.user_id FROM seatmgr.license_sources s JOIN seatmgr.license_sources t USING (user_id, division_id)
                   WHERE s.kind = 'share' AND t.kind = 'team' ORDER BY 1 LIMIT 1")
if [ -z "$sam" ]; then
    # give someone both sources first
    sam=$team_member
    sql -q -c "INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id)
               SELECT 'project', 'Roadmap', l.user_id, $sam FROM seatmgr.licenses l
                WHERE l.division_id = 1 AND l.status = 'active' AND l.user_id <> $sam ORDER BY l.user_id LIMIT 1"
fi
explain "Sam before" "$sam"
sql -q -c "DELETE FROM seatmgr.team_members WHERE user_id = $sam"
explain "Sam after leaving every team: the share keeps her seat" "$sam"

say "Preview of a sweep of Engineering: nothing is written (R10)"
sql -c "SELECT action, reason, count(*) FROM seatmgr_run(1, preview => true) GROUP BY 1, 2 ORDER BY 1, 2"
sql -c "SELECT email, action, reason, last_active_at::date FROM seatmgr_run(1, preview => true) LIMIT 8"

say "The real run (R7, R8, R12)"
sql -c "SELECT action, reason, count(*) FROM seatmgr_run(1) GROUP BY 1, 2 ORDER BY 1, 2"
run_id=$(sql -At -c "SELECT max(run_id) FROM seatmgr.runs")

say "Run history (seatmgr.run_history) and seats after the run"
sql -c "SELECT run_id, run_date::timestamp(0), division, trigger, status, users_added, users_deactivated, duration
          FROM seatmgr.run_history ORDER BY run_id"
sql -c "SELECT division, seat_limit, active, deactivated, waitlisted, free_seats, cost
          FROM seatmgr.division_seats WHERE division_id = 1"

say "CSV export of run $run_id"
csv=$TOP/seatmgr-run-$run_id.csv
sql -q -c "\\copy (SELECT * FROM seatmgr_run_export($run_id)) TO '$csv' CSV HEADER"
printf '%s: %s lines\n' "$csv" "$(wc -l < "$csv")"
head -5 "$csv"

say "Scheduling with pg_cron (R11)"
sql -c "SELECT division, enabled, run_every, estimated_next_run::timestamp(0), last_run_at::timestamp(0)
          FROM seatmgr.next_runs ORDER BY division_id"
echo "pg_cron lives in database postgres (cron.database_name); from $DB seatmgr_schedule() says how to schedule:"
{ sql -c "SELECT seatmgr_schedule()" 2>&1 || true; } | sed -n 's/^\(ERROR\|HINT\): */  \1: /p'
psql -X -q -d postgres -c 'CREATE EXTENSION IF NOT EXISTS pg_cron'
psql -X -d postgres -c "SELECT cron.schedule_in_database('seatmgr_sweep:$DB', '*/10 * * * *', 'CALL public.seatmgr_sweep()', '$DB') AS jobid"
psql -X -d postgres -c "SELECT jobid, jobname, schedule, command, database FROM cron.job"

if [ "${1:-}" = "--keep" ]; then
    trap - EXIT
    say "The cluster keeps running: psql -h $CLUSTER -p $PGPORT -U postgres $DB"
    echo "Stop it with: runuser -u postgres -- $PGBIN/pg_ctl -D $CLUSTER/data stop"
fi
