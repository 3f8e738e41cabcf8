#!/usr/bin/env bash
# The seatmgr demo, end to end: installs what it needs, builds and installs
# the extension, starts a throwaway cluster under the checkout (.cluster/demo,
# pg_cron and seatmgr preloaded), loads a sample organization
# (scripts/sample_org.sql), shows who holds which seat and why, changes a few
# things live, then previews and runs a sweep and shows its history.
#   usage: scripts/demo.sh [--keep]     (as root on Debian 12; port $PGPORT, default 5499)
#   --keep leaves the cluster running and prints how to connect to it.
source "$(dirname "$0")/common.sh"

keep=false
case "${1:-}" in
    --keep) keep=true ;;
    "") ;;
    *) echo "usage: $0 [--keep]" >&2; exit 2 ;;
esac
started=$(date +%s)

install_packages
build_install
start_cluster demo
DB=seatmgr_demo
psql -X -q -d postgres -c "CREATE DATABASE $DB"
sql() { psql -X -d $DB -v ON_ERROR_STOP=1 -P footer=off "$@"; }
val() { sql -At -c "$1"; }
uid() { val "SELECT user_id FROM seatmgr.users WHERE email = '$1'"; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

explain() {  # explain "what this shows" EMAIL
    printf '\n%s\n' "$1"
    sql -c "SELECT u.email, d.name AS division, e.status, e.sources, e.verdict
              FROM seatmgr.users u, seatmgr_explain(u.user_id) e
              JOIN seatmgr.divisions d USING (division_id)
             WHERE u.email = '$2' ORDER BY e.division_id"
}

say "CREATE EXTENSION seatmgr CASCADE; a sample organization (scripts/sample_org.sql)"
sql -q -c 'CREATE EXTENSION seatmgr CASCADE'
t0=$(date +%s%N)
sql -q -f "$TOP/scripts/sample_org.sql" >/dev/null
printf 'loaded in %d ms, every row through the triggers: ' "$(ms_since "$t0")"
val "SELECT format('%s users in %s domains, %s team memberships, %s shares, %s group memberships: %s licences',
            (SELECT count(*) FROM seatmgr.users), (SELECT count(*) FROM seatmgr.domains),
            (SELECT count(*) FROM seatmgr.team_members), (SELECT count(*) FROM seatmgr.shares),
            (SELECT count(*) FROM seatmgr.group_members), (SELECT count(*) FROM seatmgr.licenses))"

say "Seats of each division (seatmgr.division_seats)"
echo "acme.com is a mixed domain: Engineering is full and queues newcomers, Marketing refuses them"
echo "(on_full = 'error'), Sales has no limit, Community is not paid. globex.com is another customer."
sql -c "SELECT domain, division, product, paid, seat_limit, active, waitlisted, free_seats, seat_price, cost
          FROM seatmgr.division_seats ORDER BY division_id"

say "Who holds which seat, and why (seatmgr_explain)"
explain "Ben accepted an invite to the Platform team, a paid team of Engineering (R1):" ben.okafor@acme.com
explain "Jo is in no team; Sam shared a project with her, so the share is her seat (R2, Asana's Jo):" jo.park@acme.com
explain "Ana joined the Mobile team yesterday, when Engineering was full: she waits (R6):" ana.ruiz@acme.com
val "SELECT format('Ana is %s of %s on the Engineering waitlist (oldest first)', pos, n)
       FROM (SELECT user_id, row_number() OVER (ORDER BY granted_at, user_id) AS pos, count(*) OVER () AS n
               FROM seatmgr.licenses WHERE division_id = 1 AND status = 'waitlisted') w
      WHERE user_id = $(uid ana.ruiz@acme.com)"
explain "Raj is in the identity provider's group \"Jira+Trello\", which grants two divisions of two products (R3):" raj.patel@acme.com

say "Sam leaves her team, and keeps the seat a share gives her (R5)"
sam=$(uid sam.lee@acme.com)
explain "Before: a team and a share (Ben shared a goal with her)" sam.lee@acme.com
echo
echo "DELETE FROM seatmgr.team_members WHERE user_id = $sam;"
sql -q -c "DELETE FROM seatmgr.team_members WHERE user_id = $sam"
explain "After: the share is left, so the licence stays" sam.lee@acme.com

