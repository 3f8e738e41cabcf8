/*
 * worker.c: the seatmgr launcher, a background worker started with the
 * server when seatmgr is in shared_preload_libraries.
 *
 * At every start, including the restart after a crash, it visits each
 * database once (a short-lived worker per database, as autovacuum's
 * launcher does) and marks the runs a crash left 'in_progress' as failed,
 * as pg_cron does with its job runs, and asks for a delivery worker where
 * webhooks are pending.  Then it waits on its latch, starting the delivery
 * worker of a database when a commit there created deliveries
 * (src/deliver.c), and stays so that the postmaster restarts it after the
 * next crash.
 */
#include "seatmgr.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

PGDLLEXPORT void seatmgr_launcher_main(Datum arg);
PGDLLEXPORT void seatmgr_cleanup_main(Datum arg);

void
sm_register_launcher(void)
{
	BackgroundWorker w = {0};

	if (IsBinaryUpgrade)
		return;
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = 10;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "seatmgr");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "seatmgr_launcher_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "seatmgr launcher");
	snprintf(w.bgw_type, BGW_MAXLEN, "seatmgr launcher");
	RegisterBackgroundWorker(&w);
}

/* The databases that accept connections, read from pg_database. */
static List *
database_list(void)
{
	List	   *names = NIL;
	MemoryContext cxt = CurrentMemoryContext;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		if (db->datallowconn)
		{
			MemoryContext old = MemoryContextSwitchTo(cxt);

			names = lappend(names, pstrdup(NameStr(db->datname)));
			MemoryContextSwitchTo(old);
		}
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return names;
}

static void
cleanup_database(const char *dbname)
{
	BackgroundWorker w = {0};
	BackgroundWorkerHandle *handle;

	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "seatmgr");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "seatmgr_cleanup_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "seatmgr cleanup %s", dbname);
	snprintf(w.bgw_type, BGW_MAXLEN, "seatmgr cleanup");
	strlcpy(w.bgw_extra, dbname, BGW_EXTRALEN);
	w.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&w, &handle))
	{
		ereport(LOG, (errmsg("seatmgr launcher: no worker slot to clean up database \"%s\"", dbname),
					  errhint("Raise max_worker_processes.")));
		return;
	}
	/* one database at a time: the clean-up is short */
	(void) WaitForBackgroundWorkerShutdown(handle);
}

void
seatmgr_launcher_main(Datum arg)
{
	ListCell   *lc;
	List	   *dbs;
	BackgroundWorkerHandle *delivery_workers[SM_DELIVERY_SLOTS] = {0};
	TimestampTz delivery_started[SM_DELIVERY_SLOTS] = {0};

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("seatmgr launcher");

	dbs = database_list();
	foreach(lc, dbs)
	{
		if (ShutdownRequestPending)
			break;
		cleanup_database((const char *) lfirst(lc));
	}

	/* stay, so that the postmaster starts us again after a crash */
	while (!ShutdownRequestPending)
	{
		sm_delivery_launch(delivery_workers, delivery_started);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 5000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
	proc_exit(0);
}

void
seatmgr_cleanup_main(Datum arg)
{
	char		dbname[BGW_EXTRALEN];

	strlcpy(dbname, MyBgworkerEntry->bgw_extra, BGW_EXTRALEN);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(dbname, NULL, 0);
	pgstat_report_appname("seatmgr cleanup");

	StartTransactionCommand();
	if (OidIsValid(get_extension_oid("seatmgr", true)))
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		SPI_connect();
		sm_fail_interrupted_runs();
		if (sm_delivery_serves(dbname) && sm_deliveries_pending())
			sm_delivery_request_at_startup();
		SPI_finish();
		PopActiveSnapshot();
	}
	CommitTransactionCommand();
	proc_exit(0);
}
