/*
 * seatmgr.c: module entry point.
 */
#include "seatmgr.h"

#include "fmgr.h"
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

void
_PG_init(void)
{
	sm_guard_init();
	sm_webhooks_init();
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