say "An admin takes a seat back: the first on the waitlist gets it (R4, R6)"
gone=$(val "SELECT l.user_id FROM seatmgr.licenses l JOIN seatmgr.users u USING (user_id)
             WHERE l.division_id = 1 AND l.status = 'active' AND NOT u.is_admin AND NOT u.is_service_account
               AND u.last_active_at IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM seatmgr.license_sources s
                                WHERE s.user_id = l.user_id AND s.division_id = 1 AND s.kind <> 'team')
             ORDER BY u.last_active_at, u.user_id LIMIT 1")
val "SELECT format('%s has not been active since %s.', email, last_active_at::date) FROM seatmgr.users WHERE user_id = $gone"
echo "SELECT seatmgr_remove_license($gone, 1);"
sql -q -c "SELECT seatmgr_remove_license($gone, 1)" >/dev/null
val "SELECT format('The seat went to %s, first on the waitlist; Ana is now %s of %s.',
            (SELECT u.email FROM seatmgr.license_events e JOIN seatmgr.users u USING (user_id)
              WHERE e.division_id = 1 AND e.event = 'granted' ORDER BY e.event_id DESC LIMIT 1),
            pos, n)
       FROM (SELECT user_id, row_number() OVER (ORDER BY granted_at, user_id) AS pos, count(*) OVER () AS n
               FROM seatmgr.licenses WHERE division_id = 1 AND status = 'waitlisted') w
      WHERE user_id = $(uid ana.ruiz@acme.com)"

say "Domains are isolated: every rule stays inside one domain"
echo "Sam shares a project with someone at globex.com: allowed, and it gives nothing (R2)."
sql -q -c "INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id)
           VALUES ('project', 'Joint venture', $sam, $(uid user1@globex.com))"
val "SELECT format('user1@globex.com holds %s licence(s) at acme.com', count(*))
       FROM seatmgr.licenses l JOIN seatmgr.divisions d USING (division_id)
      WHERE l.user_id = $(uid user1@globex.com) AND d.domain_id = 1"
echo "Adding them to an acme.com team is refused:"
{ sql -c "INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, $(uid user1@globex.com))" 2>&1 || true; } | sed 's/^/  /'

say "Licences by division, status and source (a licence with two sources counts under both)"
sql -c "SELECT d.name AS division, l.status, s.kind AS source, count(*) AS licences
          FROM seatmgr.licenses l JOIN seatmgr.divisions d USING (division_id)
          JOIN seatmgr.license_sources s USING (user_id, division_id)
         GROUP BY d.division_id, d.name, l.status, s.kind ORDER BY d.division_id, 2, 3"

say "The last 10 licence events (seatmgr.license_events)"
echo "Every change leaves one, with the role that caused it; a seat given from the waitlist has no source."
sql -c "SELECT e.event_id, e.at::timestamp(0) AS at, u.email, d.name AS division, e.event,
               e.source_kind, e.source_ref, e.actor
          FROM seatmgr.license_events e JOIN seatmgr.users u USING (user_id)
          JOIN seatmgr.divisions d USING (division_id)
         ORDER BY e.event_id DESC LIMIT 10"

# --- sweep (issue 3) ---
say "Preview of a sweep of Engineering: what a run would do now, nothing is written (R10)"
echo "Policy: take seats from people inactive for 90 days, give free seats to people active within 30 days."
sql -c "SELECT action, reason, count(*) FROM seatmgr_run(1, preview => true) GROUP BY 1, 2 ORDER BY 1, 2"
echo "Two of each, in the run's order:"
sql -c "SELECT email, action, reason, last_active_at::date
          FROM (SELECT p.*, row_number() OVER (PARTITION BY action, reason ORDER BY i) AS n
                  FROM seatmgr_run(1, preview => true) WITH ORDINALITY
                       p(run_id, division_id, user_id, email, action, reason, last_active_at, i)) p
         WHERE n <= 2 ORDER BY i"

