/*
 * util.c: the prepared-plan cache and small helpers every C file uses.
 */
#include "seatmgr.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"

/*
 * Run a query through its kept plan, preparing it on first use.  Plans are
 * kept for the life of the backend; the plan cache re-plans them when the
 * tables they read are dropped and created again.
 */
int
sm_exec(SeatQuery *q, Datum *values, const char *nulls, bool read_only, long tcount)
{
	int			rc;

	if (q->plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(q->sql, q->nargs, q->argtypes);

		if (plan == NULL)
			elog(ERROR, "seatmgr: could not prepare \"%s\": %s",
				 q->sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "seatmgr: could not keep plan");
		q->plan = plan;
	}
	rc = SPI_execute_plan(q->plan, values, nulls, read_only, tcount);
	if (rc < 0)
		elog(ERROR, "seatmgr: query \"%s\" failed: %s", q->sql, SPI_result_code_string(rc));
	return rc;
}

/*
 * Runs a query and returns its first column as an array of ids, read before
 * the caller's next query overwrites SPI_tuptable.
 */
int64 *
sm_exec_ids(SeatQuery *q, Datum *values, uint64 *n)
{
	int64	   *ids;

	sm_exec(q, values, NULL, false, 0);
	*n = SPI_processed;
	ids = palloc(sizeof(int64) * (*n + 1));
	for (uint64 i = 0; i < *n; i++)
		ids[i] = sm_get_int64(i, 1, NULL);
	return ids;
}

Datum
sm_get(int row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

int64
sm_get_int64(int row, int col, bool *isnull)
{
	bool		n;
	Datum		d = sm_get(row, col, &n);

	if (isnull)
		*isnull = n;
	return n ? 0 : DatumGetInt64(d);
}

/* A column as a C string in the caller's memory context, NULL for NULL */
char *
sm_get_text(int row, int col)
{
	bool		n;
	Datum		d = sm_get(row, col, &n);

	return n ? NULL : TextDatumGetCString(d);
}

bool
sm_get_bool(int row, int col)
{
	bool		n;
	Datum		d = sm_get(row, col, &n);

	return !n && DatumGetBool(d);
}

/*
 * The role that caused a change: the outer user, not the owner a SECURITY
 * DEFINER function runs as.
 */
char *
sm_actor(void)
{
	return GetUserNameFromId(GetOuterUserId(), false);
}

void
sm_error_missing(const char *what, int64 id)
{
	ereport(ERROR,
			(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
			 errmsg("%s " INT64_FORMAT " does not exist", what, id)));
}

static SeatQuery q_user_label = {
	"SELECT email FROM seatmgr.users WHERE user_id = $1", 1, {INT8OID}
};

/* "user 5 (sam@acme.com)", for messages */
char *
sm_user_label(int64 user_id)
{
	Datum		v[1] = {Int64GetDatum(user_id)};

	sm_exec(&q_user_label, v, NULL, true, 1);
	if (SPI_processed == 0)
		return psprintf("user " INT64_FORMAT, user_id);
	return psprintf("user " INT64_FORMAT " (%s)", user_id, sm_get_text(0, 1));
}

static SeatQuery q_domain_name = {
	"SELECT name FROM seatmgr.domains WHERE domain_id = $1", 1, {INT8OID}
};

char *
sm_domain_name(int64 domain_id)
{
	Datum		v[1] = {Int64GetDatum(domain_id)};

	sm_exec(&q_domain_name, v, NULL, true, 1);
	if (SPI_processed == 0)
		return psprintf(INT64_FORMAT, domain_id);
	return sm_get_text(0, 1);
}
