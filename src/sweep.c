/*
 * sweep.c: automatic seat management (R7, R8, R10-R13).
 *
 * One SQL query computes a division's change set (CHANGES_SQL): the
 * licences R7 deactivates or skips, the waiters and R8 candidates that get
 * the free seats, and those left without one.  A preview returns its rows;
 * a real run reads the same query (src/writer.c) and computes the change set
 * once (into a tuplestore, in user_id order), applies it chunk by chunk
 * with data-modifying CTEs and records what applied in
 * seatmgr.run_changes, so preview and run cannot disagree (R10), no plan
 * rests on rows the run just wrote, and no user list is ever held in
 * backend memory beyond one chunk (src/writer.c).
 *
 * Locks (docs/locking.md): a division's runs exclude each other through an
 * advisory lock (R13): transaction-level for manual runs, session-level
 * across the transactions of a scheduled run.  Runs that grant take a
 * second, domain-level lock so that two divisions of one domain never give
 * one free user two seats; then the division row FOR NO KEY UPDATE and the
 * seat counter, so licence changes and seat_limit changes wait (R6).
 */
#include "seatmgr.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

SM_SCOPED_FUNCTION(run)
PG_FUNCTION_INFO_V1(seatmgr_sweep);
SM_SCOPED_FUNCTION(run_export)
SM_SCOPED_FUNCTION(run_summary)
SM_SCOPED_FUNCTION(undo_run)
SM_SCOPED_FUNCTION(simulate)

/* advisory lock field4 values no user-level advisory lock uses (1 and 2) */
#define LOCK_DIVISION_RUN	0x5301
#define LOCK_DOMAIN_GRANT	0x5302

static bool
advisory_lock(uint16 kind, int64 id, bool session, bool wait)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32) (id >> 32), (uint32) id, kind);
	return LockAcquire(&tag, ExclusiveLock, session, !wait) != LOCKACQUIRE_NOT_AVAIL;
}

static void
advisory_unlock(uint16 kind, int64 id)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32) (id >> 32), (uint32) id, kind);
	LockRelease(&tag, ExclusiveLock, true);
}

#include "sql/changes.sql.h"
#include "sql/undo_run.sql.h"


/*
 * a preview: the rows of seatmgr_run, run_id NULL, in the order of a run's
 * rows (warnings right after deactivations); notice closings (step 6) are
 * no run change and are not shown (R14)
 */
#define CHANGES_ORDERED \
	"SELECT NULL::bigint, $1::bigint, user_id, email, action, reason, last_active_at" \
	"  FROM (" CHANGES_SQL ") c WHERE step < 6" \
	" ORDER BY CASE step WHEN 5 THEN 15 ELSE step * 10 END, ord, user_id"

static SeatQuery q_changes = {CHANGES_ORDERED, SM_CHANGES_NARGS, {SM_CHANGES_TYPES}, NULL, false, true};
static SeatQuery q_changes_big = {CHANGES_ORDERED, SM_CHANGES_NARGS, {SM_CHANGES_TYPES}, NULL, true, true};
static SeatQuery q_changes_legacy;
static SeatQuery q_changes_big_legacy;

/* the order of a run's rows, in seatmgr_run's result and in exports */
#define ACTION_ORDER(a) \
	"CASE " a " WHEN 'deactivated' THEN 1 WHEN 'warned' THEN 2 WHEN 'added' THEN 3 ELSE 4 END"

/* Whether the division's domain has over SM_BIG_DOMAIN users (bounded cost). */
static SeatQuery q_domain_big = {
	"SELECT EXISTS (SELECT 1 FROM seatmgr.users u"
	"                WHERE u.domain_id = (SELECT d.domain_id FROM seatmgr.divisions d WHERE d.division_id = $1)"
	"               OFFSET " CppAsString2(SM_BIG_DOMAIN) ")",
	1, {INT8OID}
};

bool
sm_domain_is_big(int64 division_id)
{
	Datum		v[1] = {Int64GetDatum(division_id)};

	sm_exec(&q_domain_big, v, NULL, true, 1);
	return sm_get_bool(0, 1);
}

#define USER_CHANGE "SELECT action, reason, closes FROM (" CHANGES_SQL ") c WHERE user_id = $7 ORDER BY step"

static SeatQuery q_user_change = {USER_CHANGE, SM_CHANGES_NARGS + 1, {SM_CHANGES_TYPES, INT8OID}, NULL, false, true};
static SeatQuery q_user_change_big = {USER_CHANGE, SM_CHANGES_NARGS + 1, {SM_CHANGES_TYPES, INT8OID}, NULL, true, true};
static SeatQuery q_user_change_legacy;
static SeatQuery q_user_change_big_legacy;

/*
 * What a run of the division would do to the user now (seatmgr_explain):
 * false when the user is not in the change set.  action is 'notice' when
 * the run would only close the user's notice; closes is the outcome with
 * which it would close it (NULL: none).  Strings are palloc'd.
 */
