#!/usr/bin/env bash
# bench/bench.sh: how fast seatmgr is against plain SQL written by hand, at
# 100,000 and 1,000,000 users (issue 8).
#
#   bench/bench.sh                          # both sizes
#   SIZES=100000 RUNS=5 bench/bench.sh      # one size, medians of 5
#
# Builds and installs seatmgr, starts a throwaway cluster (.cluster/bench),
# and for each size generates a population (bench/generate.sql, SHAPE=one:
# issue 8's single 1,000,000-user domain, 85% licensed through the teams of
# one unlimited division carrying the policy; SHAPE=many: many domains of
# power-law sizes, the policy on their limited divisions), copies seatmgr's
# tables into schema "floor" (bench/floor_setup.sql: same columns, indexes
# and foreign keys, no trigger) and prints, for the sweep of the largest
# division with a policy:
#   floor A    the deactivations and grants alone, plain SQL on the copies (bench/floor_a.sql)
#   floor B    the same compute and the same output rows a run writes (runs,
#              run_changes, licences, events, auto sources, seat counter), plain
#              SQL on the copies (bench/floor_b.sql)
#   peer       a set-based PL/pgSQL implementation of R7/R8 on the copies
#              (bench/peer_plpgsql.sql), run and preview
#   seatmgr    seatmgr_run(division) and seatmgr_run(division, preview => true)
# checking that floor B, the peer and seatmgr make the same change set; then
#   invites    one INSERT of INVITES_PER_1000 new team memberships per 1,000 users
#              (users without a licence in the division first) through seatmgr's
#              triggers against the bare insert of the same output rows into the
#              copies (bench/invite_bulk_bare.sql); and as many invites of users
#              who hold a licence there already (a new source each); and the
#              first INSERT again by an app role (seatmgr_allow), unscoped and
#              scoped to the domain, against the owner (issue 9: row-level security)
#   touch      seatmgr_touch of 100,000 ids against a bare UPDATE of the copy
#   money      a year of licence history (bench/money_history.sql), then
#              seatmgr_seats_at 180 days ago and now (checked against
#              seatmgr.division_seats) and seatmgr_cost of a year and a month
#   memory     peak backend RssAnon (sampled every 10 ms) of a run and a preview
#              (and of floor B and the peer, for reference)
#   predictable  with autovacuum off, five real runs back to back, each after
#              moving a slice of users' activity so it has work, then a bulk
#              load of PRED_INVITES_PER_1000 invites per 1,000 users and a run:
#              each run's time and its ratio to the first
#   pgbench    PGBENCH_TX single-invite transactions from pgbench -c 4 -j 2
#              (bench/invite_one_seatmgr.sql against bench/invite_one_bare.sql)
# and at the end one table with every figure and the ratios issue 8 names.
#
# The sweep, bulk invites, touch and memory measurements run between BEGIN
# and ROLLBACK, after a VACUUM of the tables the measurements write (so that
# none pays for the dead rows of another); the methods take turns in each of
# RUNS rounds and the medians are printed.  Floor B, the peer and seatmgr must
# write the same change set, and both invite paths the same rows: the bench
# says so, or prints both.  The predictability runs commit, which is their
# point (statistics the runs themselves made stale), so they come after; then
# the copies are taken again and pgbench commits the same invites on both
# sides.  No assertion: the bench prints, people judge.
#
# Environment:
#   SIZES="100000 1000000"  RUNS=3  SHAPE=one|many
#   INVITES_PER_1000=85  PGBENCH_TX=10000  PRED_INVITES_PER_1000=300  PRED=1 (0: skip)
#   NOTICES=1 (0: skip)   the sweep with notice_period (R14, issue 10): the first run,
#                         which warns where the run without notices deactivates, and a
#                         later run after the deadlines, which deactivates and closes
#                         the notices of a first run committed earlier (in a copy of
#                         the database), each against the same run without notices, in
#                         elapsed time and in the backend's CPU time (steadier when
#                         other work shares the machine)
#   ONLY_NOTICES=1        measure the sweep and its notices only (skip invites, touch,
#                         memory, predictability and pgbench)
#   PGPORT=5499  BENCH_CLUSTER=bench      the cluster's port and name (.cluster/NAME)
#   BENCH_NO_BUILD=1      use the seatmgr that is installed; do not build or install
#   BENCH_AUTO_EXPLAIN=MS log the plans of statements slower than MS ms, nested ones
#                         included, with EXPLAIN ANALYZE, in .cluster/NAME/log
#                         (timings then include the instrumentation)
#   BENCH_KEEP=1          leave the cluster running at the end
source "$(dirname "$0")/../scripts/common.sh"

SIZES=${SIZES:-"100000 1000000"}
RUNS=${RUNS:-3}
SHAPE=${SHAPE:-one}
INVITES_PER_1000=${INVITES_PER_1000:-85}
PGBENCH_TX=${PGBENCH_TX:-10000}
PRED_INVITES_PER_1000=${PRED_INVITES_PER_1000:-300}
PRED=${PRED:-1}
NOTICES=${NOTICES:-1}
BENCH_CLUSTER=${BENCH_CLUSTER:-bench}
DB=seatmgr_bench
B=$TOP/bench
T0=$(date +%s)

