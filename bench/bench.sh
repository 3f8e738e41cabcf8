#!/usr/bin/env bash
# bench/bench.sh: how fast seatmgr is at 100,000 and 1,000,000 users.
#
#   bench/bench.sh                 # both sizes (about 10 minutes on 2 cores)
#   SIZES="100000" bench/bench.sh  # one size
#
# Builds and installs seatmgr, starts a throwaway cluster, and for each size
# generates a population (bench/generate.sql), then prints medians of
# RUNS runs (default 3) of:
#   1. preview and real run of one sweep of the largest division, and per 1,000 users
#   2. the same change set applied by the fewest plain SQL statements (the floor), and the ratio
#   3. team invites and shares per second with seatmgr's triggers against the same
#      inserts with them disabled, and the ratio
#   4. seatmgr_touch with 100,000 ids in one call against a bare UPDATE
#   5. peak backend memory (RssAnon, sampled every 10 ms) during the sweep
# Every measured statement runs in a transaction that is rolled back, so each
# repetition sees the same data.  No assertion: the bench prints, people judge.
source "$(dirname "$0")/../scripts/common.sh"

SIZES=${SIZES:-"100000 1000000"}
RUNS=${RUNS:-3}
DB=seatmgr_bench

install_packages
build_install
start_cluster bench
cat >> "$CLUSTER/data/postgresql.conf" <<CONF
shared_buffers = '1GB'
work_mem = '64MB'
maintenance_work_mem = '512MB'
max_wal_size = '8GB'
checkpoint_timeout = '30min'
CONF
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$CLUSTER/data" -l "$CLUSTER/log" -w restart >/dev/null

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -d $DB -c 'CREATE EXTENSION seatmgr'

q() { psql -X -q -At -d $DB -c "$1"; }

# time_ms SQL...: milliseconds of the last statement, run between BEGIN and ROLLBACK
time_ms() {
    local out
    out=$(psql -X -d $DB -c 'BEGIN' "${@:1:$#-1}" -c '\timing on' -c "${@: -1}" -c 'ROLLBACK' | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -2 | head -1)
    echo "$out"
}

