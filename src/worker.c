/*
 * worker.c: the seatmgr launcher, a background worker started with the
 * server when seatmgr is in shared_preload_libraries, and the setting
 * seatmgr.database_names that says which databases seatmgr's background
 * processes serve.
 *
 * At every start, including the restart after a crash, it visits each
 * database it serves once (a short-lived worker per database, as
 * autovacuum's launcher does) and marks the runs a crash left
 * 'in_progress' as failed, as pg_cron does with its job runs, and asks for
 * a delivery worker where webhooks are pending.  The launcher itself is
 * connected to no database (it reads the shared catalog pg_database only),
 * and each clean-up worker leaves as soon as its database is done, so no
 * database keeps an idle session of seatmgr.  Then it waits on its latch,
 * starting the delivery worker of a database when a commit there created
 * deliveries (src/deliver.c), and stays so that the postmaster restarts it
 * after the next crash.
 *
 * Server log (LOG, as pg_cron logs its scheduler's start and stop; nothing
 * periodic): one line when the launcher starts, saying which databases it
 * visits; at most one line per visited database, from its clean-up worker,
 * saying what was done; one line when it stops.  A database without
 * seatmgr is reported only when seatmgr.database_names names it (DEBUG1
 * otherwise: a cluster may hold many databases that never installed it).
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
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/varlena.h"

PGDLLEXPORT void seatmgr_launcher_main(Datum arg);
PGDLLEXPORT void seatmgr_cleanup_main(Datum arg);

/*
 * seatmgr.database_names: the databases seatmgr's background processes
 * serve, the launcher's clean-up at start-up and the delivery workers
 * (src/deliver.c); empty: every database where seatmgr is installed.
 * Named after pg_cron's cron.database_name, plural because it is a list,
 * as pg_partman's pg_partman_bgw.dbname is: a comma-separated list of
 * names, quoted like identifiers where needed.
 */
char	   *sm_database_names = NULL;

/* a list that does not parse is refused (the old value stays on a reload) */
static bool
check_database_names(char **newval, void **extra, GucSource source)
{
	char	   *raw = pstrdup(*newval);
	List	   *names;
	bool		ok = SplitIdentifierString(raw, ',', &names);

	list_free(names);
	pfree(raw);
	if (!ok)
		GUC_check_errdetail("List syntax is invalid.");
	return ok;
}

/* The names of seatmgr.database_names, NIL when it is empty. */
static List *
database_names(void)
{
	List	   *names = NIL;

	if (sm_database_names != NULL && sm_database_names[0] != '\0')
		(void) SplitIdentifierString(pstrdup(sm_database_names), ',', &names);
	return names;
}

/* Whether seatmgr's background processes serve database dbname. */
bool
sm_serves_database(const char *dbname)
{
	List	   *names = database_names();
	ListCell   *lc;

	if (names == NIL)
		return true;
	foreach(lc, names)
		if (strcmp((char *) lfirst(lc), dbname) == 0)
			return true;
	return false;
}

void
sm_launcher_init(void)
{
	DefineCustomStringVariable("seatmgr.database_names",
							   "Databases seatmgr's background processes serve (comma-separated).",
							   "The launcher's clean-up at start-up and the webhook delivery workers.  Empty: every database where seatmgr is installed.",
							   &sm_database_names, "",
							   PGC_SIGHUP, GUC_LIST_INPUT,
							   check_database_names, sm_delivery_databases_changed, NULL);
}

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

/* a database of pg_database, as the launcher sees it */
typedef struct Database
{
	char	   *name;
	bool		allowconn;
	bool		istemplate;
} Database;

/* Every database of pg_database (a shared catalog: no database connection). */
static List *
all_databases(void)
{
	List	   *dbs = NIL;
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
		MemoryContext old = MemoryContextSwitchTo(cxt);
		Database   *d = palloc(sizeof(Database));

		d->name = pstrdup(NameStr(db->datname));
		d->allowconn = db->datallowconn;
		d->istemplate = db->datistemplate;
		dbs = lappend(dbs, d);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return dbs;
}

/*
 * The databases to visit at start-up: with seatmgr.database_names empty,
 * every database that accepts connections and is no template (whether
 * seatmgr is installed there, only a connection can tell: the clean-up
 * worker's); else the named ones, in their order, a name that is no
 * database or that cannot be visited getting a line of its own.
 */
