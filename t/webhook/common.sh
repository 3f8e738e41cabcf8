# Shared by t/webhooks.t and t/webhook_crash.t: a receiver on 127.0.0.1 that
# verifies every request with the standardwebhooks package (t/webhook/receiver.js).
HOOKDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Ports: SEATMGR_HOOK_PORT (default 5630) and the three after it, on 127.0.0.1
# (webhooks.t: +0, +1, +2 where nothing listens; webhook_crash.t: +3).
HOOKPORT=${SEATMGR_HOOK_PORT:-5630}
# start_receiver PORT DIR: logs to DIR/log, secrets in DIR/secrets
start_receiver() {
    (cd "$HOOKDIR" && LOG="$2/log" SECRETS_FILE="$2/secrets" exec node receiver.js "$1" >"$2/receiver.out" 2>&1) &
    receiver_pid=$!
    wait_for 20 "grep -q listening '$2/receiver.out'"
}
# received DB: loads the receiver's log into table recv(line jsonb) of DB
received() {
    q -d "$1" -c "SET client_min_messages = warning" -c "CREATE TABLE IF NOT EXISTS public.recv (line jsonb)" -c "TRUNCATE public.recv" \
      -c "\\copy public.recv (line) FROM '$dir/log' WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"
}
# settings: ALTER SYSTEM for the delivery worker
hook_settings() {
    q -d postgres -c "ALTER SYSTEM SET seatmgr.webhook_retry_delay = '$1'" \
      -c "ALTER SYSTEM SET seatmgr.webhook_max_attempts = $2" \
      -c "ALTER SYSTEM SET seatmgr.webhook_timeout = '$3'" -c "SELECT pg_reload_conf()" >/dev/null
}
hook_settings_reset() {
    q -d postgres -c "ALTER SYSTEM RESET seatmgr.webhook_retry_delay" -c "ALTER SYSTEM RESET seatmgr.webhook_max_attempts" \
      -c "ALTER SYSTEM RESET seatmgr.webhook_timeout" -c "SELECT pg_reload_conf()" >/dev/null
}
