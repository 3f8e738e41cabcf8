# seatmgr: the one version source is default_version in seatmgr.control.
EXTENSION = seatmgr
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = seatmgr
OBJS = src/seatmgr.o src/util.o src/row.o src/validate.o src/rules.o src/legacy.o src/writer.o src/functions.o src/sweep.o src/progress.o src/worker.o src/guard.o src/access.o src/money.o src/webhooks.o src/deliver.o

# sql/seatmgr.sql is the install script of the current version (pgvector's
# way), sql/update--0.1.0--0.2.0.sql the update; the notices (sql/notices.sql), the money and time objects
# of 0.2.0 (sql/money.sql), its access part (sql/access.sql) and the webhooks
# (sql/webhooks.sql, SPEC section 7) end both, and last the column comments
# (sql/comments.sql), written once for both.  0.1.0's full script stays
# installable for the upgrade test.
DATA = sql/$(EXTENSION)--0.1.0.sql
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql sql/$(EXTENSION)--0.1.0--0.2.0.sql
EXTRA_CLEAN = $(DATA_built)

PG_CPPFLAGS = -I$(srcdir)/src -DSEATMGR_VERSION=\"$(EXTVERSION)\"
SHLIB_LINK = -lcurl -lcrypto

PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers

REGRESS = seatmgr_basic seatmgr_errors seatmgr_money seatmgr_notices seatmgr_native

ISOLATION = seat_limit_race seat_limit_repeatable_read seat_limit_change remove_vs_invite remove_vs_leave sweep_vs_invite two_runs answer_vs_run undo_vs_run

# Long statements live in src/sql/*.sql, readable, and are compiled in as
# string macros (src/sql/NAME.sql.h defines NAME_SQL): see docs/rules.md.
SQL_HEADERS = $(patsubst %.sql,%.sql.h,$(wildcard src/sql/*.sql))
EXTRA_CLEAN += $(SQL_HEADERS)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

sql/$(EXTENSION)--$(EXTVERSION).sql: sql/$(EXTENSION).sql sql/notices.sql sql/money.sql sql/access.sql sql/webhooks.sql sql/comments.sql
	cat $^ > $@

sql/$(EXTENSION)--0.1.0--0.2.0.sql: sql/update--0.1.0--0.2.0.sql sql/notices.sql sql/money.sql sql/access.sql sql/webhooks.sql sql/comments.sql
	cat $^ > $@

$(OBJS): $(SQL_HEADERS)

src/sql/%.sql.h: src/sql/%.sql
	{ printf '#define %s_SQL \\\n' "$$(basename $* | tr a-z A-Z)"; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^\(.*\)$$/"\1\\n" \\/' $<; echo '""'; } > $@