install_packages
[ "${BENCH_NO_BUILD:-0}" = 1 ] || build_install
PKGLIBDIR=$(pg_config --pkglibdir)
SO_MTIME=$(stat -c %Y "$PKGLIBDIR/seatmgr.so")
start_cluster "$BENCH_CLUSTER"
[ "${BENCH_KEEP:-0}" = 1 ] && trap - EXIT
cat >> "$CLUSTER/data/postgresql.conf" <<CONF
shared_buffers = '1GB'
work_mem = '64MB'
maintenance_work_mem = '512MB'
max_wal_size = '8GB'
checkpoint_timeout = '30min'
CONF
if [ -n "${BENCH_AUTO_EXPLAIN:-}" ]; then
    cat >> "$CLUSTER/data/postgresql.conf" <<CONF
session_preload_libraries = 'auto_explain'
auto_explain.log_min_duration = ${BENCH_AUTO_EXPLAIN}
auto_explain.log_nested_statements = on
auto_explain.log_analyze = on
auto_explain.log_buffers = on
CONF
fi
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$CLUSTER/data" -l "$CLUSTER/log" -w restart >/dev/null

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -d $DB -c 'CREATE EXTENSION seatmgr'

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $DB -c "$1"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
elapsed() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) printf "-"; else printf "%.2f", a / b }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ms() { awk -v v="$1" 'BEGIN { if (v == "") printf "-"; else printf "%.0f", v }'; }

# The tables any measurement writes, in both schemas: vacuumed before each
# measurement so that none pays for the rolled-back rows of another.
WRITTEN="licenses license_sources license_events run_changes runs seat_counts team_members users divisions"
vacuum_written() {
    local t list="seatmgr.notices,"   # seatmgr's only: the floors keep no notices
    for t in $WRITTEN; do list="$list seatmgr.$t, floor.$t,"; done
    q "VACUUM ${list%,}" >/dev/null
}

# measure CHECK PSQL_ARGS...: runs the statements of PSQL_ARGS (-c SQL, -f FILE)
# between BEGIN and ROLLBACK with \timing on; sets MS to the sum of their times
# and CHK to the output of CHECK, run untimed before the ROLLBACK.  SETUP, when
# set, is run untimed after BEGIN (e.g. a first run the measured one follows).
measure() {
    local check=$1 out
    shift
    vacuum_written
    out=$(psql -X -q -At -v ON_ERROR_STOP=1 -v div="$div" -d $DB -c 'BEGIN' -c "${SETUP:-SELECT}" -c '\timing on' "$@" \
        -c '\timing off' -c '\echo @@' -c "$check" -c 'ROLLBACK' 2>&1) || die "failed: $* $out"
    MS=$(printf '%s\n' "$out" | sed -n '1,/^@@$/ s/^Time: \([0-9.]*\) ms.*/\1/p' | awk '{ s += $1 } END { printf "%.1f", s }')
    CHK=$(printf '%s\n' "$out" | sed -n '/^@@$/,$ p' | sed '1d' | tr '\n' ' ' | sed 's/ *$//')
}

# cpu_ms SETUP SQL: the CPU time (user + system, ms, from /proc/self/stat of
# the backend) that SQL costs after SETUP (untimed), between BEGIN and
# ROLLBACK; on a machine shared with other work it varies far less than the
# elapsed time, which waits for the CPU too
CPU_NOW="(SELECT split_part(s, ' ', 14)::bigint + split_part(s, ' ', 15)::bigint FROM pg_catalog.pg_read_file('/proc/self/stat') s)"
CLK_TCK=$(getconf CLK_TCK)
cpu_ms() {
    vacuum_written
    psql -X -q -At -v ON_ERROR_STOP=1 -d $DB -c 'BEGIN' -c "${1:-SELECT}" \
        -c "SELECT set_config('bench.cpu', $CPU_NOW::text, true)" -c "$2" \
        -c "SELECT ($CPU_NOW - current_setting('bench.cpu')::bigint) * 1000 / $CLK_TCK" -c 'ROLLBACK' 2>&1 | tail -1
}

# committed SQL: its time in ms (MS) and output (OUT)
timed_commit() {
    local out
    out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d $DB -c '\timing on' -c "$1" 2>&1) || die "failed: $1 $out"
    MS=$(printf '%s\n' "$out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | awk '{ s += $1 } END { printf "%.1f", s }')
    OUT=$(printf '%s\n' "$out" | sed '/^Time: /d' | tr '\n' ' ' | sed 's/ *$//')
}

