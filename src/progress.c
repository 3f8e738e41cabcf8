/*
 * progress.c: runs and previews in progress, in shared memory, for
 * seatmgr.progress (issue 12), shaped like pg_stat_progress_vacuum.
 *
 * One slot per backend (indexed by MyBackendId, like the backend status
 * array behind pg_stat_progress_*), cluster-wide: a slot names its
 * database.  A backend writes only its own slot (but for licenses_done,
 * below), a few times per run (at each phase and once per chunk of the
 * change set it applies, src/writer.c), without a lock: it bumps the slot's
 * change counter before and after writing (odd while it writes), and a
 * reader copies the slot until it reads the same even count before and
 * after, as PostgreSQL's st_changecount does for pg_stat_activity.  Nothing
 * here costs a lock or a system call per row.
 *
 * The phases, in order (README, "Progress"):
 *   waiting for locks        a real run waits for its domain's grant lock,
 *                            its division row and its seat counter
 *   computing changes        the change set's one statement (a preview and
 *                            seatmgr_simulate are only this phase):
 *                            licenses_done moves towards licenses_total as
 *                            it joins the division's licences with their
 *                            users and judges them (R7)
 *   applying changes         its chunks: changes_done moves chunk by chunk
 *                            towards changes_total, with the users counts
 *   giving seats back        an undo's statement (R16)
 *   recording                the run's row and its run.finished
 *
 * licenses_done is counted by seatmgr._progress_tick(), a clause of that
 * statement's join of the licences with their users (src/sql/changes.sql)
 * that is always true: it counts in a local variable and adds to the slot
 * every TICK_EVERY rows, an atomic addition outside the change counter, so
 * that a parallel worker may add to its leader's slot (the joins run in the
 * leader in today's plans; a worker's last rows, fewer than TICK_EVERY,
 * would be missing from the count).  Its support function tells the
 * planner that it keeps every row and costs nothing, so the statement's
 * plans, row estimates and costs are those it has without it (the EXPLAIN
 * output differs by the one Join Filter line; t/plans.pl).  When the
 * statement ends, licenses_total becomes the number of licences it counted.
 *
 * A slot is freed when its run ends, and whenever the (sub)transaction that
 * started it ends first (an error, a FATAL exit): a slot never outlives its
 * transaction.  Without shared_preload_libraries there is no shared memory:
 * the calls below do nothing and the view is empty.
 */
#include "seatmgr.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/supportnodes.h"
#include "port/atomics.h"
#include "storage/backendid.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/plancache.h"

SM_SCOPED_FUNCTION(progress)

typedef struct ProgressSlot
{
	uint32		changecount;	/* odd while its backend writes the slot */
	int			pid;			/* 0 when the slot is free */
	Oid			database;
	int64		run_id;			/* 0: a preview */
	int64		division_id;
	TimestampTz started_at;
	char		trigger[16];	/* manual, scheduled, undo or simulate */
	char		phase[32];
	int64		changes_total;	/* -1 until known */
	int64		changes_done;
	int64		deactivated;
	int64		added;
	int64		warned;
	int64		licenses_total; /* -1 when not counted */
	pg_atomic_uint64 licenses_done; /* added to by the backend and its
									 * parallel workers */
} ProgressSlot;

typedef struct ProgressShared
{
	int			nslots;
	ProgressSlot slots[FLEXIBLE_ARRAY_MEMBER];
} ProgressShared;

static ProgressShared *shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* the (sub)transaction level that started this backend's slot */
static int	slot_level = 0;

/* rows seatmgr._progress_tick() counted and has not yet added to the slot */
static uint64 ticks = 0;

#define TICK_EVERY 1000

#define BEGIN_WRITE(s) \
	do { (s)->changecount++; pg_write_barrier(); } while (0)
#define END_WRITE(s) \
	do { pg_write_barrier(); (s)->changecount++; } while (0)

static Size
progress_size(void)
{
	return add_size(offsetof(ProgressShared, slots),
					mul_size(MaxBackends, sizeof(ProgressSlot)));
}

static void
progress_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(progress_size());
}

