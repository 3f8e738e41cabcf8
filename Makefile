# seatmgr: the one version source is default_version in seatmgr.control.
EXTENSION = seatmgr
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = seatmgr
OBJS = src/seatmgr.o src/util.o src/row.o src/validate.o src/rules.o src/legacy.o src/writer.o src/functions.o src/sweep.o src/progress.o src/worker.o src/guard.o src/access.o src/money.o src/webhooks.o src/deliver.o

# sql/seatmgr.sql is the install script of the current version (pgvector's
# way), sql/update--0.1.0--0.2.0.sql the update; the notices (sql/notices.sql), what is read of runs
# (sql/runs.sql: run_history, next_runs, the export, the summary), the money and time objects
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

REGRESS = seatmgr_basic seatmgr_errors seatmgr_money seatmgr_notices seatmgr_native seatmgr_sv
REGRESS_OPTS = --inputdir=test

# Perl TAP tests (t/*.pl, PostgreSQL::Test::Cluster): each starts its own
# node, so `make prove_installcheck` (and `make installcheck`, which runs them
# after pg_regress and the isolation specs) work as any non-root user;
# PROVE_TESTS=t/crash.pl runs one.  t/SeatmgrTest.pm holds what they share.
TAP_TESTS = 1

ISOLATION = seat_limit_race seat_limit_repeatable_read seat_limit_change remove_vs_invite remove_vs_leave sweep_vs_invite two_runs answer_vs_run undo_vs_run progress webhook_cache

# Long statements live in src/sql/*.sql, readable, and are compiled in as
# string macros (src/sql/NAME.sql.h defines NAME_SQL): see docs/rules.md.
SQL_HEADERS = $(patsubst %.sql,%.sql.h,$(wildcard src/sql/*.sql))
EXTRA_CLEAN += $(SQL_HEADERS)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

sql/$(EXTENSION)--$(EXTVERSION).sql: sql/$(EXTENSION).sql sql/notices.sql sql/runs.sql sql/money.sql sql/access.sql sql/webhooks.sql sql/comments.sql
	cat $^ > $@

sql/$(EXTENSION)--0.1.0--0.2.0.sql: sql/update--0.1.0--0.2.0.sql sql/notices.sql sql/runs.sql sql/money.sql sql/access.sql sql/webhooks.sql sql/comments.sql
	cat $^ > $@

$(OBJS): $(SQL_HEADERS)

# PGXS defines the recipe but no target of that name
prove_installcheck:
	$(prove_installcheck)
.PHONY: prove_installcheck

src/sql/%.sql.h: src/sql/%.sql
	{ printf '#define %s_SQL \\\n' "$$(basename $* | tr a-z A-Z)"; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^\(.*\)$$/"\1\\n" \\/' $<; echo '""'; } > $@

# Messages in other languages, as PostgreSQL's own modules have them
# (docs/translating.md): po/LANG.po is compiled by msgfmt (which checks that
# each translation keeps its format's % specifiers) and installed as
# LANG/LC_MESSAGES/seatmgr-15.mo under pg_config --localedir, where
# pg_bindtextdomain(TEXTDOMAIN) in _PG_init finds it.  `make update-po`
# extracts every message, hint and detail of src/*.c into po/seatmgr.pot
# (xgettext, with the keywords of PostgreSQL's nls-global.mk) and merges it
# into each po/LANG.po (msgmerge): new messages appear untranslated, changed
# ones fuzzy, until a translator fills them in.
CATALOG_NAME = seatmgr
LANGUAGES = sv
GETTEXT_TRIGGERS = errmsg errmsg_plural:1,2 errdetail errdetail_log errdetail_plural:1,2 \
	errhint errhint_plural:1,2 errcontext gettext_noop sm_ RUN_LOG:2
GETTEXT_FLAGS = errmsg:1:c-format errmsg_plural:1:c-format errmsg_plural:2:c-format \
	errdetail:1:c-format errdetail_log:1:c-format errdetail_plural:1:c-format errdetail_plural:2:c-format \
	errhint:1:c-format errhint_plural:1:c-format errhint_plural:2:c-format errcontext:1:c-format \
	sm_:1:pass-c-format RUN_LOG:2:c-format
MO_FILES = $(LANGUAGES:%=po/%.mo)
EXTRA_CLEAN += $(MO_FILES)

ifeq ($(enable_nls),yes)
all: $(MO_FILES)
install: install-po
uninstall: uninstall-po
endif

po/%.mo: po/%.po
	$(MSGFMT) $(MSGFMT_FLAGS) -o $@ $<

install-po: $(MO_FILES)
	for lang in $(LANGUAGES); do \
	  $(MKDIR_P) '$(DESTDIR)$(localedir)'/$$lang/LC_MESSAGES && \
	  $(INSTALL_DATA) po/$$lang.mo '$(DESTDIR)$(localedir)'/$$lang/LC_MESSAGES/$(CATALOG_NAME)-$(MAJORVERSION).mo || exit 1; \
	done

uninstall-po:
	rm -f $(foreach lang,$(LANGUAGES),'$(DESTDIR)$(localedir)'/$(lang)/LC_MESSAGES/$(CATALOG_NAME)-$(MAJORVERSION).mo)

update-po:
	$(XGETTEXT) -ctranslator --no-wrap --sort-by-file --from-code=UTF-8 \
	  --package-name=$(CATALOG_NAME) --package-version=$(EXTVERSION) \
	  $(addprefix -k,$(GETTEXT_TRIGGERS)) $(addprefix --flag=,$(GETTEXT_FLAGS)) \
	  -o po/$(CATALOG_NAME).pot $(sort $(wildcard src/*.c))
	for lang in $(LANGUAGES); do \
	  $(MSGMERGE) --quiet --no-wrap --previous --sort-by-file --update --backup=none \
	    po/$$lang.po po/$(CATALOG_NAME).pot || exit 1; \
	done
	$(MSGFMT) $(MSGFMT_FLAGS) --statistics -o /dev/null $(LANGUAGES:%=po/%.po)

.PHONY: install-po uninstall-po update-po
