/*
 * seatmgr.c: module entry point.
 */
#include "seatmgr.h"

#include "fmgr.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	/* shared memory and GUCs arrive with the sweep */
}