# peak RssAnon (kB) of the backend running PSQL_ARGS (-c SQL, -f FILE) inside BEGIN/ROLLBACK
peak_kb() {
    local pidfile; pidfile=$(mktemp)
    vacuum_written
    psql -X -q -d $DB -At -v div="$div" -c 'BEGIN' -c "SELECT pg_backend_pid()" -c "SELECT pg_sleep(0.3)" \
        "$@" -c 'ROLLBACK' >"$pidfile" 2>&1 &
    local psql_pid=$! pid="" peak=0 v
    while [ -z "$pid" ]; do pid=$(head -1 "$pidfile" 2>/dev/null | grep -E '^[0-9]+$' || true); sleep 0.01; done
    while kill -0 $psql_pid 2>/dev/null; do
        v=$(awk '/^RssAnon/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
        [ -n "$v" ] && [ "$v" -gt "$peak" ] && peak=$v
        sleep 0.01
    done
    wait $psql_pid || true
    rm -f "$pidfile"
    echo $peak
}

# the change set a run wrote, by action and reason (schema, run id)
changes_of() {
    echo "SELECT string_agg(action || '/' || reason || '=' || n, '; ' ORDER BY action, reason)
            FROM (SELECT action, reason, count(*) AS n FROM $1.run_changes
                   WHERE run_id = (SELECT max(run_id) FROM $1.runs) GROUP BY 1, 2) c"
}
# "deactivated/added/skipped" of a change set written by changes_of
summary() {
    printf '%s\n' "$1" | sed 's/; /\n/g' | awk -F'[/=]' '{ n[$1] += $3 }
        END { printf "%d/%d/%d", n["deactivated"], n["added"], n["skipped"] }'
}
# "deactivated/added/warned/skipped" of a change set written by changes_of
summary_n() {
    printf '%s\n' "$1" | sed 's/; /\n/g' | awk -F'[/=]' '{ n[$1] += $3 }
        END { printf "%d/%d/%d/%d", n["deactivated"], n["added"], n["warned"], n["skipped"] }'
}
# the rows a division's licences, sources and events hold (schema, division)
rows_of() {
    echo "SELECT 'licences=' || (SELECT count(*) FROM $1.licenses WHERE division_id = $2)
              || ' active=' || (SELECT count(*) FROM $1.licenses WHERE division_id = $2 AND status = 'active')
              || ' sources=' || (SELECT count(*) FROM $1.license_sources WHERE division_id = $2)
              || ' memberships=' || (SELECT count(*) FROM $1.team_members)
              || ' events=' || (SELECT coalesce(string_agg(event || ':' || n, ','), '') FROM
                   (SELECT event, count(*) AS n FROM $1.license_events WHERE division_id = $2 GROUP BY 1 ORDER BY 1) e)"
}

declare -A R   # R[size,key]: every figure, for the table at the end

printf '\nseatmgr %s bench on %s (%s cores, load average %s), PostgreSQL %s, shape %s, %s rounds, medians\n' \
    "$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$TOP/seatmgr.control")" \
    "$(uname -m)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(q 'SHOW server_version')" "$SHAPE" "$RUNS"
[ -n "${BENCH_AUTO_EXPLAIN:-}" ] && printf 'auto_explain on (statements over %s ms, in %s): timings include its instrumentation\n' \
    "$BENCH_AUTO_EXPLAIN" "$CLUSTER/log"

