/*
 * guard.c: what stands between seatmgr's data and everyone else.
 *
 * seatmgr.guard_maintained: a BEFORE STATEMENT trigger on the tables only
 * seatmgr writes (licenses, license_sources, license_events, seat_counts,
 * runs, run_changes).  seatmgr writes them from its own SECURITY DEFINER
 * code, as their superuser owner; any other role is refused whatever
 * privileges it was granted, so nobody forges an event or a seat over the
 * limit (SPEC section 5).  A superuser may still write them: a restore does.
 *
 * seatmgr.guard_drop: an event trigger that refuses DROP EXTENSION seatmgr
 * while licences exist, unless seatmgr.allow_drop_with_licenses is on: the
 * organization of every customer would go with it.
 */
#include "seatmgr.h"

#include "commands/event_trigger.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "nodes/parsenodes.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(seatmgr_guard_maintained);
PG_FUNCTION_INFO_V1(seatmgr_guard_drop);

static bool allow_drop_with_licenses = false;

void
sm_guard_init(void)
{
	DefineCustomBoolVariable("seatmgr.allow_drop_with_licenses",
							 "Allows DROP EXTENSION seatmgr while licenses exist.",
							 "Dropping the extension deletes every customer's organization, licenses and history.",
							 &allow_drop_with_licenses,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
}

Datum
seatmgr_guard_maintained(PG_FUNCTION_ARGS)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || TRIGGER_FIRED_FOR_ROW(trig->tg_event))
		elog(ERROR, "seatmgr.guard_maintained must be a STATEMENT trigger");
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table seatmgr.%s: only seatmgr writes it",
						RelationGetRelationName(trig->tg_relation)),
				 errhint("Change the model (team_members, shares, group_members, group_grants) or call seatmgr_grant_license or seatmgr_remove_license."),
				 errtable(trig->tg_relation)));
	return PointerGetDatum(NULL);
}

static SeatQuery q_count_licenses = {
	"SELECT pg_catalog.count(*) FROM seatmgr.licenses", 0, {0}
};

/*
 * The drop takes its tables in its own order; a delivery worker reading
 * seatmgr.deliveries and then seatmgr.webhooks would deadlock with it.
 * Both are taken first, in the worker's order (docs/locking.md), so the
 * drop waits for the worker's batch instead.  0.1.0 has neither table.
 */
static void
lock_outbox(void)
{
	Oid			nsp = get_namespace_oid("seatmgr", true);
	const char *tables[] = {"deliveries", "webhooks"};

	if (!OidIsValid(nsp))
		return;
	for (size_t i = 0; i < lengthof(tables); i++)
	{
		Oid			rel = get_relname_relid(tables[i], nsp);

		if (OidIsValid(rel))
			LockRelationOid(rel, AccessExclusiveLock);
	}
}

Datum
seatmgr_guard_drop(PG_FUNCTION_ARGS)
{
	EventTriggerData *trig = (EventTriggerData *) fcinfo->context;
	DropStmt   *stmt;
	ListCell   *lc;
	int64		licenses;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "seatmgr.guard_drop must be an event trigger");
	if (!IsA(trig->parsetree, DropStmt))
		PG_RETURN_VOID();
	stmt = (DropStmt *) trig->parsetree;
	if (stmt->removeType != OBJECT_EXTENSION)
		PG_RETURN_VOID();
	foreach(lc, stmt->objects)
	{
		if (strcmp(strVal(lfirst(lc)), "seatmgr") != 0)
			continue;
		lock_outbox();
		if (allow_drop_with_licenses)
			continue;
		SPI_connect();
		sm_exec(&q_count_licenses, NULL, NULL, true, 0);
		licenses = sm_get_int64(0, 1, NULL);
		SPI_finish();
		if (licenses > 0)
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg_plural("cannot drop extension seatmgr: it still holds %lld license",
								   "cannot drop extension seatmgr: it still holds %lld licenses",
								   (unsigned long) licenses, (long long) licenses),
					 errdetail("Dropping it deletes every customer's organization, licenses and history."),
					 errhint("SET seatmgr.allow_drop_with_licenses = on to drop it anyway.")));
	}
	PG_RETURN_VOID();
}