bool
sm_planned_change(int64 division_id, int64 user_id, char **action, char **reason, char **closes)
{
	Datum		v[SM_CHANGES_NARGS + 1];
	char		n[SM_CHANGES_NARGS + 2];

	sm_changes_args(division_id, GetCurrentTimestamp(), v, n);
	v[SM_CHANGES_NARGS] = Int64GetDatum(user_id);
	n[SM_CHANGES_NARGS] = ' ';
	n[SM_CHANGES_NARGS + 1] = '\0';
	sm_exec(sm_domain_is_big(division_id) ? sm_for_schema(&q_user_change_big, &q_user_change_big_legacy)
			: sm_for_schema(&q_user_change, &q_user_change_legacy), v, n, true, 0);
	if (SPI_processed == 0)
		return false;
	*action = sm_get_text(0, 1);
	*reason = sm_get_text(0, 2);
	*closes = NULL;
	for (uint64 i = 0; i < SPI_processed && *closes == NULL; i++)
		*closes = sm_get_text(i, 3);
	return true;
}

/* Records the change set; returns the planned deactivations and additions. */
static SeatQuery q_lock_seats = {
	"SELECT 1 FROM seatmgr.seat_counts WHERE division_id = $1 FOR UPDATE",
	1, {INT8OID}
};

static SeatQuery q_policy = {
	"SELECT d.domain_id, p.grant_active_within IS NOT NULL AND d.paid"
	"  FROM seatmgr.divisions d LEFT JOIN seatmgr.policies p ON p.division_id = d.division_id"
	" WHERE d.division_id = $1",
	1, {INT8OID}
};

/*
 * A run holds its division row FOR NO KEY UPDATE (docs/locking.md): every
 * licence change of the division (they read it FOR SHARE) and every
 * seat_limit change waits for the run, so its change set stays true while
 * it is applied, whatever the seat limit.
 */
static SeatQuery q_lock_division = {
	"SELECT d.seat_limit IS NOT NULL FROM seatmgr.divisions d"
	" WHERE d.division_id = $1 FOR NO KEY UPDATE",
	1, {INT8OID}
};

static SeatQuery q_division_exists = {
	"SELECT d.name FROM seatmgr.divisions d WHERE d.division_id = $1", 1, {INT8OID}
};

static SeatQuery q_has_policy = {
	"SELECT 1 FROM seatmgr.policies WHERE division_id = $1", 1, {INT8OID}
};

static SeatQuery q_finish_run = {
	"UPDATE seatmgr.runs SET status = 'succeeded', finished_at = pg_catalog.clock_timestamp(),"
	"       users_added = $2, users_deactivated = $3 WHERE run_id = $1",
	3, {INT8OID, INT4OID, INT4OID}
};

/* apart: 0.1.0's schema (until ALTER EXTENSION UPDATE) has no users_warned, and warns nobody */
static SeatQuery q_run_warned = {
	"UPDATE seatmgr.runs SET users_warned = $2 WHERE run_id = $1", 2, {INT8OID, INT4OID}
};

/* marks a real run succeeded with its counts and queues its run.finished */
static void
finish_run(int64 run_id, int64 added, int64 deactivated, int64 warned)
{
	Datum		v[3] = {Int64GetDatum(run_id), Int32GetDatum((int32) added),
	Int32GetDatum((int32) deactivated)};

	sm_exec(&q_finish_run, v, NULL, false, 0);
	v[1] = Int32GetDatum((int32) warned);
	if (warned > 0)
		sm_exec(&q_run_warned, v, NULL, false, 0);
	/* run.finished (R17), for every kind of real run, undo included */
	sm_run_finished(run_id);
}

/* ---------------------------------------------------------------------
 * Run logs (issue 12): every real run (manual, scheduled, undo) writes a
 * line to the server log when it starts and one when it ends, at the level
 * of seatmgr.log_run_summary, as pg_cron logs its jobs; a manual run and an
 * undo end with a NOTICE of the same counts.  A preview is a query: it
 * logs nothing.  The lines name ids, the division and the domain, never a
 * user.
 * ---------------------------------------------------------------------
 */

/*
 * One run's counts by action, with its division and domain: the summary of
 * the log line, the NOTICE and seatmgr_run_summary.  It reads only what
 * 0.1.0's schema has too.
 */
static SeatQuery q_run_summary = {
	"SELECT r.run_id, r.division_id, dm.name AS domain, d.name AS division, r.trigger, r.status,"
	"       r.started_at, r.finished_at, n.deactivated, n.added, n.warned, n.skipped, r.error"
	"  FROM seatmgr.runs r"
	"  JOIN seatmgr.divisions d ON d.division_id = r.division_id"
	"  JOIN seatmgr.domains dm ON dm.domain_id = d.domain_id"
	" CROSS JOIN LATERAL ("
	"       SELECT pg_catalog.count(*) FILTER (WHERE c.action = 'deactivated') AS deactivated,"
	"              pg_catalog.count(*) FILTER (WHERE c.action = 'added') AS added,"
	"              pg_catalog.count(*) FILTER (WHERE c.action = 'warned') AS warned,"
	"              pg_catalog.count(*) FILTER (WHERE c.action = 'skipped') AS skipped"
	"         FROM seatmgr.run_changes c WHERE c.run_id = r.run_id) n"
	" WHERE r.run_id = $1",
	1, {INT8OID}
};