static void
progress_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("seatmgr progress", progress_size(), &found);
	if (!found)
	{
		shared->nslots = MaxBackends;
		memset(shared->slots, 0, sizeof(ProgressSlot) * MaxBackends);
		for (int i = 0; i < MaxBackends; i++)
			pg_atomic_init_u64(&shared->slots[i].licenses_done, 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

static volatile ProgressSlot *
my_slot(void)
{
	if (shared == NULL || MyBackendId <= 0 || MyBackendId > shared->nslots)
		return NULL;
	return &shared->slots[MyBackendId - 1];
}

/* the slot a parallel worker's ticks go to: its leader's */
static volatile ProgressSlot *
leader_slot(void)
{
	BackendId	id = IsParallelWorker() ? ParallelLeaderBackendId : MyBackendId;

	if (shared == NULL || id <= 0 || id > shared->nslots)
		return NULL;
	return &shared->slots[id - 1];
}

/* Frees this backend's slot: at the end of a run, of its transaction, on exit. */
void
sm_progress_end(void)
{
	volatile ProgressSlot *s = my_slot();

	if (s == NULL || s->pid == 0)
		return;
	BEGIN_WRITE(s);
	s->pid = 0;
	END_WRITE(s);
	slot_level = 0;
}

static void
progress_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PREPARE)
		sm_progress_end();
}

/* a subtransaction that started the slot and fails (an EXCEPTION block) */
static void
progress_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && slot_level > 0 &&
		GetCurrentTransactionNestLevel() <= slot_level)
		sm_progress_end();
}

/*
 * A run (run_id) or a preview (run_id 0) of division_id starts, in phase;
 * trigger: manual, scheduled, undo or simulate.
 */
void
sm_progress_start(int64 run_id, int64 division_id, const char *trigger, const char *phase)
{
	volatile ProgressSlot *s = my_slot();
	TimestampTz now;

	if (s == NULL)
		return;
	now = GetCurrentTimestamp();
	BEGIN_WRITE(s);
	s->pid = MyProcPid;
	s->database = MyDatabaseId;
	s->run_id = run_id;
	s->division_id = division_id;
	s->started_at = now;
	strlcpy((char *) s->trigger, trigger, sizeof(s->trigger));
	strlcpy((char *) s->phase, phase, sizeof(s->phase));
	s->changes_total = -1;
	s->changes_done = s->deactivated = s->added = s->warned = 0;
	s->licenses_total = -1;
	pg_atomic_write_u64((pg_atomic_uint64 *) &s->licenses_done, 0);
	END_WRITE(s);
	slot_level = GetCurrentTransactionNestLevel();
	ticks = 0;
}

/*
 * licenses_total while the change set's statement runs: the division's
 * active and waitlisted licences, counted up to LICENSES_COUNTED; past
 * that, the planner's estimate from the table's statistics (as
 * pg_stat_progress_create_index's tuples_total comes from the relation's
 * size), which costs a plan of a small query and no scan: counting them all
 * would cost 0.2 s of a 6 s statement at a million users.  The estimate is
 * planned with the division as a constant, not as a parameter, so that a
 * big division's own statistics are used.
 */
#define LICENSES_COUNTED 100000

static SeatQuery q_licenses = {
	"SELECT pg_catalog.count(*) FROM (SELECT FROM seatmgr.licenses l"
	" WHERE l.division_id = $1 AND l.status IN ('active', 'waitlisted')"
	" LIMIT " CppAsString2(LICENSES_COUNTED) ") l",
	1, {INT8OID}
};

