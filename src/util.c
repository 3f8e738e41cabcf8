/*
 * util.c: the prepared-plan cache and small helpers every C file uses.
 */
#include "seatmgr.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/tstoreReceiver.h"
#include "funcapi.h"
#include "nodes/params.h"
#include "catalog/pg_type.h"
#include "jit/jit.h"
#include "optimizer/cost.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "catalog/pg_constraint.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "executor/tuptable.h"
#include "utils/guc.h"
#include "utils/rls.h"
#include "fmgr.h"
#include "utils/snapmgr.h"
#include "utils/memutils.h"
#include "lib/stringinfo.h"

/*
 * The settings every statement of seatmgr is parsed and run under.
 *
 * search_path (R21): SECURITY DEFINER functions and triggers already pin
 * it; CALL seatmgr_sweep() (a procedure that commits cannot carry a SET
 * clause), the launcher's clean-up and pg_cron's job inherit whatever the
 * database or role sets, so sm_exec pins it itself around each statement.
 * A hostile now(), operator or function earlier in the caller's path is
 * never seen.
 *
 * work_mem = SM_WORK_MEM for the statements that read a whole division
 * (SeatQuery.bounded): their hash tables and sorts spill past it, so a run's
 * memory does not grow with the division's size (issue 8).
 *
 * jit = off: the change set of a large division costs JIT about a second
 * of compilation for a statement that runs once (issue 8).
 */
#define SM_SAFE_SEARCH_PATH "pg_catalog, pg_temp"

