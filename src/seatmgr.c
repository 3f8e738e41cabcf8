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
	/* after every DefineCustom*Variable of seatmgr */
	MarkGUCPrefixReserved("seatmgr");
	sm_progress_init();
	sm_delivery_init();
	if (process_shared_preload_libraries_in_progress)
		sm_register_launcher();
}
