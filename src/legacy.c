/*
 * legacy.c: the two trigger functions of 0.1.0's install script.
 *
 * 0.1.0 ran one validation and one rules function on every table and told
 * the tables apart by name.  A database still on 0.1.0 (installed before
 * this library, or by t/upgrade.pl) calls them until ALTER EXTENSION seatmgr
 * UPDATE gives each table its own function; they hand over to those.
 */
#include "seatmgr.h"

#include "commands/trigger.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(seatmgr_validate_row);
PG_FUNCTION_INFO_V1(seatmgr_model_change);

Datum
seatmgr_validate_row(PG_FUNCTION_ARGS)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "seatmgr.validate_row must be a trigger");
	return sm_validate_by_name(fcinfo, RelationGetRelationName(trig->tg_relation));
}

Datum
seatmgr_model_change(PG_FUNCTION_ARGS)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "seatmgr.model_change must be a trigger");
	return sm_rules_by_name(fcinfo, RelationGetRelationName(trig->tg_relation));
}