/* Pins the settings; returns the GUC nest level to pop, or -1. */
static int
pin_search_path(SeatQuery *q)
{
	bool		path_ok = namespace_search_path != NULL &&
		strcmp(namespace_search_path, SM_SAFE_SEARCH_PATH) == 0;
	bool		nestloop_ok = q == NULL || !q->no_nestloop || !enable_nestloop;
	bool		bounded = q != NULL && (q->no_nestloop || q->bounded);
	int			level;

	if (path_ok && !jit_enabled && nestloop_ok && !bounded)
		return -1;
	level = NewGUCNestLevel();
	if (bounded)
	{
		(void) set_config_option("work_mem", SM_WORK_MEM,
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
		(void) set_config_option("hash_mem_multiplier", "1",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	}
	if (!nestloop_ok)
		(void) set_config_option("enable_nestloop", "off",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	if (!path_ok)
		(void) set_config_option("search_path", SM_SAFE_SEARCH_PATH,
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	if (jit_enabled)
		(void) set_config_option("jit", "off",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	return level;
}

/* An error pops the level with its (sub)transaction; success pops it here. */
static void
unpin_search_path(int level)
{
	if (level >= 0)
		AtEOXact_GUC(true, level);
}

/*
 * The settings of q pinned for several calls (a cursor and the statements
 * run while it is open, a result tuplestore); pop with sm_unpin_settings.
 */
int
sm_pin_settings(SeatQuery *q)
{
	return pin_search_path(q);
}

void
sm_unpin_settings(int level)
{
	unpin_search_path(level);
}

/*
 * Run a query through its kept plan, preparing it on first use.  Plans are
 * kept for the life of the backend; the plan cache re-plans them when the
 * tables they read are dropped and created again.
 */
static void
prepare(SeatQuery *q)
{
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
}

int
sm_exec(SeatQuery *q, Datum *values, const char *nulls, bool read_only, long tcount)
{
	int			level = pin_search_path(q);
	int			rc;

	prepare(q);
	rc = SPI_execute_plan(q->plan, values, nulls, read_only, tcount);
	if (rc < 0)
		elog(ERROR, "seatmgr: query \"%s\" failed: %s", q->sql, SPI_result_code_string(rc));
	unpin_search_path(level);
	return rc;
}

/* The parameters of a kept plan; nulls as for SPI_execute_plan (NULL: none). */
static ParamListInfo
plan_params(SeatQuery *q, Datum *values, const char *nulls)
{
	ParamListInfo params = makeParamList(q->nargs);

	for (int i = 0; i < q->nargs; i++)
	{
		ParamExternData *prm = &params->params[i];

		prm->value = values[i];
		prm->isnull = nulls != NULL && nulls[i] == 'n';
		prm->pflags = PARAM_FLAG_CONST;
		prm->ptype = q->argtypes[i];
	}
	return params;
}

/* Runs a kept plan whose rows go into the tuplestore store, kept in cxt. */
static int
exec_to_store(SeatQuery *q, Datum *values, const char *nulls, bool read_only,
			  Tuplestorestate *store, MemoryContext cxt)
{
	int			level = pin_search_path(q);
	SPIExecuteOptions options = {0};
	DestReceiver *dest;
	int			rc;

	prepare(q);
	dest = CreateDestReceiver(DestTuplestore);
	SetTuplestoreDestReceiverParams(dest, store, cxt, false, NULL, NULL);
	options.params = plan_params(q, values, nulls);
	options.read_only = read_only;
	options.dest = dest;
	rc = SPI_execute_plan_extended(q->plan, &options);
	if (rc < 0)
		elog(ERROR, "seatmgr: query \"%s\" failed: %s", q->sql, SPI_result_code_string(rc));
	dest->rDestroy(dest);
	unpin_search_path(level);
	return rc;
}

/*
 * Runs a query whose rows go straight into a set-returning function's
 * result (a tuplestore that spills to disk past work_mem), instead of first
 * into SPI_tuptable, which holds every row in memory: a preview of a large
 * division returns hundreds of thousands of rows.  The query's columns must
 * be the function's.
 */
int
sm_exec_into(SeatQuery *q, Datum *values, const char *nulls, bool read_only, ReturnSetInfo *rsinfo)
{
	return exec_to_store(q, values, nulls, read_only, rsinfo->setResult,
						 rsinfo->econtext->ecxt_per_query_memory);
}

/*
 * Runs a query (not read-only: on a snapshot taken now) whose rows go into
 * the tuplestore store, which spills to disk past its size.
 */
int
sm_exec_store(SeatQuery *q, Datum *values, const char *nulls, Tuplestorestate *store)
{
	return exec_to_store(q, values, nulls, false, store, CurrentMemoryContext);
}

/*
 * Runs a read-only query on the latest snapshot, like the foreign key
 * checks do: it sees every committed row even in REPEATABLE READ, so a
 * count that must be exact (R6) is not judged on a stale snapshot.
 */
int
sm_exec_latest(SeatQuery *q, Datum *values, const char *nulls)
{
	int			level = pin_search_path(q);
	int			rc;

	prepare(q);
	CommandCounterIncrement();
	rc = SPI_execute_snapshot(q->plan, values, nulls, GetLatestSnapshot(),
							  InvalidSnapshot, true, false, 0);
	if (rc < 0)
		elog(ERROR, "seatmgr: query \"%s\" failed: %s", q->sql, SPI_result_code_string(rc));
	unpin_search_path(level);
	return rc;
}

/* s with every token replaced by value, palloc'd */
char *
sm_replace_all(const char *s, const char *token, const char *value)
{
	StringInfoData buf;
	const char *p;

	initStringInfo(&buf);
	while ((p = strstr(s, token)) != NULL)
	{
		appendBinaryStringInfo(&buf, s, p - s);
		appendStringInfoString(&buf, value);
		s = p + strlen(token);
	}
	appendStringInfoString(&buf, s);
	return buf.data;
}

/*
 * Whether the schema has seatmgr.notices (0.2.0): a database still on
 * 0.1.0's schema (until ALTER EXTENSION seatmgr UPDATE, as t/upgrade.pl
 * does) runs its sweeps without notices.
 */
bool
sm_has_notices(void)
{
	Oid			ns = get_namespace_oid("seatmgr", true);

	return OidIsValid(ns) && OidIsValid(get_relname_relid("notices", ns));
}

/*
 * The change-set query q, or on 0.1.0's schema its variant legacy (built on
 * first use): no notice_period, an empty set of notices, no
 * seatmgr._progress_tick (0.1.0's seatmgr.progress has no licenses_done).
 */
SeatQuery *
sm_for_schema(SeatQuery *q, SeatQuery *legacy)
{
	if (sm_has_notices())
		return q;
	if (legacy->sql == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
		char	   *sql = sm_replace_all(sm_replace_all(q->sql, "pol.notice_period", "NULL::interval"),
											 "AND seatmgr._progress_tick(l.user_id, u.user_id)", "");

		*legacy = *q;
		legacy->plan = NULL;
		legacy->sql = sm_replace_all(sql, "seatmgr.notices o",
									 "(SELECT NULL::bigint AS user_id, NULL::timestamptz AS deadline,"
									 " NULL::bigint AS domain_id, NULL::bigint AS division_id,"
									 " NULL::timestamptz AS closed_at, NULL::timestamptz AS created_at,"
									 " NULL::bigint AS run_id WHERE false) o");
		MemoryContextSwitchTo(old);
	}
	return legacy;
}

/* SPI_execute_with_args under the pinned search_path, for one-off statements. */
int
sm_exec_sql(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls)
{
	int			level = pin_search_path(NULL);
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);

	if (rc < 0)
		elog(ERROR, "seatmgr: statement failed: %s", SPI_result_code_string(rc));
	unpin_search_path(level);
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

/*
 * The error fields of a row at fault (issue 12), as errtablecol and
 * errtableconstraint set them when a Relation is open: SCHEMA NAME seatmgr,
 * TABLE NAME table, and COLUMN NAME column and CONSTRAINT NAME constraint
 * unless NULL.  ORMs and drivers read them (psycopg's e.diag.table_name;
 * docs/errors.md).  Returns 0, for use in ereport's list.
 */
int
sm_errrow(const char *table, const char *column, const char *constraint)
{
	err_generic_string(PG_DIAG_SCHEMA_NAME, "seatmgr");
	err_generic_string(PG_DIAG_TABLE_NAME, table);
	if (column)
		err_generic_string(PG_DIAG_COLUMN_NAME, column);
	if (constraint)
		err_generic_string(PG_DIAG_CONSTRAINT_NAME, constraint);
	return 0;
}

int
sm_errtable(const char *table)
{
	return sm_errrow(table, NULL, NULL);
}

int
sm_errcolumn(const char *table, const char *column)
{
	return sm_errrow(table, column, NULL);
}

/*
 * The row an error names by an object's kind and id: with table NULL, the
 * object's own table and key ("run" 7: runs.run_id); else the column of a
 * row of table that holds the id (a trigger's row), with the foreign key
 * <table>_<column>_fkey as constraint when it exists, as PostgreSQL's own
 * foreign key errors name theirs.
 */
int
sm_errobject(const char *what, const char *table, const char *column)
{
	size_t		len = strlen(what);
	const char *constraint = NULL;

	if (table == NULL)
		return sm_errcolumn(len > 0 && what[len - 1] == 'y'
							? psprintf("%.*sies", (int) len - 1, what) : psprintf("%ss", what),
							psprintf("%s_id", what));
	if (column)
	{
		Oid			relid = get_relname_relid(table, get_namespace_oid("seatmgr", false));
		char	   *fkey = psprintf("%s_%s_fkey", table, column);

		if (OidIsValid(relid) && OidIsValid(get_relation_constraint_oid(relid, fkey, true)))
			constraint = fkey;
	}
	return sm_errrow(table, column, constraint);
}

/*
 * An unknown id (23503) naming the object; the error fields name the
 * object's table (table NULL) or the row of table whose column holds it.
 */
void
sm_error_missing_in(const char *what, int64 id, const char *table, const char *column)
{
	ereport(ERROR,
			(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
			 errmsg("%s %lld does not exist", sm_(what), (long long) id),
			 sm_errobject(what, table, column)));
}

void
sm_error_missing(const char *what, int64 id)
{
	sm_error_missing_in(what, id, NULL, NULL);
}

/*
 * Times given by callers (activity, memberships, shares, schedules): finite,
 * and unless future_ok at most one minute ahead of the server's clock
 * (SPEC section 5, R21).  The message names the column or argument and the
 * value; the error fields name table.column when the time is one of a row
 * (table NULL: an argument about no row).
 */
void
sm_check_time(const char *what, TimestampTz t, bool future_ok, const char *table, const char *column)
{
	if (TIMESTAMP_NOT_FINITE(t))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite time, not \"%s\"", sm_(what), timestamptz_to_str(t)),
				 table ? sm_errcolumn(table, column) : 0));
	if (!future_ok && t > GetCurrentTimestamp() + 60 * USECS_PER_SEC)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s \"%s\" is in the future", sm_(what), timestamptz_to_str(t)),
				 errhint("Times may be at most one minute ahead of the server's clock."),
				 table ? sm_errcolumn(table, column) : 0));
}