for n in $SIZES; do
    say "$n users"
    t0=$(date +%s%N)
    psql -X -q -v ON_ERROR_STOP=1 -d $DB -v users=$n -v shape=$SHAPE -f "$B/generate.sql" >/dev/null 2>&1 \
        || die "generate.sql failed"
    R[$n,generate]=$(elapsed $t0)
    t0=$(date +%s%N)
    psql -X -q -v ON_ERROR_STOP=1 -d $DB -f "$B/floor_setup.sql" >/dev/null
    psql -X -q -v ON_ERROR_STOP=1 -d $DB -f "$B/peer_plpgsql.sql" >/dev/null
    psql -X -q -v ON_ERROR_STOP=1 -d $DB -f "$B/invites_setup.sql" >/dev/null
    R[$n,copy]=$(elapsed $t0)
    q 'CHECKPOINT' >/dev/null
    printf 'generate %s s, plain copies %s s\n' "${R[$n,generate]}" "${R[$n,copy]}"

    div=$(q "SELECT p.division_id FROM seatmgr.policies p JOIN seatmgr.divisions d USING (division_id)
             ORDER BY (SELECT count(*) FROM seatmgr.users u WHERE u.domain_id = d.domain_id) DESC, p.division_id LIMIT 1")
    dom=$(q "SELECT domain_id FROM seatmgr.divisions WHERE division_id = $div")
    R[$n,users]=$(q "SELECT count(*) FROM seatmgr.users WHERE domain_id = $dom")
    R[$n,licences]=$(q "SELECT count(*) FROM seatmgr.licenses WHERE division_id = $div")
    printf 'largest division %s: %s users in its domain, %s licences, %s\n' "$div" "${R[$n,users]}" "${R[$n,licences]}" \
        "$(q "SELECT CASE WHEN seat_limit IS NULL THEN 'unlimited' ELSE 'seat_limit ' || seat_limit END FROM seatmgr.divisions WHERE division_id = $div")"

    # 1. the sweep: the methods take turns, RUNS rounds
    declare -a A=() Bf=() C=() Cp=() D=() Dp=()
    for ((r = 1; r <= RUNS; r++)); do
        measure "SELECT 'deactivated=' || count(*) FILTER (WHERE status = 'deactivated' AND deactivated_at = now())
                     || ' added=' || count(*) FILTER (WHERE status = 'active' AND granted_at = now())
                   FROM floor.licenses WHERE division_id = $div" -f "$B/floor_a.sql"
        A+=("$MS"); chk_a=$CHK
        measure "$(changes_of floor)" -f "$B/floor_b.sql"
        Bf+=("$MS"); chk_b=$CHK
        measure "$(changes_of floor)" -c "SELECT count(*) FROM floor.peer_run($div)"
        C+=("$MS"); chk_c=$CHK
        measure "$(changes_of seatmgr)" -c "SELECT count(*) FROM seatmgr_run($div)"
        D+=("$MS"); chk_d=$CHK
        measure "SELECT 1" -c "SELECT count(*) FROM floor.peer_run($div, preview => true)"
        Cp+=("$MS")
        measure "SELECT 1" -c "SELECT count(*) FROM seatmgr_run($div, preview => true)"
        Dp+=("$MS")
        printf 'round %d: floor A %s ms, floor B %s ms, peer %s ms (preview %s), seatmgr %s ms (preview %s)\n' \
            $r "$(ms ${A[-1]})" "$(ms ${Bf[-1]})" "$(ms ${C[-1]})" "$(ms ${Cp[-1]})" "$(ms ${D[-1]})" "$(ms ${Dp[-1]})"
    done
    R[$n,floor_a]=$(median "${A[@]}"); R[$n,floor_b]=$(median "${Bf[@]}")
    R[$n,peer]=$(median "${C[@]}"); R[$n,peer_preview]=$(median "${Cp[@]}")
    R[$n,run]=$(median "${D[@]}"); R[$n,preview]=$(median "${Dp[@]}")
    R[$n,changes]=$(summary "$chk_d")
    if [ "$chk_b" = "$chk_d" ] && [ "$chk_c" = "$chk_d" ]; then
        R[$n,same]="yes"
    else
        R[$n,same]="NO"
        printf 'CHANGE SETS DIFFER:\n  floor B %s\n  peer    %s\n  seatmgr %s\n' "$chk_b" "$chk_c" "$chk_d"
    fi
    printf 'change sets (deactivated/added/skipped): floor A %s, floor B %s, peer %s, seatmgr %s: same: %s\n' \
        "$(printf '%s' "$chk_a" | sed 's/deactivated=\([0-9]*\) added=\([0-9]*\)/\1\/\2/')" \
        "$(summary "$chk_b")" "$(summary "$chk_c")" "$(summary "$chk_d")" "${R[$n,same]}"

    # 1b. notices (R14): the same division with notice_period set.  "without":
    # the run without notices (it deactivates); "warn": the first run with
    # notices (it opens a notice where the other deactivates); "deadline": a
    # later run once every deadline has passed (it deactivates and closes the
    # notices).  The notices of "deadline" are those of a first run committed
    # earlier, as in life (a run days before; no other write touches them
    # meanwhile): in a copy of the database ($DB_N, made from $DB once the
    # rounds above are done) where that run was committed with a notice period
    # of one second and the deadlines have passed.  Its rounds take turns with
    # those of "without" and "warn" in $DB; each is rolled back.
    if [ "$NOTICES" = 1 ]; then
        declare -a Nw=() Nn=() Nd=() Cw=() Cn=() Cd=()
        # grants off on all three sides: each run then takes (or warns about) the
        # same seats, and the run after the deadlines is compared with a run
        # that does the same deactivations
        N_OFF="UPDATE seatmgr.policies SET grant_active_within = NULL WHERE division_id = $div"
        N_ON="$N_OFF; UPDATE seatmgr.policies SET notice_period = '7 days' WHERE division_id = $div"
        DB_N=${DB}_notices
        psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB_N WITH (FORCE)" \
            -c "CREATE DATABASE $DB_N TEMPLATE $DB" >/dev/null 2>&1 \
            || { sleep 5; psql -X -q -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                                                         WHERE datname = '$DB' AND pid <> pg_backend_pid()" \
                      -c "CREATE DATABASE $DB_N TEMPLATE $DB" >/dev/null; } || die "cannot copy $DB"
        DB=$DB_N q "$N_OFF; UPDATE seatmgr.policies SET notice_period = '1 second' WHERE division_id = $div" >/dev/null
        R[$n,n_opened]=$(DB=$DB_N q "SELECT count(*) FROM seatmgr_run($div) WHERE action = 'warned'")
        sleep 2
        DB=$DB_N q "VACUUM ANALYZE" >/dev/null
        for ((r = 1; r <= RUNS; r++)); do
            SETUP="$N_OFF" measure "$(changes_of seatmgr)" -c "SELECT count(*) FROM seatmgr_run($div)"
            Nw+=("$MS"); chk_nw=$CHK
            SETUP="$N_ON" measure "$(changes_of seatmgr)" -c "SELECT count(*) FROM seatmgr_run($div)"
            Nn+=("$MS"); chk_nn=$CHK
            DB=$DB_N measure "$(changes_of seatmgr); SELECT 'notices closed deactivated=' || count(*) FROM seatmgr.notices WHERE outcome = 'deactivated'" \
                -c "SELECT count(*) FROM seatmgr_run($div)"
            Nd+=("$MS"); chk_nd=$CHK
            Cw+=("$(cpu_ms "$N_OFF" "SELECT count(*) FROM seatmgr_run($div)")")
            Cn+=("$(cpu_ms "$N_ON" "SELECT count(*) FROM seatmgr_run($div)")")
            Cd+=("$(DB=$DB_N cpu_ms "" "SELECT count(*) FROM seatmgr_run($div)")")
            printf 'round %d: run without notices %s ms (CPU %s), first run with notices (warns) %s ms (CPU %s), run after the deadlines %s ms (CPU %s)\n' \
                $r "$(ms ${Nw[-1]})" "${Cw[-1]}" "$(ms ${Nn[-1]})" "${Cn[-1]}" "$(ms ${Nd[-1]})" "${Cd[-1]}"
        done
        psql -X -q -d postgres -c "DROP DATABASE $DB_N WITH (FORCE)" >/dev/null
        R[$n,n_chk_without]=$(summary_n "$chk_nw")
        R[$n,n_without]=$(median "${Nw[@]}"); R[$n,n_warn]=$(median "${Nn[@]}"); R[$n,n_deadline]=$(median "${Nd[@]}")
        R[$n,n_cpu_without]=$(median "${Cw[@]}"); R[$n,n_cpu_warn]=$(median "${Cn[@]}"); R[$n,n_cpu_deadline]=$(median "${Cd[@]}")
        R[$n,n_chk_warn]=$(summary_n "$chk_nn"); R[$n,n_chk_deadline]=$(summary_n "$chk_nd")
        printf 'change sets: without notices %s; first run with notices %s; after the deadlines %s (notices opened by the committed first run: %s)\n' \
            "$chk_nw" "$chk_nn" "$chk_nd" "${R[$n,n_opened]}"
    fi

    # ONLY_NOTICES=1 stops here: sections 2 to 6 are not measured
    if [ "${ONLY_NOTICES:-0}" != 1 ]; then
    # 2. invites into the teams of an unlimited paid division of the domain
    inv_div=$(q "SELECT division_id FROM seatmgr.divisions WHERE domain_id = $dom AND paid AND seat_limit IS NULL
                 ORDER BY division_id <> $div, division_id LIMIT 1")
    ninv=$((n * INVITES_PER_1000 / 1000))
    q "CREATE TABLE bench.invites AS SELECT * FROM bench.pick_invites($inv_div, $ninv)" >/dev/null
    R[$n,invites]=$(q "SELECT count(*) FROM bench.invites")
    R[$n,invites_new]=$(q "SELECT count(*) FROM bench.invites i WHERE NOT EXISTS
                             (SELECT 1 FROM seatmgr.licenses l WHERE l.user_id = i.user_id AND l.division_id = $inv_div)")
    q "ANALYZE bench.invites" >/dev/null
    # the same invites by application roles (issue 9): one with app access to
    # every domain, one scoped to this domain; row-level security applies to them
    # a role with seatmgr privileges cannot be dropped: its grants go first
    q "DO \$\$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_app') THEN
         PERFORM seatmgr_disallow(a.role, a.access, a.domain_id, a.division_id) FROM seatmgr.access a
          WHERE a.role IN ('bench_app'::regrole, 'bench_app_domain'::regrole);
         DROP OWNED BY bench_app, bench_app_domain; END IF; END \$\$;
       DROP ROLE IF EXISTS bench_app; DROP ROLE IF EXISTS bench_app_domain;
       CREATE ROLE bench_app; CREATE ROLE bench_app_domain;
       SELECT seatmgr_allow('bench_app', 'app'); SELECT seatmgr_allow('bench_app_domain', 'app', domain_id => $dom);
       GRANT USAGE ON SCHEMA bench TO bench_app, bench_app_domain;
       GRANT SELECT ON bench.invites TO bench_app, bench_app_domain" >/dev/null
    declare -a Is=() Ib=() Ia=() Id=()
    for ((r = 1; r <= RUNS; r++)); do
        measure "$(rows_of seatmgr $inv_div)" -c "INSERT INTO seatmgr.team_members (team_id, user_id) SELECT team_id, user_id FROM bench.invites"
        Is+=("$MS"); chk_is=$CHK
        measure "$(rows_of floor $inv_div)" -f "$B/invite_bulk_bare.sql"
        Ib+=("$MS"); chk_ib=$CHK
        measure "$(rows_of seatmgr $inv_div)" -c "SET LOCAL ROLE bench_app" \
            -c "INSERT INTO seatmgr.team_members (team_id, user_id) SELECT team_id, user_id FROM bench.invites" -c "RESET ROLE"
        Ia+=("$MS"); chk_ia=$CHK
        measure "$(rows_of seatmgr $inv_div)" -c "SET LOCAL ROLE bench_app_domain" \
            -c "INSERT INTO seatmgr.team_members (team_id, user_id) SELECT team_id, user_id FROM bench.invites" -c "RESET ROLE"
        Id+=("$MS"); chk_id=$CHK
    done
    R[$n,inv_seatmgr]=$(median "${Is[@]}"); R[$n,inv_bare]=$(median "${Ib[@]}")
    R[$n,inv_app]=$(median "${Ia[@]}"); R[$n,inv_app_domain]=$(median "${Id[@]}")
    [ "$chk_ia" = "$chk_is" ] && [ "$chk_id" = "$chk_is" ] && R[$n,inv_app_same]=yes || R[$n,inv_app_same]=NO
    printf 'bulk invites by an app role: unscoped %s ms, domain-scoped %s ms (owner %s ms); same rows: %s\n' \
        "$(ms ${R[$n,inv_app]})" "$(ms ${R[$n,inv_app_domain]})" "$(ms ${R[$n,inv_seatmgr]})" "${R[$n,inv_app_same]}"
    [ "$chk_is" = "$chk_ib" ] && R[$n,inv_same]=yes || R[$n,inv_same]=NO
    printf 'bulk invites: %s (%s new licences) into division %s: seatmgr %s ms, bare %s ms; same rows: %s\n' \
        "${R[$n,invites]}" "${R[$n,invites_new]}" "$inv_div" "$(ms ${R[$n,inv_seatmgr]})" "$(ms ${R[$n,inv_bare]})" "${R[$n,inv_same]}"
    [ "${R[$n,inv_same]}" = yes ] || printf '  seatmgr %s\n  bare    %s\n' "$chk_is" "$chk_ib"

    # the same number of invites of users who already hold a licence there: a source each
    q "CREATE TABLE bench.invites_lic AS SELECT * FROM bench.pick_invites($inv_div, $ninv, 3, true);
       ANALYZE bench.invites_lic" >/dev/null
    R[$n,invites_lic]=$(q "SELECT count(*) FROM bench.invites_lic")
    declare -a Ls=() Lb=()
    for ((r = 1; r <= RUNS; r++)); do
        measure "$(rows_of seatmgr $inv_div)" -c "INSERT INTO seatmgr.team_members (team_id, user_id) SELECT team_id, user_id FROM bench.invites_lic"
        Ls+=("$MS"); chk_ls=$CHK
        measure "$(rows_of floor $inv_div)" -v invites=bench.invites_lic -f "$B/invite_bulk_bare.sql"
        Lb+=("$MS"); chk_lb=$CHK
    done
    R[$n,lic_seatmgr]=$(median "${Ls[@]}"); R[$n,lic_bare]=$(median "${Lb[@]}")
    [ "$chk_ls" = "$chk_lb" ] && R[$n,lic_same]=yes || R[$n,lic_same]=NO
    printf 'bulk invites of licensed users: %s: seatmgr %s ms, bare %s ms; same rows: %s\n' \
        "${R[$n,invites_lic]}" "$(ms ${R[$n,lic_seatmgr]})" "$(ms ${R[$n,lic_bare]})" "${R[$n,lic_same]}"
    [ "${R[$n,lic_same]}" = yes ] || printf '  seatmgr %s\n  bare    %s\n' "$chk_ls" "$chk_lb"

    # 3. activity
    ids="ARRAY(SELECT user_id FROM seatmgr.users ORDER BY user_id LIMIT 100000)"
    declare -a Ts=() Tb=()
    for ((r = 1; r <= RUNS; r++)); do
        measure "SELECT 1" -c "SELECT seatmgr_touch($ids, now())"
        Ts+=("$MS")
        measure "SELECT 1" -c "UPDATE floor.users SET last_active_at = now()
                               WHERE user_id = ANY ($ids) AND (last_active_at IS NULL OR last_active_at < now())"
        Tb+=("$MS")
    done
    R[$n,touch]=$(median "${Ts[@]}"); R[$n,touch_bare]=$(median "${Tb[@]}")
    printf 'touch 100,000 ids: seatmgr_touch %s ms, bare UPDATE %s ms\n' "$(ms ${R[$n,touch]})" "$(ms ${R[$n,touch_bare]})"

    # 3b. money and time (issue 10): a year of licence history, then the
    # seats on a past date and now, and the cost of a year and of a month
    psql -X -q -v ON_ERROR_STOP=1 -d $DB -f "$B/money_history.sql" >/dev/null || die "money_history.sql failed"
    R[$n,events]=$(q "SELECT count(*) FROM seatmgr.license_events")
    declare -a Mp=() Mn=() My=() Mm=()
    for ((r = 1; r <= RUNS; r++)); do
        measure "SELECT 1" -c "SELECT count(*) FROM seatmgr_seats_at(now() - interval '180 days')"; Mp+=("$MS")
        measure "SELECT 1" -c "SELECT count(*) FROM seatmgr_seats_at(now())"; Mn+=("$MS")
        measure "SELECT 1" -c "SELECT count(*) FROM seatmgr_cost(now() - interval '365 days', now())"; My+=("$MS")
        measure "SELECT 1" -c "SELECT count(*) FROM seatmgr_cost(now() - interval '30 days', now())"; Mm+=("$MS")
    done
    R[$n,seats_past]=$(median "${Mp[@]}"); R[$n,seats_now]=$(median "${Mn[@]}")
    R[$n,cost_year]=$(median "${My[@]}"); R[$n,cost_month]=$(median "${Mm[@]}")
    [ "$(q "SELECT string_agg(division_id || ':' || active, ' ' ORDER BY division_id) FROM seatmgr_seats_at(now()) WHERE active > 0")" \
      = "$(q "SELECT string_agg(division_id || ':' || active, ' ' ORDER BY division_id) FROM seatmgr.division_seats WHERE active > 0")" ] \
        && R[$n,seats_same]=yes || R[$n,seats_same]=NO
    printf 'money (%s events): seatmgr_seats_at 180 days ago %s ms, now %s ms (equals division_seats: %s); seatmgr_cost of a year %s ms, of a month %s ms\n' \
        "${R[$n,events]}" "$(ms ${R[$n,seats_past]})" "$(ms ${R[$n,seats_now]})" "${R[$n,seats_same]}" \
        "$(ms ${R[$n,cost_year]})" "$(ms ${R[$n,cost_month]})"

    # 4. memory
    R[$n,mem_run]=$(peak_kb -c "SELECT count(*) FROM seatmgr_run($div)")
    R[$n,mem_preview]=$(peak_kb -c "SELECT count(*) FROM seatmgr_run($div, preview => true)")
    R[$n,mem_floor_b]=$(peak_kb -f "$B/floor_b.sql")
    R[$n,mem_peer]=$(peak_kb -c "SELECT count(*) FROM floor.peer_run($div)")
    printf 'peak backend RssAnon: run %s kB, preview %s kB; floor B %s kB, peer %s kB\n' \
        "${R[$n,mem_run]}" "${R[$n,mem_preview]}" "${R[$n,mem_floor_b]}" "${R[$n,mem_peer]}"

    # 5. predictability: committed runs, autovacuum off, statistics left as the runs leave them
    if [ "$PRED" = 1 ]; then
        q "VACUUM ANALYZE" >/dev/null
        q "ALTER SYSTEM SET autovacuum = off" >/dev/null; q "SELECT pg_reload_conf()" >/dev/null
        # slice k of the domain: its active users go idle (200 days), its idle ones come back
        shift_activity() {
            q "UPDATE seatmgr.users SET last_active_at = now() - interval '200 days'
                WHERE domain_id = $dom AND user_id % 20 = $1 AND last_active_at >= now() - interval '30 days';
               UPDATE seatmgr.users SET last_active_at = now() - interval '1 hour'
                WHERE domain_id = $dom AND user_id % 20 = $1 + 10
                  AND (last_active_at IS NULL OR last_active_at < now() - interval '90 days')" >/dev/null
        }
        run_sql="SELECT coalesce(string_agg(action || '=' || n, ' ' ORDER BY action), 'nothing')
                   FROM (SELECT action, count(*) AS n FROM seatmgr_run($div) GROUP BY 1) c"
        for ((k = 1; k <= 5; k++)); do
            [ $k -gt 1 ] && shift_activity $k
            timed_commit "$run_sql"
            R[$n,pred$k]=$MS
            printf 'predictability run %d: %s ms (%s), %s x the first\n' $k "$(ms $MS)" "$OUT" "$(ratio $MS ${R[$n,pred1]})"
        done
        shift_activity 6
        npred=$((n * PRED_INVITES_PER_1000 / 1000))
        q "CREATE TABLE bench.pred_invites AS SELECT * FROM bench.pick_invites($inv_div, $npred, 11)" >/dev/null
        npred=$(q "SELECT count(*) FROM bench.pred_invites")
        R[$n,npred_new]=$(q "SELECT count(*) FROM bench.pred_invites i WHERE NOT EXISTS
                               (SELECT 1 FROM seatmgr.licenses l WHERE l.user_id = i.user_id AND l.division_id = $inv_div)")
        timed_commit "INSERT INTO seatmgr.team_members (team_id, user_id) SELECT team_id, user_id FROM bench.pred_invites"
        R[$n,pred_load]=$MS
        timed_commit "$run_sql"
        R[$n,pred6]=$MS
        printf 'bulk load of %s invites (%s new licences): %s ms; run after it: %s ms (%s), %s x the first\n' \
            "$npred" "${R[$n,npred_new]}" "$(ms ${R[$n,pred_load]})" "$(ms $MS)" "$OUT" "$(ratio $MS ${R[$n,pred1]})"
        R[$n,npred]=$npred
        q "ALTER SYSTEM RESET autovacuum" >/dev/null; q "SELECT pg_reload_conf()" >/dev/null
    fi
    # 6. single-row invites from pgbench (committed; both sides start from the same
    # rows, the copies taken again, and get the same pairs)
    q "VACUUM ANALYZE" >/dev/null
    [ "$PRED" = 1 ] && psql -X -q -v ON_ERROR_STOP=1 -d $DB -f "$B/floor_setup.sql" >/dev/null
    per_client=$((PGBENCH_TX / 4))
    q "CREATE TABLE bench.q AS SELECT row_number() OVER () AS id, team_id, user_id
         FROM bench.pick_invites($inv_div, $((per_client * 4 * RUNS)), 7);
       CREATE UNIQUE INDEX ON bench.q (id); ANALYZE bench.q; CREATE SEQUENCE bench.q_seq" >/dev/null
    declare -a Ps=() Pb=()
    for ((r = 1; r <= RUNS; r++)); do
        for side in seatmgr bare; do
            q "ALTER SEQUENCE bench.q_seq INCREMENT BY $RUNS MINVALUE 1 RESTART WITH $r" >/dev/null
            vacuum_written
            tps=$(pgbench -n -c 4 -j 2 -t $per_client -f "$B/invite_one_$side.sql" $DB 2>&1 \
                  | sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p')
            [ -n "$tps" ] || die "pgbench $side failed"
            [ $side = seatmgr ] && Ps+=("$tps") || Pb+=("$tps")
        done
    done
    R[$n,tps]=$(median "${Ps[@]}"); R[$n,tps_bare]=$(median "${Pb[@]}")
    [ "$(q "$(rows_of seatmgr $inv_div)")" = "$(q "$(rows_of floor $inv_div)")" ] && R[$n,tps_same]=yes || R[$n,tps_same]=NO
    printf 'pgbench invites (%s transactions, -c 4): seatmgr %.0f tps, bare %.0f tps; same rows: %s\n' \
        $((per_client * 4)) "${R[$n,tps]}" "${R[$n,tps_bare]}" "${R[$n,tps_same]}"

    fi   # ONLY_NOTICES
    q "DROP SCHEMA floor CASCADE; DROP SCHEMA bench CASCADE" >/dev/null 2>&1 || true
done

# The table: every figure, the ratios issue 8 names, its targets
sizes=($SIZES)
row() {  # row LABEL TARGET VALUE-PER-SIZE...
    local label=$1 target=$2 v
    shift 2
    printf '%-52s' "$label"
    for v in "$@"; do printf ' %16s' "$v"; done
    printf '   %s\n' "$target"
}
vals() {  # vals FORMAT-FUNCTION KEY: the figure of KEY for each size
    local f=$1 k=$2 s
    for s in "${sizes[@]}"; do $f "${R[$s,$k]:-}"; echo; done
}
rat() {  # rat KEY-A KEY-B: A / B for each size
    local s
    for s in "${sizes[@]}"; do ratio "${R[$s,$1]:-}" "${R[$s,$2]:-}"; echo; done
}
asis() { printf '%s' "${1:--}"; }
kb() { awk -v v="$1" 'BEGIN { if (v == "") printf "-"; else printf "%.1f MB", v / 1024 }'; }
tps() { awk -v v="$1" 'BEGIN { if (v == "") printf "-"; else printf "%.0f", v }'; }
line() { local label=$1 target=$2; shift 2; local out=(); mapfile -t out < <("$@"); row "$label" "$target" "${out[@]}"; }

printf '\n== seatmgr bench, shape %s, medians of %s rounds (ms unless said); %s cores, load average %s\n\n' \
    "$SHAPE" "$RUNS" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
row "users" "target (issue 8)" "${sizes[@]}"
line "generate the population (s)" "" vals asis generate
line "plain copies for the floors (s)" "" vals asis copy
line "largest division: users in its domain" "" vals asis users
line "largest division: licences" "" vals asis licences
line "change set: deactivated/added/skipped" "" vals asis changes
line "floor B, peer and seatmgr make the same change set" "" vals asis same
line "floor A: deactivations and grants alone" "" vals ms floor_a
line "floor B: same compute + same output rows" "" vals ms floor_b
line "peer: set-based PL/pgSQL, run" "" vals ms peer
line "peer: preview" "" vals ms peer_preview
line "seatmgr: run" "" vals ms run
line "seatmgr: preview" "" vals ms preview
line "run / floor B" "<= 1.3" rat run floor_b
line "run / floor A" "" rat run floor_a
line "run / peer" "" rat run peer
line "peer / floor B" "" rat peer floor_b
line "preview / run" "<= 0.5" rat preview run
if [ "$NOTICES" = 1 ]; then
    line "notices (grants off): run without notice_period" "" vals ms n_without
    line "  its change set: deactivated/added/warned/skipped" "" vals asis n_chk_without
    line "notices: first run with notice_period (warns)" "" vals ms n_warn
    line "  its change set: deactivated/added/warned/skipped" "" vals asis n_chk_warn
    line "notices: run after the deadlines (deactivates)" "" vals ms n_deadline
    line "  its change set: deactivated/added/warned/skipped" "" vals asis n_chk_deadline
    line "notices: warning run / run without" "<= 1.1" rat n_warn n_without
    line "notices: run after the deadlines / run without" "<= 1.1" rat n_deadline n_without
    line "notices: CPU ms of the run without" "" vals asis n_cpu_without
    line "notices: CPU ms of the warning run" "" vals asis n_cpu_warn
    line "notices: CPU ms of the run after the deadlines" "" vals asis n_cpu_deadline
    line "notices: CPU warning run / run without" "<= 1.1" rat n_cpu_warn n_cpu_without
    line "notices: CPU run after the deadlines / run without" "<= 1.1" rat n_cpu_deadline n_cpu_without
fi
line "bulk invites: new memberships" "" vals asis invites
line "bulk invites: of which new licences" "" vals asis invites_new
line "bulk invites: seatmgr" "" vals ms inv_seatmgr
line "bulk invites: bare insert of the same rows" "" vals ms inv_bare
line "bulk invites: same output rows" "" vals asis inv_same
line "bulk invites: seatmgr / bare" "<= 1.5" rat inv_seatmgr inv_bare
line "bulk invites by an app role (unscoped)" "" vals ms inv_app
line "bulk invites by an app role (domain-scoped)" "" vals ms inv_app_domain
line "  same output rows as the owner's" "" vals asis inv_app_same
line "  app (unscoped) / owner" "<= 1.1" rat inv_app inv_seatmgr
line "  app (domain-scoped) / owner" "<= 1.1" rat inv_app_domain inv_seatmgr
line "bulk invites of licensed users (a source each)" "" vals asis invites_lic
line "  seatmgr" "" vals ms lic_seatmgr
line "  bare insert of the same rows" "" vals ms lic_bare
line "  same output rows" "" vals asis lic_same
line "  seatmgr / bare" "<= 1.5" rat lic_seatmgr lic_bare
line "pgbench single invites: seatmgr tps" "" vals tps tps
line "pgbench single invites: bare tps" "" vals tps tps_bare
line "pgbench single invites: same output rows" "" vals asis tps_same
line "pgbench: seatmgr tps / bare tps" ">= 0.5" rat tps tps_bare
line "seatmgr_touch 100,000 ids" "" vals ms touch
line "bare UPDATE of 100,000 users" "" vals ms touch_bare
line "touch / bare UPDATE" "" rat touch touch_bare
line "money: licence events (a year of history)" "" vals asis events
line "seatmgr_seats_at 180 days ago" "" vals ms seats_past
line "seatmgr_seats_at now" "" vals ms seats_now
line "  seats now equal seatmgr.division_seats" "" vals asis seats_same
line "seatmgr_cost of a year" "" vals ms cost_year
line "seatmgr_cost of a month" "" vals ms cost_month
line "peak backend RssAnon: run" "" vals kb mem_run
line "peak backend RssAnon: preview" "" vals kb mem_preview
line "peak backend RssAnon: floor B" "" vals kb mem_floor_b
line "peak backend RssAnon: peer run" "" vals kb mem_peer
if [ "${#sizes[@]}" -gt 1 ]; then
    row "peak RssAnon of a run, ${sizes[-1]} / ${sizes[0]} users" "<= 1.2" \
        "$(ratio "${R[${sizes[-1]},mem_run]:-}" "${R[${sizes[0]},mem_run]:-}")"
fi
if [ "$PRED" = 1 ]; then
    line "predictable: first run (autovacuum off)" "" vals ms pred1
    for k in 2 3 4 5; do
        line "predictable: run $k after new activity / first" "<= 1.5" rat pred$k pred1
    done
    line "predictable: bulk load of invites (count)" "" vals asis npred
    line "predictable: bulk load: of which new licences" "" vals asis npred_new
    line "predictable: bulk load of invites (ms)" "" vals ms pred_load
    line "predictable: run after the bulk load / first" "<= 1.5" rat pred6 pred1
fi
printf '\nbench took %d s\n' $(( $(date +%s) - T0 ))
[ "$(stat -c %Y "$PKGLIBDIR/seatmgr.so")" = "$SO_MTIME" ] \
    || printf 'WARNING: %s changed while the bench ran (the cluster kept the library it started with)\n' "$PKGLIBDIR/seatmgr.so"