/* a run being logged: what names it, its database, and when it started */
typedef struct RunLog
{
	char	   *what;			/* run 12 of division 3 ("Eng", domain acme.com) */
	char	   *database;
	TimestampTz started;
	MemoryContext cxt;			/* where they live: outlives an error's cleanup */
} RunLog;

#define RUN_LOG(level, ...) \
	ereport(level, (errmsg(__VA_ARGS__), errhidestmt(true), errhidecontext(true)))

/* the run row is written: names the run and logs its start */
static void
run_log_start(RunLog *l, int64 run_id, const char *trigger, int64 undoes, TimestampTz started)
{
	Datum		v[1] = {Int64GetDatum(run_id)};

	sm_exec(&q_run_summary, v, NULL, false, 1);
	l->what = psprintf(sm_("run %lld of division %lld (\"%s\", domain %s)"),
					   (long long) run_id, (long long) sm_get_int64(0, 2, NULL), sm_get_text(0, 4), sm_get_text(0, 3));
	l->database = get_database_name(MyDatabaseId);
	l->started = started;
	l->cxt = CurrentMemoryContext;
	if (sm_log_run_summary == 0)
		return;
	if (undoes)
		RUN_LOG(sm_log_run_summary, "seatmgr: %s in database \"%s\" started (undo of run %lld)",
				l->what, l->database, (long long) undoes);
	else
		RUN_LOG(sm_log_run_summary, "seatmgr: %s in database \"%s\" started (%s)",
				l->what, l->database, trigger);
}

/* the run succeeded: its summary in the log, and as a NOTICE when notice */
static void
run_log_end(RunLog *l, int64 run_id, bool notice)
{
	Datum		v[1] = {Int64GetDatum(run_id)};
	char	   *counts;

	if (sm_log_run_summary == 0 && !notice)
		return;
	sm_exec(&q_run_summary, v, NULL, false, 1);
	counts = psprintf(sm_("%lld deactivated, %lld added, %lld warned, %lld skipped"),
					  (long long) sm_get_int64(0, 9, NULL), (long long) sm_get_int64(0, 10, NULL),
					  (long long) sm_get_int64(0, 11, NULL), (long long) sm_get_int64(0, 12, NULL));
	if (sm_log_run_summary != 0)
		RUN_LOG(sm_log_run_summary, "seatmgr: %s in database \"%s\" succeeded in %ld ms: %s",
				l->what, l->database, TimestampDifferenceMilliseconds(l->started, GetCurrentTimestamp()),
				counts);
	if (notice)
		ereport(NOTICE, (errmsg("%s succeeded: %s", l->what, counts)));
}

/* the run failed with message: nothing of it applied (level 0: no line) */
static void
run_log_failed(RunLog *l, int level, const char *message)
{
	if (level != 0)
		RUN_LOG(level, "seatmgr: %s in database \"%s\" failed in %ld ms: %s",
				l->what, l->database, TimestampDifferenceMilliseconds(l->started, GetCurrentTimestamp()),
				message);
}

/* In the PG_CATCH of a manual run or undo: logs the failure, throws it on. */
static void
run_log_rethrow(RunLog *l)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(l->cxt);
	edata = CopyErrorData();
	FlushErrorState();
	run_log_failed(l, sm_log_run_summary, edata->message);
	ReThrowError(edata);
}

/*
 * The locks a run holds on its division after its run lock (docs/locking.md):
 * licence changes of the division wait for the run (R6).  Returns whether
 * the division has a seat limit.
 */
static bool
lock_division_for_run(int64 division_id)
{
	Datum		v[1] = {Int64GetDatum(division_id)};
	bool		limited;

	sm_exec(&q_lock_division, v, NULL, false, 1);
	limited = sm_get_bool(0, 1);
	if (limited)
		sm_exec(&q_lock_seats, v, NULL, false, 0);
	return limited;
}

/*
 * Applies the change set of run_id to its division: the work of a real run
 * (trigger manual or scheduled), inside the caller's transaction.
 */
static void
apply_run(int64 run_id, int64 division_id, TimestampTz now, const char *trigger)
{
	Datum		v[1];
	bool		grants,
				limited;
	int64		added,
				deactivated,
				warned;

	v[0] = Int64GetDatum(division_id);
	sm_exec(&q_policy, v, NULL, false, 1);
	if (SPI_processed == 0)
		sm_error_missing("division", division_id);
	grants = sm_get_bool(0, 2);

	sm_progress_start(run_id, division_id, trigger, "waiting for locks");

	/* no two runs of one domain grant at once (R13) */
	if (grants)
		advisory_lock(LOCK_DOMAIN_GRANT, sm_get_int64(0, 1, NULL), false, true);
	limited = lock_division_for_run(division_id);

	/* src/writer.c moves on to "applying changes", chunk by chunk */
	sm_progress_phase("computing changes", -1);
	sm_progress_licenses(division_id);
	sm_apply_run(run_id, division_id, now, limited, sm_domain_is_big(division_id),
				 &deactivated, &added, &warned);

	sm_progress_phase("recording", -1);
	finish_run(run_id, added, deactivated, warned);
	sm_progress_end();
}

