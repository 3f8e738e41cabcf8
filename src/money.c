/*
 * money.c: seats and their cost over time (SPEC sections 4 and 9, "Money"
 * and "Times"; docs/money.md): seatmgr_seats_at(at) and
 * seatmgr_cost(from_at, to_at).
 *
 * Both read the spans each licence held a seat from seatmgr.license_spans()
 * (sql/money.sql), the one place that turns seatmgr.license_events into
 * spans; seatmgr.license_periods reads it too.  Both judge their caller
 * (SM_SCOPED_FUNCTION): they run as the owner and return only the divisions
 * the caller's reader or admin grants cover (R20).  A division deleted since
 * has no domain any more to judge a scope by: its history is seen by
 * unscoped callers only, as row-level security does on license_events.
 */
#include "seatmgr.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "access/xact.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

SM_SCOPED_FUNCTION(seats_at)
SM_SCOPED_FUNCTION(cost)

static SeatQuery q_divisions = {
	"SELECT division_id, domain_id FROM seatmgr.divisions ORDER BY division_id", 0, {0}
};

/*
 * The divisions the caller may read, as an array for license_spans(), or
 * NULL (every division, deleted ones included) for an unscoped caller.
 */
static bool
scope_divisions(SmCaller *c, Datum *divisions)
{
	uint64		n;
	Datum	   *ids;
	int			nids = 0;

	if (sm_unscoped(c, SM_READER | SM_ADMIN))
		return false;
	sm_exec(&q_divisions, NULL, NULL, true, 0);
	n = SPI_processed;
	ids = palloc(sizeof(Datum) * (n + 1));
	for (uint64 i = 0; i < n; i++)
	{
		int64		division_id = sm_get_int64(i, 1, NULL);

		if (sm_may(c, SM_READER | SM_ADMIN, sm_get_int64(i, 2, NULL), division_id, false))
			ids[nids++] = Int64GetDatum(division_id);
	}
	*divisions = PointerGetDatum(construct_array(ids, nids, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE));
	return true;
}

/* A time argument: not NULL (22004) and finite (22023), naming it. */
static TimestampTz
time_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	TimestampTz t;

	sm_require_arg(fcinfo, argno, name);
	t = PG_GETARG_TIMESTAMPTZ(argno);
	sm_check_time(name, t, true, NULL, NULL);
	return t;
}

/*
 * Runs q with the caller's divisions as its argument scope_arg (NULL: every
 * division) and returns its rows, every column, as the function's result.
 */
static Datum
scoped_rows(FunctionCallInfo fcinfo, SmCaller *c, SeatQuery *q, Datum *v, char *n, int scope_arg)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum	   *values;
	bool	   *nulls;

	InitMaterializedSRF(fcinfo, 0);
	values = palloc(sizeof(Datum) * rsinfo->setDesc->natts);
	nulls = palloc(sizeof(bool) * rsinfo->setDesc->natts);
	SPI_connect();
	if (!scope_divisions(c, &v[scope_arg]))
		n[scope_arg] = 'n';
	sm_exec(q, v, n, true, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		for (int col = 0; col < rsinfo->setDesc->natts; col++)
			values[col] = sm_get(i, col + 1, &nulls[col]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/*
 * The seats of each division at $1: the spans open then, counted from the
 * events up to $1 only.  Every division of the scope ($2; NULL: all) gets a
 * row, 0 when it had no seat; a deleted division's seats are listed while
 * they were in use (for unscoped callers).
 */
static SeatQuery q_seats_at = {
	"WITH s AS ("
	"  SELECT x.division_id, pg_catalog.count(*) AS active"
	"    FROM seatmgr.license_spans($1, $2) x WHERE x.ended_at IS NULL GROUP BY x.division_id)"
	"SELECT d.division_id, COALESCE(s.active, 0) FROM seatmgr.divisions d"
	"  LEFT JOIN s ON s.division_id = d.division_id"
	" WHERE $2 IS NULL OR d.division_id = ANY ($2)"
	" UNION ALL "
	"SELECT s.division_id, s.active FROM s"
	" WHERE NOT EXISTS (SELECT 1 FROM seatmgr.divisions d WHERE d.division_id = s.division_id)"
	" ORDER BY 1",
	2, {TIMESTAMPTZOID, INT8ARRAYOID}
};

/* seatmgr_seats_at(at): seats in use at any past moment (true-ups). */
static Datum
seats_at(FunctionCallInfo fcinfo, SmCaller *c)
{
	Datum		v[2];
	char		n[3] = "  ";

	v[0] = TimestampTzGetDatum(time_arg(fcinfo, 0, "at"));
	return scoped_rows(fcinfo, c, &q_seats_at, v, n, 1);
}

/*
 * Seat-time of each paid division of the scope ($3; NULL: all) from $1 to $2
 * (least(to_at, now()), or from_at when that is earlier), in seconds: each
 * span clipped to the period.  A price is per seat per 30 days (2,592,000
 * seconds), prorated to the second.
 */
static SeatQuery q_cost = {
	"WITH s AS ("
	"  SELECT x.division_id,"
	"         pg_catalog.sum(EXTRACT(epoch FROM LEAST(COALESCE(x.ended_at, $2), $2) - GREATEST(x.started_at, $1))) AS seconds"
	"    FROM seatmgr.license_spans($2, $3) x"
	"   WHERE x.started_at < $2 AND (x.ended_at IS NULL OR x.ended_at > $1)"
	"   GROUP BY x.division_id)"
	"SELECT d.division_id, d.name,"
	"       pg_catalog.trim_scale(COALESCE(s.seconds, 0) / 86400),"
	"       pg_catalog.trim_scale(d.seat_price * COALESCE(s.seconds, 0) / 2592000)"
	"  FROM seatmgr.divisions d LEFT JOIN s ON s.division_id = d.division_id"
	" WHERE d.paid AND ($3 IS NULL OR d.division_id = ANY ($3))"
	" ORDER BY d.division_id",
	3, {TIMESTAMPTZOID, TIMESTAMPTZOID, INT8ARRAYOID}
};

/* seatmgr_cost(from_at, to_at): what each paid division's seats cost over a period. */
static Datum
cost(FunctionCallInfo fcinfo, SmCaller *c)
{
	Datum		v[3];
	char		n[4] = "   ";
	TimestampTz from_at = time_arg(fcinfo, 0, "from_at");
	TimestampTz to_at = time_arg(fcinfo, 1, "to_at");

	if (from_at > to_at)
	{
		/* timestamptz_to_str returns a static buffer */
		char	   *from_str = pstrdup(timestamptz_to_str(from_at));
		char	   *to_str = pstrdup(timestamptz_to_str(to_at));

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("from_at \"%s\" is later than to_at \"%s\"", from_str, to_str),
				 errhint("Give the start of the period first.")));
	}
	/* only time up to now() counts, and a period after it costs nothing */
	to_at = Max(from_at, Min(to_at, GetCurrentTransactionStartTimestamp()));
	v[0] = TimestampTzGetDatum(from_at);
	v[1] = TimestampTzGetDatum(to_at);
	return scoped_rows(fcinfo, c, &q_cost, v, n, 2);
}