static List *
databases_to_visit(void)
{
	List	   *dbs = all_databases();
	List	   *names = database_names();
	List	   *visit = NIL;
	ListCell   *lc;

	if (names == NIL)
	{
		foreach(lc, dbs)
		{
			Database   *d = (Database *) lfirst(lc);

			if (d->allowconn && !d->istemplate)
				visit = lappend(visit, d->name);
		}
		return visit;
	}
	foreach(lc, names)
	{
		char	   *name = (char *) lfirst(lc);
		Database   *found = NULL;
		ListCell   *dc;

		foreach(dc, dbs)
			if (strcmp(((Database *) lfirst(dc))->name, name) == 0)
				found = (Database *) lfirst(dc);
		if (found == NULL)
			ereport(WARNING,
					(errmsg("seatmgr launcher: database \"%s\" of seatmgr.database_names does not exist; skipped", name),
					 errhint("Correct seatmgr.database_names in postgresql.conf (or with ALTER SYSTEM) and reload.")));
		else if (found->istemplate || !found->allowconn)
			ereport(LOG,
					(errmsg("seatmgr launcher: database \"%s\" of seatmgr.database_names is a template or does not allow connections; skipped", name)));
		else
		{
			bool		again = false;

			foreach(dc, visit)
				again = again || strcmp((char *) lfirst(dc), name) == 0;
			if (!again)
				visit = lappend(visit, name);
		}
	}
	return visit;
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
	/* no database: the shared catalogs only (pg_database) */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("seatmgr launcher");

	if (sm_database_names == NULL || sm_database_names[0] == '\0')
		ereport(LOG, (errmsg("seatmgr launcher started: visiting every database where seatmgr is installed")));
	else
		ereport(LOG, (errmsg("seatmgr launcher started: visiting the databases of seatmgr.database_names: %s",
							 sm_database_names)));

	dbs = databases_to_visit();
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
	ereport(LOG, (errmsg("seatmgr launcher shutting down")));
	proc_exit(0);
}

/*
 * The clean-up worker of one database: connects, cleans up, says in one
 * line what it did, and leaves.
 */
void
seatmgr_cleanup_main(Datum arg)
{
	char		dbname[BGW_EXTRALEN];
	bool		installed;
	int64		failed = 0;
	int64		pending = 0;

	strlcpy(dbname, MyBgworkerEntry->bgw_extra, BGW_EXTRALEN);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(dbname, NULL, 0);
	pgstat_report_appname("seatmgr cleanup");

	StartTransactionCommand();
	installed = OidIsValid(get_extension_oid("seatmgr", true));
	if (installed)
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		SPI_connect();
		failed = sm_fail_interrupted_runs();
		pending = sm_deliveries_pending();
		if (pending > 0)
			sm_delivery_request_at_startup();
		SPI_finish();
		PopActiveSnapshot();
	}
	CommitTransactionCommand();

	if (!installed)
		ereport(sm_database_names != NULL && sm_database_names[0] != '\0' ? LOG : DEBUG1,
				(errmsg("seatmgr: database \"%s\": seatmgr is not installed", dbname)));
	else if (failed > 0 && pending > 0)
		ereport(LOG,
				(errmsg_plural("seatmgr: database \"%s\": %lld interrupted run marked failed; deliveries pending: %lld, delivery worker requested",
							   "seatmgr: database \"%s\": %lld interrupted runs marked failed; deliveries pending: %lld, delivery worker requested",
							   failed, dbname, (long long) failed, (long long) pending)));
	else if (failed > 0)
		ereport(LOG,
				(errmsg_plural("seatmgr: database \"%s\": %lld interrupted run marked failed",
							   "seatmgr: database \"%s\": %lld interrupted runs marked failed",
							   failed, dbname, (long long) failed)));
	else if (pending > 0)
		ereport(LOG,
				(errmsg("seatmgr: database \"%s\": deliveries pending: %lld, delivery worker requested",
						dbname, (long long) pending)));
	else
		ereport(LOG, (errmsg("seatmgr: database \"%s\": nothing to clean up", dbname)));
	proc_exit(0);
}