/* A NULL argument of a function is refused, naming it (SPEC section 5). */
void
sm_require_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
}

/*
 * A restore: a superuser session with row_security = off, which pg_dump's
 * output and pg_restore both set and applications have no reason to (RLS
 * never applies to a superuser).  The dump carries the licences, sources,
 * events and runs themselves, so the triggers stand aside instead of
 * deriving them a second time (SPEC section 5: restores are exact).
 * session_replication_role = replica skips the triggers as well.
 */
bool
sm_restoring(void)
{
	return !row_security && superuser_arg(GetOuterUserId());
}

/*
 * Looks keys up in a unique index of a seatmgr table directly: validation
 * and the access checks run for every row written, so no query is planned
 * or run, and no privilege or row-level security of the caller applies.
 * Like the foreign key checks it sees rows committed by others up to now in
 * READ COMMITTED (with self, also this statement's own new rows).  Returns
 * whether a row was found, and its columns fetch_cols (a NULL-terminated
 * list; NULL values read as 0) in fetched.
 */
bool
sm_index_probe(const char *table, const char *index, int nkeys, const int64 *keys,
			   const char *const *fetch_cols, int64 *fetched, bool self)
{
	Oid			nsp = get_namespace_oid("seatmgr", false);
	Oid			relid = get_relname_relid(table, nsp);
	Oid			idxid = get_relname_relid(index, nsp);
	Relation	rel;
	Relation	idx;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	ScanKeyData key[2];
	Snapshot	snapshot;
	bool		found;

	Assert(nkeys <= 2);
	if (!OidIsValid(relid) || !OidIsValid(idxid))
		elog(ERROR, "seatmgr: table seatmgr.%s or its index %s is missing", table, index);
	/* self: also the rows this very statement wrote (a duplicate within one INSERT) */
	snapshot = self ? SnapshotSelf :
		RegisterSnapshot(IsolationUsesXactSnapshot() ? GetActiveSnapshot() : GetLatestSnapshot());
	rel = table_open(relid, AccessShareLock);
	idx = index_open(idxid, AccessShareLock);
	slot = table_slot_create(rel, NULL);
	for (int i = 0; i < nkeys; i++)
		ScanKeyInit(&key[i], i + 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(keys[i]));
	scan = index_beginscan(rel, idx, snapshot, nkeys, 0);
	index_rescan(scan, key, nkeys, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	for (int i = 0; found && fetch_cols && fetch_cols[i]; i++)
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, get_attnum(relid, fetch_cols[i]), &isnull);

		fetched[i] = isnull ? 0 : DatumGetInt64(d);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	if (!self)
		UnregisterSnapshot(snapshot);
	return found;
}