# --- notices, answers, undo (issue 10) ---
before_notices=$(val "SELECT clock_timestamp()")
say "Notice before a seat is taken (R14): Marketing warns first"
echo "Marketing's policy gets a notice period. Normally days; 3 seconds here, so the demo need not wait:"
echo "UPDATE seatmgr.policies SET notice_period = '3 seconds' WHERE division_id = 2;"
sql -q -c "UPDATE seatmgr.policies SET notice_period = '3 seconds' WHERE division_id = 2"
sql -c "SELECT action, reason, count(*) FROM seatmgr_run(2) GROUP BY 1, 2 ORDER BY 1, 2"
echo "Nobody lost a seat; each idle person has an open notice (seatmgr.notices), and a 'warned' event:"
sql -c "SELECT n.notice_id, u.email, n.deadline - n.issued_at AS notice, n.answer, n.outcome
          FROM seatmgr.notices n JOIN seatmgr.users u USING (user_id)
         WHERE n.division_id = 2 ORDER BY n.notice_id LIMIT 3"
n1=$(val "SELECT notice_id FROM seatmgr.notices WHERE division_id = 2 ORDER BY notice_id LIMIT 1")
n2=$(val "SELECT notice_id FROM seatmgr.notices WHERE division_id = 2 ORDER BY notice_id LIMIT 1 OFFSET 1")
echo "The first answers 'keep', the second 'release' (R15); the others do not answer:"
echo "SELECT seatmgr_answer_notice($n1, 'keep'), seatmgr_answer_notice($n2, 'release');"
sql -c "SELECT seatmgr_answer_notice($n1, 'keep') AS first, seatmgr_answer_notice($n2, 'release') AS second"
echo "Answering again is refused:"
{ sql -c "SELECT seatmgr_answer_notice($n1, 'release')" 2>&1 || true; } | grep -v '^CONTEXT:' | sed 's/^/  /'
sleep 3
echo "The deadline has passed for the others: the next run takes their seats."
run2=$(val "SELECT run_id FROM seatmgr_run(2) LIMIT 1")
sql -c "SELECT action, reason, count(*) FROM seatmgr.run_changes WHERE run_id = $run2 GROUP BY 1, 2 ORDER BY 1, 2"
sql -c "SELECT outcome, count(*) FROM seatmgr.notices WHERE division_id = 2 GROUP BY 1 ORDER BY 1"

say "Undo a run (R16): SELECT * FROM seatmgr_undo_run($run2);"
echo "The seats that run took went to recently active people at once (R8), so Marketing is full:"
echo "the licences given back wait on the waitlist (an undo never fails on capacity, R6)."
sql -c "SELECT action, reason, count(*) FROM seatmgr_undo_run($run2) GROUP BY 1, 2 ORDER BY 1, 2"
sql -c "SELECT l.status, count(*) FROM seatmgr.licenses l
         WHERE l.division_id = 2 AND l.user_id IN
               (SELECT user_id FROM seatmgr.run_changes WHERE run_id = $run2 AND action = 'deactivated')
         GROUP BY 1 ORDER BY 1"
sql -c "SELECT run_id, division, trigger, status, users_added, users_deactivated, users_warned, seat_change,
               monthly_cost_change
          FROM seatmgr.run_history WHERE division = 'Marketing' ORDER BY run_id"

say "Every policy runs now (R7, R8, R12): SELECT * FROM seatmgr_run();"
t0=$(date +%s%N)
sql -c "SELECT d.name AS division, r.action, r.reason, count(*)
          FROM seatmgr_run() r JOIN seatmgr.divisions d USING (division_id)
         GROUP BY d.division_id, d.name, r.action, r.reason ORDER BY d.division_id, 2, 3"
printf '%s runs in %d ms\n' "$(val "SELECT count(*) FROM seatmgr.runs")" "$(ms_since "$t0")"

say "Run history (seatmgr.run_history) and seats after the runs"
sql -c "SELECT run_id, run_date::timestamp(0), division, trigger, status, users_added, users_deactivated
          FROM seatmgr.run_history ORDER BY run_id"
sql -c "SELECT domain, division, seat_limit, active, deactivated, waitlisted, free_seats, cost
          FROM seatmgr.division_seats WHERE paid ORDER BY division_id"