# median of RUNS measurements of time_ms ARGS
median_ms() {
    local vals=() i
    for ((i = 0; i < RUNS; i++)); do vals+=("$(time_ms "$@")"); done
    printf '%s\n' "${vals[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
per_sec() { awk -v n="$1" -v ms="$2" 'BEGIN { printf "%.0f", n * 1000 / ms }'; }

# peak RssAnon (kB) of the backend running SQL inside BEGIN/ROLLBACK
peak_kb() {
    local pidfile; pidfile=$(mktemp)
    psql -X -q -d $DB -At -c 'BEGIN' -c "SELECT pg_backend_pid()" -c "SELECT pg_sleep(0.3)" \
        -c "$1" -c 'ROLLBACK' >"$pidfile" 2>&1 &
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

printf '\nseatmgr %s bench on %s (%s cores), PostgreSQL %s, %s runs each, medians\n' \
    "$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$TOP/seatmgr.control")" \
    "$(uname -m)" "$(nproc)" "$(q 'SHOW server_version')" "$RUNS"

for n in $SIZES; do
    say "$n users"
    t0=$(date +%s%N)
    psql -X -q -d $DB -v users=$n -f "$TOP/bench/generate.sql" >/dev/null 2>&1
    printf 'generate: %.1f s\n' "$(awk -v a=$t0 -v b=$(date +%s%N) 'BEGIN{print (b-a)/1e9}')"
    q 'CHECKPOINT' >/dev/null

    div=$(q "SELECT p.division_id FROM seatmgr.policies p JOIN seatmgr.divisions d USING (division_id)
             ORDER BY (SELECT count(*) FROM seatmgr.users u WHERE u.domain_id = d.domain_id) DESC LIMIT 1")
    dom_users=$(q "SELECT count(*) FROM seatmgr.users u JOIN seatmgr.divisions d USING (domain_id) WHERE d.division_id = $div")
    changes=$(q "SELECT count(*) FROM seatmgr_run($div, preview => true)")
    printf 'largest division: %s (%s users in its domain, %s licences, %s changes per run)\n' \
        "$div" "$dom_users" "$(q "SELECT count(*) FROM seatmgr.licenses WHERE division_id = $div")" "$changes"

    # 1. the sweep
    prev=$(median_ms "SELECT count(*) FROM seatmgr_run($div, preview => true)")
    run=$(median_ms "SELECT count(*) FROM seatmgr_run($div)")
    printf '1. sweep   preview %8.1f ms  (%.2f ms per 1,000 users)\n' "$prev" "$(awk -v t=$prev -v u=$dom_users 'BEGIN{print t*1000/u}')"
    printf '           run     %8.1f ms  (%.2f ms per 1,000 users)\n' "$run" "$(awk -v t=$run -v u=$dom_users 'BEGIN{print t*1000/u}')"

    # 2. the floor: the same deactivations and grants as two plain statements
    # the change set is computed outside the timed statement: the floor is the apply only
    floor_ms=$(median_ms -c "CREATE TEMP TABLE cs AS SELECT * FROM seatmgr_run($div, preview => true)" \
        "WITH d AS (UPDATE seatmgr.licenses l SET status = 'deactivated', deactivated_at = now()
                      FROM cs WHERE cs.action = 'deactivated' AND l.user_id = cs.user_id AND l.division_id = $div RETURNING 1),
              w AS (UPDATE seatmgr.licenses l SET status = 'active', granted_at = now()
                      FROM cs WHERE cs.reason = 'waitlist' AND cs.action = 'added' AND l.user_id = cs.user_id AND l.division_id = $div RETURNING 1),
              g AS (INSERT INTO seatmgr.licenses (user_id, division_id, status, granted_at)
                    SELECT user_id, $div, 'active', now() FROM cs WHERE cs.reason = 'recently active' AND cs.action = 'added'
                    ON CONFLICT (user_id, division_id) DO UPDATE SET status = 'active' RETURNING 1)
         SELECT (SELECT count(*) FROM d) + (SELECT count(*) FROM w) + (SELECT count(*) FROM g)")
    floor_total=$(awk -v a="$prev" -v b="$floor_ms" 'BEGIN{print a+b}')
    printf '2. floor   compute + apply %8.1f ms (preview %.1f + plain apply %.1f); run / floor = %s\n' \
        "$floor_total" "$prev" "$floor_ms" "$(ratio "$run" "$floor_total")"

    # 3. invites and shares: 10,000 rows with and without seatmgr's triggers
    team=$(q "SELECT t.team_id FROM seatmgr.teams t JOIN seatmgr.divisions d USING (division_id)
              WHERE d.name = 'Software' AND t.domain_id = (SELECT domain_id FROM seatmgr.divisions WHERE division_id = $div)
              ORDER BY t.team_id LIMIT 1")
    invite_sql="INSERT INTO seatmgr.team_members (team_id, user_id)
                SELECT $team, u.user_id FROM seatmgr.users u
                 WHERE u.domain_id = (SELECT domain_id FROM seatmgr.teams WHERE team_id = $team)
                   AND NOT EXISTS (SELECT 1 FROM seatmgr.team_members m WHERE m.team_id = $team AND m.user_id = u.user_id)
                 ORDER BY u.user_id LIMIT 10000"
    # shares need sender and recipient in one domain: the largest one
    share_sql="INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id)
               SELECT 'project', 'bench-' || r.user_id, s.user_id, r.user_id
                 FROM (SELECT l.user_id FROM seatmgr.licenses l WHERE l.division_id = $div AND l.status = 'active' LIMIT 1) s,
                      (SELECT u.user_id FROM seatmgr.users u JOIN seatmgr.divisions d USING (domain_id)
                        WHERE d.division_id = $div ORDER BY u.user_id DESC LIMIT 10000) r
                WHERE r.user_id <> s.user_id"
    # DISABLE TRIGGER USER: seatmgr's triggers off, the foreign keys' checks on
    off="ALTER TABLE seatmgr.team_members DISABLE TRIGGER USER; ALTER TABLE seatmgr.shares DISABLE TRIGGER USER"
    inv_on=$(median_ms "$invite_sql"); inv_off=$(median_ms -c "$off" "$invite_sql")
    sh_on=$(median_ms "$share_sql"); sh_off=$(median_ms -c "$off" "$share_sql")
    printf '3. invites %8s/s with seatmgr, %8s/s bare; ratio %s\n' \
        "$(per_sec 10000 "$inv_on")" "$(per_sec 10000 "$inv_off")" "$(ratio "$inv_on" "$inv_off")"
    printf '   shares  %8s/s with seatmgr, %8s/s bare; ratio %s\n' \
        "$(per_sec 10000 "$sh_on")" "$(per_sec 10000 "$sh_off")" "$(ratio "$sh_on" "$sh_off")"

    # 4. activity
    ids="ARRAY(SELECT user_id FROM seatmgr.users ORDER BY user_id LIMIT 100000)"
    touch_ms=$(median_ms "SELECT seatmgr_touch($ids, now() + interval '1 hour')")
    bare_ms=$(median_ms "UPDATE seatmgr.users SET last_active_at = now() + interval '1 hour' WHERE user_id = ANY ($ids)")
    printf '4. touch   100,000 ids: seatmgr_touch %.1f ms, bare UPDATE %.1f ms; ratio %s\n' \
        "$touch_ms" "$bare_ms" "$(ratio "$touch_ms" "$bare_ms")"

    # 5. memory
    printf '5. memory  peak backend RssAnon during the run: %s kB (preview: %s kB)\n' \
        "$(peak_kb "SELECT count(*) FROM seatmgr_run($div)")" \
        "$(peak_kb "SELECT count(*) FROM seatmgr_run($div, preview => true)")"
done