static SeatQuery q_insert_run = {
	"INSERT INTO seatmgr.runs (division_id, trigger, status, started_at)"
	" VALUES ($1, $2, 'in_progress', $3) RETURNING run_id",
	3, {INT8OID, TEXTOID, TIMESTAMPTZOID}
};

/* an undo (R16), on 0.2.0's schema only */
static SeatQuery q_insert_undo = {
	"INSERT INTO seatmgr.runs (division_id, trigger, status, started_at, undoes_run_id)"
	" VALUES ($1, $2, 'in_progress', $3, $4) RETURNING run_id",
	4, {INT8OID, TEXTOID, TIMESTAMPTZOID, INT8OID}
};

/* a new run row, in_progress; undoes: the run an undo undoes, 0 for none */
static int64
insert_run(int64 division_id, const char *trigger, TimestampTz started, int64 undoes)
{
	Datum		v[4] = {Int64GetDatum(division_id), CStringGetTextDatum(trigger),
	TimestampTzGetDatum(started), Int64GetDatum(undoes)};

	sm_exec(undoes ? &q_insert_undo : &q_insert_run, v, NULL, false, 1);
	return sm_get_int64(0, 1, NULL);
}

/*
 * Runs left in_progress by a crash hold no lock any more: mark them failed,
 * as pg_cron does with its own job runs at start-up.
 */
static SeatQuery q_stale_runs = {
	"SELECT run_id, division_id FROM seatmgr.runs WHERE status = 'in_progress'", 0, {0}
};

static SeatQuery q_fail_run = {
	"UPDATE seatmgr.runs SET status = 'failed', finished_at = pg_catalog.clock_timestamp(), error = $2"
	" WHERE run_id = $1 AND status = 'in_progress'",
	2, {INT8OID, TEXTOID}
};

/* Marks the runs a crash left in_progress failed; returns how many. */
int64
sm_fail_interrupted_runs(void)
{
	uint64		n;
	int64		failed = 0;
	int64	   *runs,
			   *divisions;

	sm_exec(&q_stale_runs, NULL, NULL, false, 0);
	n = SPI_processed;
	runs = palloc(sizeof(int64) * (n + 1));
	divisions = palloc(sizeof(int64) * (n + 1));
	for (uint64 i = 0; i < n; i++)
	{
		runs[i] = sm_get_int64(i, 1, NULL);
		divisions[i] = sm_get_int64(i, 2, NULL);
	}
	for (uint64 i = 0; i < n; i++)
	{
		if (advisory_lock(LOCK_DIVISION_RUN, divisions[i], true, false))
		{
			Datum		v[2] = {Int64GetDatum(runs[i]),
			CStringGetTextDatum("run interrupted: the server restarted or the backend running it ended before it finished")};

			sm_exec(&q_fail_run, v, NULL, false, 0);
			if (SPI_processed > 0)
			{
				sm_run_finished(runs[i]);
				failed++;
			}
			advisory_unlock(LOCK_DIVISION_RUN, divisions[i]);
		}
	}
	return failed;
}

/* a real run's rows, as it recorded them */
static SeatQuery q_run_result = {
	"SELECT c.run_id, $2::bigint, c.user_id, u.email, c.action, c.reason, c.last_active_at"
	"  FROM seatmgr.run_changes c JOIN seatmgr.users u ON u.user_id = c.user_id"
	" WHERE c.run_id = $1"
	" ORDER BY " ACTION_ORDER("c.action") ", c.user_id",
	2, {INT8OID, INT8OID}, NULL, false, true
};

/* the settings of the result: a run or preview returns its rows through a
 * tuplestore of SM_WORK_MEM, which spills to disk past it */
static SeatQuery bounded_result = {NULL, 0, {0}, NULL, false, true};

static SeatQuery q_policy_divisions = {
	"SELECT division_id FROM seatmgr.policies ORDER BY division_id", 0, {0}
};

/*
 * R20/R21: a preview needs reader (or admin) access to the division, a real
 * run admin access; a preview right is never a run right.
 */
static bool
may_run(SmCaller *c, int64 division_id, bool preview)
{
	return sm_may(c, preview ? SM_READER | SM_ADMIN : SM_ADMIN, 0, division_id, false);
}

static void
require_run(SmCaller *c, int64 division_id, bool preview)
{
	if (may_run(c, division_id, preview))
		return;
	if (!preview && may_run(c, division_id, true))
		sm_deny(c, "division", division_id,
				psprintf(sm_(gettext_noop("A reader previews only: SELECT * FROM seatmgr_run(%lld, preview => true);")),
						 (long long) division_id));
	sm_deny(c, "division", division_id, NULL);
}

/* A manual run (or an undo) does not wait for another run of its division (R13). */
static void
manual_run_lock(int64 division_id)
{
	if (!advisory_lock(LOCK_DIVISION_RUN, division_id, false, false))
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("a run of division %lld is already in progress", (long long) division_id),
				 errhint("Wait for it to finish; seatmgr.progress shows it while it runs: SELECT * FROM seatmgr.progress WHERE division_id = %lld;",
						 (long long) division_id)));
}

/*
 * seatmgr_run(division_id, preview): runs the policy of one division, or of
 * every division with a policy, now, in the caller's transaction.
 */