static int64
licenses_estimate(int64 division_id)
{
	Datum		v[1] = {Int64GetDatum(division_id)};
	int64		counted;
	int			level;
	SPIPlanPtr	plan;
	CachedPlanSource *source;
	CachedPlan *cplan;
	double		rows;

	sm_exec(&q_licenses, v, NULL, true, 1);
	counted = sm_get_int64(0, 1, NULL);
	if (counted < LICENSES_COUNTED)
		return counted;
	level = sm_pin_settings(NULL);
	plan = SPI_prepare_cursor(psprintf("SELECT FROM seatmgr.licenses l"
									   " WHERE l.division_id = '%lld'::bigint"
									   " AND l.status IN ('active', 'waitlisted')",
									   (long long) division_id), 0, NULL, 0);
	if (plan == NULL)
		elog(ERROR, "seatmgr: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	source = linitial(SPI_plan_get_plan_sources(plan));
	cplan = GetCachedPlan(source, NULL, NULL, NULL);
	rows = linitial_node(PlannedStmt, cplan->stmt_list)->planTree->plan_rows;
	ReleaseCachedPlan(cplan, NULL);
	SPI_freeplan(plan);
	sm_unpin_settings(level);
	return Max((int64) rows, counted);
}

/*
 * The run or preview of division_id starts computing its change set:
 * licenses_total is counted or estimated (not on 0.1.0's schema, whose
 * seatmgr.progress has no such column, nor without shared memory).
 */
void
sm_progress_licenses(int64 division_id)
{
	volatile ProgressSlot *s = my_slot();
	int64		licenses_total;

	if (s == NULL || s->pid == 0 || !sm_has_notices())
		return;
	licenses_total = licenses_estimate(division_id);
	BEGIN_WRITE(s);
	s->licenses_total = licenses_total;
	pg_atomic_write_u64((pg_atomic_uint64 *) &s->licenses_done, 0);
	END_WRITE(s);
	ticks = 0;
}

/* The run enters phase; changes_total, when >= 0, is the change set's size. */
void
sm_progress_phase(const char *phase, int64 changes_total)
{
	volatile ProgressSlot *s = my_slot();

	if (s == NULL || s->pid == 0)
		return;
	BEGIN_WRITE(s);

	/*
	 * The change set's statement has ended: this backend's last rows are
	 * added, and licenses_total becomes the exact count of the licences it
	 * examined, in place of the estimate.
	 */
	if (s->licenses_total >= 0)
	{
		uint64		done = pg_atomic_add_fetch_u64((pg_atomic_uint64 *) &s->licenses_done, ticks);

		s->licenses_total = (int64) done;
	}
	strlcpy((char *) s->phase, phase, sizeof(s->phase));
	if (changes_total >= 0)
		s->changes_total = changes_total;
	END_WRITE(s);
	ticks = 0;
}

/* What the run has done so far: rows of the change set and their outcome. */
void
sm_progress_done(int64 changes_done, int64 deactivated, int64 added, int64 warned)
{
	volatile ProgressSlot *s = my_slot();

	if (s == NULL || s->pid == 0)
		return;
	BEGIN_WRITE(s);
	s->changes_done = changes_done;
	s->deactivated = deactivated;
	s->added = added;
	s->warned = warned;
	END_WRITE(s);
}

/*
 * seatmgr._progress_tick(license_user_id, user_id): true.  A clause of the
 * join of the division's licences with their users in the change set's
 * statement (src/sql/changes.sql), which counts the joined rows for
 * licenses_done as they come out: in a local variable, and into the slot
 * (its leader's, in a parallel worker) every TICK_EVERY rows, so that a row
 * costs a call and an addition.  Outside a run or preview (seatmgr_explain
 * runs the same statement) it only counts.
 */
PG_FUNCTION_INFO_V1(seatmgr_progress_tick);

Datum
seatmgr_progress_tick(PG_FUNCTION_ARGS)
{
	sm_require_arg(fcinfo, 0, "license_user_id");
	sm_require_arg(fcinfo, 1, "user_id");
	if (++ticks >= TICK_EVERY)
	{
		volatile ProgressSlot *s = leader_slot();

		if (s != NULL && s->pid != 0)
			pg_atomic_fetch_add_u64((pg_atomic_uint64 *) &s->licenses_done, ticks);
		ticks = 0;
	}
	PG_RETURN_BOOL(true);
}

/*
 * The planner support function of seatmgr._progress_tick(): the qual keeps
 * every row (selectivity 1) and costs nothing, so that the statement is
 * planned as it is without it (the plans and their estimates are the same).
 */
PG_FUNCTION_INFO_V1(seatmgr_progress_tick_support);

Datum
seatmgr_progress_tick_support(PG_FUNCTION_ARGS)
{
	Node	   *req;

	if (PG_ARGISNULL(0))
		PG_RETURN_POINTER(NULL);
	req = (Node *) PG_GETARG_POINTER(0);
	if (IsA(req, SupportRequestSelectivity))
	{
		((SupportRequestSelectivity *) req)->selectivity = 1.0;
		PG_RETURN_POINTER(req);
	}
	if (IsA(req, SupportRequestCost))
	{
		((SupportRequestCost *) req)->startup = 0;
		((SupportRequestCost *) req)->per_tuple = 0;
		PG_RETURN_POINTER(req);
	}
	PG_RETURN_POINTER(NULL);
}

void
sm_progress_init(void)
{
	static bool done = false;

	if (done)
		return;
	done = true;
	/* an error, a FATAL exit or a commit ends the transaction: the slot is freed */
	RegisterXactCallback(progress_xact_callback, NULL);
	RegisterSubXactCallback(progress_subxact_callback, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = progress_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = progress_shmem_startup;
}

/* a consistent copy of a slot another backend may be writing */
static void
read_slot(volatile ProgressSlot *s, ProgressSlot *copy)
{
	for (;;)
	{
		uint32		before = s->changecount;
		uint32		after;

		pg_read_barrier();
		memcpy(copy, (ProgressSlot *) s, sizeof(ProgressSlot));
		pg_read_barrier();
		after = s->changecount;
		if (before == after && (before & 1) == 0)
			return;
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * seatmgr.progress_rows(), behind the view seatmgr.progress: the runs and
 * previews in progress in every database of the cluster.  A row of this
 * database is shown to a caller whose scope covers its division (R20); a
 * row of another database, where seatmgr's grants mean nothing, only to
 * superusers and members of pg_read_all_stats, as pg_stat_activity shows
 * other users' queries.
 */
static Datum
progress(FunctionCallInfo fcinfo, SmCaller *c)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		all_stats;
	bool		legacy;

	InitMaterializedSRF(fcinfo, 0);
	/* 0.1.0's progress_rows(), until ALTER EXTENSION UPDATE, has eight columns */
	legacy = rsinfo->setDesc->natts == 8;
	if (!legacy && rsinfo->setDesc->natts != 15)
		elog(ERROR, "seatmgr: seatmgr.progress_rows must return its 15 columns");
	if (shared == NULL)
		return (Datum) 0;

	all_stats = has_privs_of_role(c->user, ROLE_PG_READ_ALL_STATS);
	for (int i = 0; i < shared->nslots; i++)
	{
		ProgressSlot s;
		Datum		values[15];
		bool		nulls[15] = {0};

		if (shared->slots[i].pid == 0)
			continue;
		read_slot(&shared->slots[i], &s);
		if (s.pid == 0)
			continue;
		if (legacy)
		{
			/* as 0.1.0 showed them: the real runs of this database */
			if (s.database != MyDatabaseId || s.run_id == 0)
				continue;
			values[0] = Int32GetDatum(s.pid);
			values[1] = Int64GetDatum(s.run_id);
			values[2] = Int64GetDatum(s.division_id);
			values[3] = CStringGetTextDatum(s.phase);
			values[4] = TimestampTzGetDatum(s.started_at);
			values[5] = Int64GetDatum(s.deactivated + s.added + s.warned);
			values[6] = Int64GetDatum(s.deactivated);
			values[7] = Int64GetDatum(s.added);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			continue;
		}
		if (s.database == MyDatabaseId
			? !sm_may(c, SM_READER | SM_ADMIN, 0, s.division_id, false)
			: !all_stats)
			continue;
		values[0] = Int32GetDatum(s.pid);
		values[1] = ObjectIdGetDatum(s.database);
		values[2] = Int64GetDatum(s.run_id);
		nulls[2] = s.run_id == 0;
		values[3] = Int64GetDatum(s.division_id);
		values[4] = BoolGetDatum(s.run_id == 0);
		values[5] = CStringGetTextDatum(s.trigger);
		values[6] = CStringGetTextDatum(s.phase);
		values[7] = TimestampTzGetDatum(s.started_at);
		values[8] = Int64GetDatum(s.licenses_total);
		nulls[8] = s.licenses_total < 0;
		/* read apart from the copy: the leader's parallel workers add to it */
		values[9] = Int64GetDatum((int64) pg_atomic_read_u64(&shared->slots[i].licenses_done));
		nulls[9] = s.licenses_total < 0;
		values[10] = Int64GetDatum(s.changes_total);
		nulls[10] = s.changes_total < 0;
		values[11] = Int64GetDatum(s.changes_done);
		values[12] = Int64GetDatum(s.deactivated);
		values[13] = Int64GetDatum(s.added);
		values[14] = Int64GetDatum(s.warned);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
