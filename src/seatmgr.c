/*
 * seatmgr.c: module entry point.
 */
#include "seatmgr.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	sm_guard_init();
	sm_webhooks_init();
	/* after every DefineCustom*Variable of seatmgr */
	MarkGUCPrefixReserved("seatmgr");
	sm_progress_init();
	sm_delivery_init();
	if (process_shared_preload_libraries_in_progress)
		sm_register_launcher();
}
