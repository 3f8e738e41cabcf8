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
	MarkGUCPrefixReserved("seatmgr");
	sm_progress_init();
	if (process_shared_preload_libraries_in_progress)
		sm_register_launcher();
}