static Datum
run(FunctionCallInfo fcinfo, SmCaller *c)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		preview;
	TimestampTz now = GetCurrentTimestamp();
	uint64		n;
	int64	   *divisions;

	/* a NULL preview is an error, never a real run (SPEC section 5) */
	sm_require_arg(fcinfo, 1, "preview");
	preview = PG_GETARG_BOOL(1);

	{
		int			level = sm_pin_settings(&bounded_result);

		InitMaterializedSRF(fcinfo, 0);
		sm_unpin_settings(level);
	}
	SPI_connect();

	if (PG_ARGISNULL(0))
	{
		uint64		kept = 0;

		/* a scoped role runs the divisions of its scope (R20) */
		if (!sm_has_kind(c, preview ? SM_READER | SM_ADMIN : SM_ADMIN))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for %s", preview ? sm_(gettext_noop("a preview")) : sm_(gettext_noop("a real run"))),
					 preview ? errhint("A preview needs reader or admin access (seatmgr_allow).")
					 : errhint("A real run needs admin access; a reader previews with seatmgr_run(NULL, preview => true).")));
		divisions = sm_exec_ids(&q_policy_divisions, NULL, &n);
		for (uint64 i = 0; i < n; i++)
			if (may_run(c, divisions[i], preview))
				divisions[kept++] = divisions[i];
		n = kept;
	}
	else
	{
		Datum		v[1] = {PG_GETARG_DATUM(0)};
		char	   *name;

		n = 1;
		divisions = palloc(sizeof(int64));
		divisions[0] = PG_GETARG_INT64(0);
		sm_exec(&q_division_exists, v, NULL, true, 1);
		if (SPI_processed == 0)
			sm_error_missing("division", divisions[0]);
		name = sm_get_text(0, 1);
		require_run(c, divisions[0], preview);
		sm_exec(&q_has_policy, v, NULL, true, 1);
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("division %lld (\"%s\") has no policy", (long long) divisions[0], name),
					 errhint("INSERT INTO seatmgr.policies (division_id, revoke_inactive_after, grant_active_within) VALUES (%lld, '90 days', '30 days');",
							 (long long) divisions[0]),
					 sm_errtable("policies")));
	}

	if (!preview)
		sm_fail_interrupted_runs();

	for (uint64 i = 0; i < n; i++)
	{
		Datum		v[2];
		int64		run_id;
		RunLog		log;

		/* each run starts when it starts: run_history's durations are its own */
		if (i > 0)
			now = GetCurrentTimestamp();
		v[0] = Int64GetDatum(divisions[i]);
		v[1] = TimestampTzGetDatum(now);

		if (preview)
		{
			Datum		cv[SM_CHANGES_NARGS];
			char		cn[SM_CHANGES_NARGS + 1];

			sm_changes_args(divisions[i], now, cv, cn);
			sm_progress_start(0, divisions[i], "manual", "computing changes");
			sm_progress_licenses(divisions[i]);
			sm_exec_into(sm_domain_is_big(divisions[i]) ? sm_for_schema(&q_changes_big, &q_changes_big_legacy)
						 : sm_for_schema(&q_changes, &q_changes_legacy), cv, cn, true, rsinfo);
			sm_progress_end();
			continue;
		}
		manual_run_lock(divisions[i]);
		run_id = insert_run(divisions[i], "manual", now, 0);
		run_log_start(&log, run_id, "manual", 0, now);
		PG_TRY();
		{
			apply_run(run_id, divisions[i], now, "manual");
		}
		PG_CATCH();
		{
			run_log_rethrow(&log);
		}
		PG_END_TRY();
		run_log_end(&log, run_id, true);
		v[0] = Int64GetDatum(run_id);
		v[1] = Int64GetDatum(divisions[i]);
		sm_exec_into(&q_run_result, v, NULL, false, rsinfo);
	}
	SPI_finish();
	return (Datum) 0;
}

static SeatQuery q_due = {
	"SELECT division_id FROM seatmgr.policies"
	" WHERE enabled AND next_run_at <= pg_catalog.now() ORDER BY next_run_at, division_id",
	0, {0}
};

/* R11: a run moves next_run_at to its own start plus run_every. */
static SeatQuery q_reschedule = {
	"UPDATE seatmgr.policies SET next_run_at = $2 + run_every WHERE division_id = $1",
	2, {INT8OID, TIMESTAMPTZOID}
};

/*
 * One scheduled run, in its own transactions: the run row is committed
 * in_progress first so other sessions see it; the work runs in a
 * subtransaction, and a failure records the error and applies nothing (R12).
 */