explain "Ana got a seat from the waitlist:" ana.ruiz@acme.com
explain "Raj kept both, although inactive: his group grants two products (Trello's exception):" raj.patel@acme.com

# --- money and time (issue 10) ---
say "What would another policy do? (seatmgr_simulate writes nothing)"
echo "Engineering with 60 days instead of 90, and a 14-day notice:"
sql -c "SELECT * FROM seatmgr_simulate(1, revoke_inactive_after => '60 days', grant_active_within => '30 days',
                                        notice_period => '14 days')"
sql -c "SELECT * FROM seatmgr_simulate(1, '60 days', '30 days')"

say "Billable users, as Atlassian counts them (seatmgr.billable_users): once per domain"
sql -c "SELECT domain, count(*) AS billable_users, sum(monthly_cost) AS monthly_cost
          FROM seatmgr.billable_users GROUP BY domain ORDER BY domain"

say "Idle seats still paid for (seatmgr.idle_seats)"
sql -c "SELECT division, count(*) AS idle_seats, sum(seat_price) AS monthly_savings
          FROM seatmgr.idle_seats GROUP BY division ORDER BY division"

say "Seats at a past moment, and what the seats cost (seatmgr_seats_at, seatmgr_cost)"
echo "Both read seatmgr.license_events: history starts when seatmgr recorded each licence (the import"
echo "above, seconds ago; imported dates live in granted_at only). Seats before the Marketing story, and now:"
sql -c "SELECT d.name AS division, b.active AS before_notices, n.active AS now
          FROM seatmgr_seats_at('$before_notices') b JOIN seatmgr_seats_at(now()) n USING (division_id)
          JOIN seatmgr.divisions d USING (division_id) ORDER BY division_id"
echo "What the seats cost since the import (seat_price per 30 days, prorated to the second):"
sql -c "SELECT division, round(seat_days, 4) AS seat_days, round(cost, 4) AS cost
          FROM seatmgr_cost(now() - interval '1 hour', now()) ORDER BY division_id"

run_id=$(val "SELECT run_id FROM seatmgr.run_history WHERE division = 'Engineering' ORDER BY run_id DESC LIMIT 1")
say "CSV export of run $run_id: \\copy (SELECT * FROM seatmgr_run_export($run_id)) TO 'run-$run_id.csv' CSV HEADER"
csv=$CLUSTER/seatmgr-run-$run_id.csv
sql -q -c "\\copy (SELECT * FROM seatmgr_run_export($run_id)) TO '$csv' CSV HEADER"
printf '%s: %s lines\n' "$csv" "$(wc -l < "$csv")"
head -4 "$csv"

say "Scheduling with pg_cron (R11)"
sql -c "SELECT division, enabled, run_every, estimated_next_run::timestamp(0), last_run_at::timestamp(0)
          FROM seatmgr.next_runs ORDER BY division_id"
echo "pg_cron lives in database postgres (cron.database_name); from $DB, seatmgr_schedule() says what to run there:"
{ sql -c "SELECT seatmgr_schedule()" 2>&1 || true; } | grep -v '^CONTEXT:' | sed 's/^/  /'
psql -X -q -d postgres -c 'CREATE EXTENSION IF NOT EXISTS pg_cron'
psql -X -q -d postgres -At -c "SELECT cron.schedule_in_database('seatmgr_sweep:$DB', '*/10 * * * *', 'CALL public.seatmgr_sweep()', '$DB')" >/dev/null
psql -X -d postgres -P footer=off -c "SELECT jobid, jobname, schedule, command, database FROM cron.job"

say "Done in $(( $(date +%s) - started )) s"
if $keep; then
    trap - EXIT
    echo "The cluster keeps running (pg_cron sweeps every 10 minutes). Connect with:"
    echo "  psql -h $CLUSTER -p $PGPORT -U postgres $DB"
    echo "Stop it with:"
    echo "  runuser -u postgres -- $PGBIN/pg_ctl -D $CLUSTER/data -m fast stop"
else
    echo "The cluster stops now; scripts/demo.sh --keep leaves it running."
fi
