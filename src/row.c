/*
 * row.c: reading the rows a trigger is given, by column name.
 */
#include "seatmgr.h"

#include "commands/trigger.h"
#include "utils/builtins.h"

Datum
sm_col(Row *r, const char *name, bool *isnull)
{
	int			attno = SPI_fnumber(r->desc, name);

	if (attno <= 0)
		elog(ERROR, "seatmgr: column \"%s\" not found", name);
	return SPI_getbinval(r->tuple, r->desc, attno, isnull);
}

int64
sm_col_int64(Row *r, const char *name, bool *isnull)
{
	bool		n;
	Datum		d = sm_col(r, name, &n);

	if (isnull)
		*isnull = n;
	return n ? 0 : DatumGetInt64(d);
}

char *
sm_col_text(Row *r, const char *name)
{
	bool		n;
	Datum		d = sm_col(r, name, &n);

	return n ? NULL : TextDatumGetCString(d);
}

bool
sm_col_bool(Row *r, const char *name)
{
	bool		n;
	Datum		d = sm_col(r, name, &n);

	return !n && DatumGetBool(d);
}

bool
sm_col_changed(Row *o, Row *n, const char *name)
{
	bool		on,
				nn;
	int64		ov = sm_col_int64(o, name, &on);
	int64		nv = sm_col_int64(n, name, &nn);

	return on != nn || ov != nv;
}


/*
 * The rows of a ROW trigger: n is the new row (NULL tuple on DELETE), o the
 * old one (NULL tuple on INSERT).
 */
void
sm_trigger_rows(TriggerData *trig, Row *n, Row *o)
{
	n->desc = o->desc = RelationGetDescr(trig->tg_relation);
	n->tuple = o->tuple = NULL;
	if (TRIGGER_FIRED_BY_INSERT(trig->tg_event))
		n->tuple = trig->tg_trigtuple;
	else if (TRIGGER_FIRED_BY_DELETE(trig->tg_event))
		o->tuple = trig->tg_trigtuple;
	else
	{
		o->tuple = trig->tg_trigtuple;
		n->tuple = trig->tg_newtuple;
	}
}