static void
scheduled_run(int64 division_id)
{
	TimestampTz started = GetCurrentTimestamp();
	int64		run_id;
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	RunLog		log;
	volatile bool succeeded = false;

	{
		static SeatQuery q_still_due = {
			"SELECT 1 FROM seatmgr.policies"
			" WHERE division_id = $1 AND enabled AND next_run_at <= pg_catalog.now()",
			1, {INT8OID}
		};
		Datum		v[1] = {Int64GetDatum(division_id)};

		/* another sweep may have run it since the list was read */
		sm_exec(&q_still_due, v, NULL, false, 1);
		if (SPI_processed == 0)
			return;
	}
	run_id = insert_run(division_id, "scheduled", started, 0);
	run_log_start(&log, run_id, "scheduled", 0, started);
	{
		Datum		v[2] = {Int64GetDatum(division_id), TimestampTzGetDatum(started)};

		sm_exec(&q_reschedule, v, NULL, false, 0);
	}
	SPI_commit();

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		apply_run(run_id, division_id, started, "scheduled");
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		succeeded = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		Datum		v[2];

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		sm_progress_end();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;

		v[0] = Int64GetDatum(run_id);
		v[1] = CStringGetTextDatum(edata->message);
		sm_exec(&q_fail_run, v, NULL, false, 0);
		sm_run_finished(run_id);
		/* a warning whatever seatmgr.log_run_summary says (docs/errors.md) */
		run_log_failed(&log, WARNING, edata->message);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	if (succeeded)
		run_log_end(&log, run_id, false);
	SPI_commit();
}

/* The session-level lock outlives errors: release it on every path. */
static void
locked_scheduled_run(int64 division_id)
{
	PG_TRY();
	{
		scheduled_run(division_id);
	}
	PG_CATCH();
	{
		advisory_unlock(LOCK_DIVISION_RUN, division_id);
		PG_RE_THROW();
	}
	PG_END_TRY();
	advisory_unlock(LOCK_DIVISION_RUN, division_id);
}

/*
 * CALL seatmgr_sweep(): every enabled policy that is due, each division in
 * its own transactions (R11); what pg_cron calls.
 */
Datum
seatmgr_sweep(PG_FUNCTION_ARGS)
{
	bool		atomic = fcinfo->context && IsA(fcinfo->context, CallContext) &&
		((CallContext *) fcinfo->context)->atomic;
	uint64		n;
	int64	   *divisions;
	MemoryContext cxt;

	if (atomic || !fcinfo->context || !IsA(fcinfo->context, CallContext))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
				 errmsg("seatmgr_sweep() must be called with CALL outside a transaction block"),
				 errhint("Run CALL seatmgr_sweep(); on its own; it commits each division separately.")));

	/* the list of due divisions outlives the commits below */
	cxt = AllocSetContextCreate(PortalContext, "seatmgr sweep", ALLOCSET_SMALL_SIZES);

	SPI_connect_ext(SPI_OPT_NONATOMIC);
	sm_fail_interrupted_runs();
	SPI_commit();
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		divisions = sm_exec_ids(&q_due, NULL, &n);
		MemoryContextSwitchTo(old);
	}
	SPI_commit();

	for (uint64 i = 0; i < n; i++)
	{
		/* a division whose run is still going is skipped (R13) */
		if (!advisory_lock(LOCK_DIVISION_RUN, divisions[i], true, false))
			continue;
		locked_scheduled_run(divisions[i]);
	}
	SPI_finish();
	MemoryContextDelete(cxt);
	PG_RETURN_VOID();
}

/* an unknown run: 23503, as every unknown id */
pg_attribute_noreturn() static void run_missing(int64 run_id);

static void
run_missing(int64 run_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
			 errmsg("run %lld does not exist", (long long) run_id),
			 errhint("seatmgr.run_history lists the runs."),
			 sm_errobject("run", NULL, NULL)));
}

static SeatQuery q_run_exists = {
	"SELECT division_id FROM seatmgr.runs WHERE run_id = $1", 1, {INT8OID}
};

/*
 * The export and the summary of a run: it exists (23503, as every unknown
 * id), and the caller reads its division (R20: 42501 naming the run).
 */
static void
require_run_reader(SmCaller *c, int64 run_id)
{
	Datum		v[1] = {Int64GetDatum(run_id)};

	sm_exec(&q_run_exists, v, NULL, true, 1);
	if (SPI_processed == 0)
		run_missing(run_id);
	if (!sm_may(c, SM_READER | SM_ADMIN, 0, sm_get_int64(0, 1, NULL), false))
		sm_deny(c, "run", run_id, NULL);
}

/*
 * The export's rows.  Machine-readable whatever the session's DateStyle and
 * TimeZone (issue 12; SPEC section 9): run_date is the run's date in UTC,
 * last_active_at ISO 8601 text in UTC, 2026-06-23T04:05:10.292049Z.
 */
#define EXPORT(columns) \
	"SELECT " columns \
	"  FROM seatmgr.runs r" \
	"  JOIN seatmgr.divisions d ON d.division_id = r.division_id" \
	"  JOIN seatmgr.domains dm ON dm.domain_id = d.domain_id" \
	"  JOIN seatmgr.run_changes c ON c.run_id = r.run_id" \
	"  JOIN seatmgr.users u ON u.user_id = c.user_id" \
	" WHERE r.run_id = $1" \
	" ORDER BY " ACTION_ORDER("c.action") ", u.email"

static SeatQuery q_export = {
	EXPORT("r.run_id, pg_catalog.timezone('UTC', r.started_at)::date, d.name, u.email, c.action, c.reason,"
		   " pg_catalog.to_char(pg_catalog.timezone('UTC', c.last_active_at), 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
		   " dm.name"),
	1, {INT8OID}
};

