# Helpers for the bash TAP tests in t/: sourced by each test.
set -u
tap_n=0
tap_failed=0
# ok CONDITION DESCRIPTION: one TAP line; CONDITION is evaluated by the shell
ok() {
    tap_n=$((tap_n + 1))
    if eval "$1"; then
        echo "ok $tap_n - $2"
    else
        echo "not ok $tap_n - $2"
        tap_failed=1
    fi
}
diag() { printf '# %s\n' "$@"; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
# wait_for SECONDS COMMAND: polls COMMAND every second until it succeeds
wait_for() {
    local deadline=$((SECONDS + $1)); shift
    until eval "$@"; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 1
    done
}
