/*
 * seatmgr.c: module entry point.
 */
#include "seatmgr.h"

#include "access/xact.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * seatmgr.log_run_summary: the level of the two lines each real run writes
 * to the server log (src/sweep.c), pg_cron's way (cron.log_min_messages
 * takes the same names); off writes none.
 */
int			sm_log_run_summary = LOG;

static const struct config_enum_entry log_run_summary_options[] = {
	{"debug5", DEBUG5, false},
	{"debug4", DEBUG4, false},
	{"debug3", DEBUG3, false},
	{"debug2", DEBUG2, false},
	{"debug1", DEBUG1, false},
	{"debug", DEBUG2, true},
	{"log", LOG, false},
	{"info", INFO, false},
	{"notice", NOTICE, false},
	{"warning", WARNING, false},
	{"off", 0, false},
	{NULL, 0, false}
};

#ifdef ENABLE_NLS
/*
 * seatmgr's messages come in the database's encoding when their catalogue is
 * bound to it, which pg_bindtextdomain does, but a library preloaded in the
 * postmaster cannot know it yet (a backend that connects rebinds only
 * PostgreSQL's own catalogue, and a database whose LC_CTYPE is C would show
 * each non-ASCII letter as "?").  So a preloaded seatmgr binds
 * again in each backend when the transaction that connects it to its
 * database commits, before any of its messages can be raised.
 */
static bool codeset_bound = false;

static void
bind_codeset(XactEvent event, void *arg)
{
	if (!codeset_bound && OidIsValid(MyDatabaseId))
	{
		(void) pg_bind_textdomain_codeset(TEXTDOMAIN);
		codeset_bound = true;
	}
}
#endif

void
_PG_init(void)
{
	/* seatmgr's messages in the session's lc_messages (po/) */
	pg_bindtextdomain(TEXTDOMAIN);
#ifdef ENABLE_NLS
	if (process_shared_preload_libraries_in_progress)
		RegisterXactCallback(bind_codeset, NULL);
#endif
	sm_guard_init();
	sm_webhooks_init();
	sm_launcher_init();
	DefineCustomEnumVariable("seatmgr.log_run_summary",
							 "Level of the server log lines of each real run (its start and its summary).",
							 "off: none.  Previews log nothing.",
							 &sm_log_run_summary, LOG, log_run_summary_options,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	/* after every DefineCustom*Variable of seatmgr */
	MarkGUCPrefixReserved("seatmgr");
	sm_progress_init();
	sm_delivery_init();
	if (process_shared_preload_libraries_in_progress)
		sm_register_launcher();
}
