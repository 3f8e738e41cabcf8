/*
 * progress.c: runs in progress, in shared memory, for seatmgr.progress.
 *
 * One slot per backend (indexed by MyBackendId, like the backend status
 * array behind pg_stat_progress_vacuum); a backend writes only its own
 * slot, readers copy all slots under one spinlock.  Without
 * shared_preload_libraries there is no shared memory: the calls below do
 * nothing and the view is empty.
 */
#include "seatmgr.h"

#include "access/xact.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(seatmgr_progress);

typedef struct ProgressSlot
{
	int			pid;			/* 0 when the slot is free */
	Oid			database;
	int64		run_id;
	int64		division_id;
	TimestampTz started_at;
	char		phase[32];
	int64		changes;
	int64		deactivated;
	int64		added;
} ProgressSlot;

typedef struct ProgressShared
{
	slock_t		mutex;
	int			nslots;
	ProgressSlot slots[FLEXIBLE_ARRAY_MEMBER];
} ProgressShared;

static ProgressShared *progress = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

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
	progress = ShmemInitStruct("seatmgr progress", progress_size(), &found);
	if (!found)
	{
		SpinLockInit(&progress->mutex);
		progress->nslots = MaxBackends;
		memset(progress->slots, 0, sizeof(ProgressSlot) * MaxBackends);
	}
	LWLockRelease(AddinShmemInitLock);
}

static ProgressSlot *
my_slot(void)
{
	if (progress == NULL || MyBackendId <= 0 || MyBackendId > progress->nslots)
		return NULL;
	return &progress->slots[MyBackendId - 1];
}

/* Clears this backend's slot: at the end of a run, on abort, on exit. */
void
sm_progress_end(void)
{
	ProgressSlot *s = my_slot();

	if (s == NULL || s->pid == 0)
		return;
	SpinLockAcquire(&progress->mutex);
	s->pid = 0;
	SpinLockRelease(&progress->mutex);
}

static void
progress_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		sm_progress_end();
}

void
sm_progress_start(int64 run_id, int64 division_id)
{
	ProgressSlot *s = my_slot();

	if (s == NULL)
		return;
	SpinLockAcquire(&progress->mutex);
	s->pid = MyProcPid;
	s->database = MyDatabaseId;
	s->run_id = run_id;
	s->division_id = division_id;
	s->started_at = GetCurrentTimestamp();
	strlcpy(s->phase, "starting", sizeof(s->phase));
	s->changes = s->deactivated = s->added = 0;
	SpinLockRelease(&progress->mutex);
}

void
sm_progress_update(const char *phase, int64 changes, int64 deactivated, int64 added)
{
	ProgressSlot *s = my_slot();

	if (s == NULL || s->pid == 0)
		return;
	SpinLockAcquire(&progress->mutex);
	strlcpy(s->phase, phase, sizeof(s->phase));
	if (changes >= 0)
		s->changes = changes;
	if (deactivated >= 0)
		s->deactivated = deactivated;
	if (added >= 0)
		s->added = added;
	SpinLockRelease(&progress->mutex);
}

void
sm_progress_init(void)
{
	static bool done = false;

	if (done)
		return;
	done = true;
	/* an error or a FATAL exit aborts the transaction: the slot is freed */
	RegisterXactCallback(progress_xact_callback, NULL);
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = progress_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = progress_shmem_startup;
}

/* seatmgr.progress: runs of this database in progress right now */
Datum
seatmgr_progress(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ProgressSlot *copy;
	int			n;

	InitMaterializedSRF(fcinfo, 0);
	if (progress == NULL)
		return (Datum) 0;

	n = progress->nslots;
	copy = palloc(sizeof(ProgressSlot) * n);
	SpinLockAcquire(&progress->mutex);
	memcpy(copy, progress->slots, sizeof(ProgressSlot) * n);
	SpinLockRelease(&progress->mutex);

	for (int i = 0; i < n; i++)
	{
		Datum		values[8];
		bool		nulls[8] = {0};

		if (copy[i].pid == 0 || copy[i].database != MyDatabaseId)
			continue;
		values[0] = Int32GetDatum(copy[i].pid);
		values[1] = Int64GetDatum(copy[i].run_id);
		values[2] = Int64GetDatum(copy[i].division_id);
		values[3] = CStringGetTextDatum(copy[i].phase);
		values[4] = TimestampTzGetDatum(copy[i].started_at);
		values[5] = Int64GetDatum(copy[i].changes);
		values[6] = Int64GetDatum(copy[i].deactivated);
		values[7] = Int64GetDatum(copy[i].added);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
