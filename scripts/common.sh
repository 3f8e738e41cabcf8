# Shared by scripts/demo.sh and scripts/test.sh: packages, build, a throwaway cluster.
# Sourced, not run.  Everything runs as root on Debian 12; postgres runs as
# the postgres user in a directory under the checkout.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGVER=15
PGBIN=${PGBIN:-/usr/lib/postgresql/$PGVER/bin}
export PGPORT=${PGPORT:-5499}
export PGUSER=postgres

say() { printf '\n== %s\n' "$*"; }

install_packages() {
    local pkgs="make gcc libc6-dev postgresql-$PGVER postgresql-server-dev-$PGVER
                postgresql-$PGVER-cron postgresql-$PGVER-pgtap pgtap
                libtap-parser-sourcehandler-pgtap-perl libcurl4-openssl-dev libssl-dev
                gettext locales libipc-run-perl"
    local missing=""
    for p in $pkgs; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        say "installing packages:$missing"
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
    fi
    export PATH=$PGBIN:$PATH
    install_locale sv_SE.UTF-8
}

# install_locale NAME: generates a locale that test/sql/seatmgr_sv.sql sets as
# lc_messages (Debian's locales package: uncomment it in /etc/locale.gen and
# run locale-gen).  Only as root and only when it is missing; the server must
# start after it exists.
install_locale() {
    local name=$1
    local short
    short=$(printf '%s' "$name" | sed 's/\.UTF-8$/.utf8/')
    if locale -a 2>/dev/null | grep -qx "$short"; then
        return
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "locale $name is missing and only root can generate it" >&2
        return
    fi
    say "generating the locale $name"
    sed -i "s/^# *$name /$name /" /etc/locale.gen
    grep -q "^$name " /etc/locale.gen || echo "$name UTF-8" >> /etc/locale.gen
    locale-gen >/dev/null
}

# Node and the webhook verifier of t/webhooks.pl (the standardwebhooks package
# from npm, pinned by t/webhook/package-lock.json)
install_node() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        say "installing nodejs and npm"
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm
    fi
    if [ ! -d "$TOP/t/webhook/node_modules/standardwebhooks" ]; then
        say "installing the webhook verifier (npm ci)"
        (cd "$TOP/t/webhook" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

build_install() {
    say "building and installing seatmgr"
    make -C "$TOP" -s with_llvm=no PG_CONFIG="$PGBIN/pg_config"
    make -C "$TOP" -s with_llvm=no PG_CONFIG="$PGBIN/pg_config" install
}

# start_cluster NAME: a fresh cluster in $TOP/.cluster/NAME, pg_cron and seatmgr preloaded
start_cluster() {
    CLUSTER=$TOP/.cluster/$1
    export PGHOST=$CLUSTER
    stop_cluster
    rm -rf "$CLUSTER"
    mkdir -p "$CLUSTER"
    chown postgres: "$CLUSTER"
    # postgres must be able to reach the checkout's cluster directory
    local d=$TOP
    while [ "$d" != / ]; do chmod o+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
    runuser -u postgres -- "$PGBIN/initdb" -D "$CLUSTER/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >> "$CLUSTER/data/postgresql.conf" <<CONF
port = $PGPORT
listen_addresses = ''
unix_socket_directories = '$CLUSTER'
shared_preload_libraries = 'pg_cron,seatmgr'
cron.database_name = 'postgres'
cron.host = '$CLUSTER'
max_prepared_transactions = 10
fsync = off
CONF
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$CLUSTER/data" -l "$CLUSTER/log" -w start >/dev/null
    trap stop_cluster EXIT
}

# copy_for_postgres: $COPY, a copy of the checkout (with t/webhook/node_modules)
# that the postgres user owns, where it runs `make installcheck` and `make
# prove_installcheck` (initdb refuses root; the tests write tmp_check/,
# results/ and output_iso/ in the tree)
copy_for_postgres() {
    COPY=$TOP/.cluster/src
    rm -rf "$COPY"
    mkdir -p "$COPY"
    tar -C "$TOP" --exclude=./.cluster --exclude=./.git -cf - . | tar -C "$COPY" -xf -
    chown -R postgres: "$COPY"
}

# as_postgres COMMAND...: COMMAND as the postgres user, with this environment
# (PATH, PGHOST, PGPORT, SEATMGR_HOOK_PORT...)
as_postgres() {
    runuser -u postgres -- env PATH="$PATH" HOME="${COPY:-$TOP}" "$@"
}

stop_cluster() {
    if [ -n "${CLUSTER:-}" ] && [ -f "$CLUSTER/data/postmaster.pid" ]; then
        runuser -u postgres -- "$PGBIN/pg_ctl" -D "$CLUSTER/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
}