/* 0.1.0's seatmgr_run_export, until ALTER EXTENSION UPDATE: its seven columns */
static SeatQuery q_export_legacy = {
	EXPORT("r.run_id, r.started_at::date, d.name, u.email, c.action, c.reason, c.last_active_at"),
	1, {INT8OID}
};

/*
 * seatmgr_run_export(run_id): the rows of the CSV export of one run, for
 * \copy (SELECT * FROM seatmgr_run_export(7)) TO 'run-7.csv' CSV HEADER
 */
static Datum
run_export(FunctionCallInfo fcinfo, SmCaller *c)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		v[1];

	sm_require_arg(fcinfo, 0, "run_id");
	v[0] = PG_GETARG_DATUM(0);
	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	require_run_reader(c, PG_GETARG_INT64(0));
	sm_exec_into(rsinfo->setDesc->natts == 7 ? &q_export_legacy : &q_export, v, NULL, true, rsinfo);
	SPI_finish();
	return (Datum) 0;
}

/*
 * seatmgr_run_summary(run_id): one run's counts by action without its rows,
 * with its division, domain, trigger, status, times and error.
 */
static Datum
run_summary(FunctionCallInfo fcinfo, SmCaller *c)
{
	Datum		v[1];
	TupleDesc	desc;
	HeapTupleHeader result;

	sm_require_arg(fcinfo, 0, "run_id");
	v[0] = PG_GETARG_DATUM(0);
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE || desc->natts != 13)
		elog(ERROR, "seatmgr: seatmgr_run_summary must return its 13 columns");
	SPI_connect();
	require_run_reader(c, PG_GETARG_INT64(0));
	sm_exec(&q_run_summary, v, NULL, true, 1);
	/* in the caller's context, as the function's declared row */
	{
		bool		nulls[13];
		Datum		values[13];

		desc = BlessTupleDesc(desc);
		for (int i = 0; i < 13; i++)
			values[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &nulls[i]);
		result = SPI_returntuple(heap_form_tuple(desc, values, nulls), desc);
	}
	SPI_finish();
	PG_RETURN_HEAPTUPLEHEADER(result);
}

/* ---------------------------------------------------------------------
 * R16: seatmgr_undo_run
 * ---------------------------------------------------------------------
 */

static SeatQuery q_undo_target = {
	"SELECT r.division_id, r.status, r.trigger, r.undoes_run_id,"
	"       (SELECT u.run_id FROM seatmgr.runs u WHERE u.undoes_run_id = r.run_id)"
	"  FROM seatmgr.runs r WHERE r.run_id = $1",
	1, {INT8OID}
};

static SeatQuery q_undo = {
	UNDO_RUN_SQL, 5, {INT8OID, TIMESTAMPTZOID, INT8OID, TEXTOID, INT8OID}
};

/*
 * The run to undo: its division, after checking that it exists, and, when
 * check_state, that it may be undone (55000 naming the run).  Read on a new
 * snapshot: after the run lock, an undo that committed meanwhile is seen.
 */
static int64
undo_target(int64 run_id, bool check_state)
{
	Datum		v[1] = {Int64GetDatum(run_id)};
	char	   *status;
	bool		isnull;
	int64		undone_by;

	sm_exec(&q_undo_target, v, NULL, false, 1);
	if (SPI_processed == 0)
		run_missing(run_id);
	if (!check_state)
		return sm_get_int64(0, 1, NULL);
	status = sm_get_text(0, 2);
	if (strcmp(sm_get_text(0, 3), "undo") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("run %lld is an undo (of run %lld) and cannot be undone",
						(long long) run_id, (long long) sm_get_int64(0, 4, NULL)),
				 errhint("Run the policy again to take those seats: SELECT * FROM seatmgr_run(%lld);",
						 (long long) sm_get_int64(0, 1, NULL)),
				 sm_errcolumn("runs", "trigger")));
	if (strcmp(status, "succeeded") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("run %lld %s: only a succeeded run can be undone", (long long) run_id,
						strcmp(status, "failed") == 0 ? sm_(gettext_noop("failed and changed nothing"))
						: sm_(gettext_noop("is still in progress"))),
				 sm_errcolumn("runs", "status")));
	undone_by = sm_get_int64(0, 5, &isnull);
	if (!isnull)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("run %lld was already undone by run %lld", (long long) run_id, (long long) undone_by),
				 errhint("A run can be undone once."),
				 sm_errcolumn("runs", "undoes_run_id")));
	return sm_get_int64(0, 1, NULL);
}

/*
 * seatmgr_undo_run(run_id): gives back what a succeeded run took, as a run
 * of its own (trigger 'undo') under the division's run lock (R13); returns
 * its rows like seatmgr_run.
 */
static Datum
undo_run(FunctionCallInfo fcinfo, SmCaller *c)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TimestampTz now = GetCurrentTimestamp();
	int64		target;
	int64		division_id;
	int64		run_id;
	int64		added;
	Datum		v[5];
	RunLog		log;

	sm_require_arg(fcinfo, 0, "run_id");
	target = PG_GETARG_INT64(0);
	{
		int			level = sm_pin_settings(&bounded_result);

		InitMaterializedSRF(fcinfo, 0);
		sm_unpin_settings(level);
	}
	SPI_connect();
	division_id = undo_target(target, false);
	if (!sm_may(c, SM_ADMIN, 0, division_id, false))
		sm_deny(c, gettext_noop("run"), target, NULL);
	undo_target(target, true);

	manual_run_lock(division_id);
	lock_division_for_run(division_id);
	undo_target(target, true);

	run_id = insert_run(division_id, "undo", now, target);
	run_log_start(&log, run_id, "undo", target, now);
	PG_TRY();
	{
		sm_progress_start(run_id, division_id, "undo", "giving seats back");
		v[0] = Int64GetDatum(division_id);
		v[1] = TimestampTzGetDatum(now);
		v[2] = Int64GetDatum(run_id);
		v[3] = CStringGetTextDatum(sm_actor());
		v[4] = Int64GetDatum(target);
		sm_exec(&q_undo, v, NULL, false, 1);
		added = sm_get_int64(0, 1, NULL);
		sm_progress_phase("recording", -1);
		sm_progress_done(0, 0, added, 0);
		finish_run(run_id, added, 0, 0);
		sm_progress_end();
	}
	PG_CATCH();
	{
		run_log_rethrow(&log);
	}
	PG_END_TRY();
	run_log_end(&log, run_id, true);

	v[0] = Int64GetDatum(run_id);
	v[1] = Int64GetDatum(division_id);
	sm_exec_into(&q_run_result, v, NULL, false, rsinfo);
	SPI_finish();
	return (Datum) 0;
}

/* ---------------------------------------------------------------------
 * seatmgr_simulate: the change set under other thresholds, summed
 * ---------------------------------------------------------------------
 */

/*
 * Each action and reason of the change set with its users and the monthly
 * cost change: + seat_price per seat given, - seat_price per active licence
 * deactivated (a deactivated waiter held no seat), 0 otherwise, NULL
 * without a seat_price.
 */
#define SIMULATE \
	"SELECT c.action, c.reason, pg_catalog.count(*)::bigint," \
	"       CASE WHEN d.seat_price IS NULL THEN NULL" \
	"            WHEN c.action = 'added' THEN d.seat_price * pg_catalog.count(*)" \
	"            WHEN c.action = 'deactivated'" \
	"            THEN 0 - d.seat_price * pg_catalog.count(*) FILTER (WHERE l.status = 'active')" \
	"            ELSE 0 END" \
	"  FROM (" CHANGES_SQL ") c" \
	"  JOIN seatmgr.divisions d ON d.division_id = $1" \
	"  LEFT JOIN seatmgr.licenses l ON c.action = 'deactivated' AND l.user_id = c.user_id AND l.division_id = $1" \
	" WHERE c.step < 6" \
	" GROUP BY c.action, c.reason, d.seat_price" \
	" ORDER BY CASE pg_catalog.min(c.step) WHEN 5 THEN 15 ELSE pg_catalog.min(c.step) * 10 END, c.reason"

static SeatQuery q_simulate = {SIMULATE, SM_CHANGES_NARGS, {SM_CHANGES_TYPES}, NULL, false, true};
static SeatQuery q_simulate_big = {SIMULATE, SM_CHANGES_NARGS, {SM_CHANGES_TYPES}, NULL, true, true};

/*
 * seatmgr_simulate(division_id, revoke_inactive_after, grant_active_within,
 * notice_period): what a run would do now with these thresholds (NULL
 * switches a step off) and the policy's other settings (the defaults
 * without a policy); writes nothing.
 */
static Datum
simulate(FunctionCallInfo fcinfo, SmCaller *c)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	static const char *const names[] = {"revoke_inactive_after", "grant_active_within", "notice_period"};
	Datum		v[SM_CHANGES_NARGS];
	char		n[SM_CHANGES_NARGS + 1];
	int64		division_id;

	sm_require_arg(fcinfo, 0, "division_id");
	division_id = PG_GETARG_INT64(0);
	sm_changes_args(division_id, GetCurrentTimestamp(), v, n);
	v[2] = BoolGetDatum(true);
	for (int i = 0; i < 3; i++)
	{
		if (PG_ARGISNULL(i + 1))
			continue;
		v[3 + i] = PG_GETARG_DATUM(i + 1);
		n[3 + i] = ' ';
		sm_check_interval(names[i], v[3 + i], ERRCODE_INVALID_PARAMETER_VALUE, NULL);
	}
	{
		int			level = sm_pin_settings(&bounded_result);

		InitMaterializedSRF(fcinfo, 0);
		sm_unpin_settings(level);
	}
	SPI_connect();
	sm_exec(&q_division_exists, v, NULL, true, 1);
	if (SPI_processed == 0)
		sm_error_missing("division", division_id);
	if (!sm_may(c, SM_READER | SM_ADMIN, 0, division_id, false))
		sm_deny(c, "division", division_id, NULL);
	sm_progress_start(0, division_id, "simulate", "computing changes");
	sm_progress_licenses(division_id);
	sm_exec_into(sm_domain_is_big(division_id) ? &q_simulate_big : &q_simulate, v, n, true, rsinfo);
	sm_progress_end();
	SPI_finish();
	return (Datum) 0;
}
