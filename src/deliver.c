/*
 * deliver.c: sending the outbox (SPEC section 7, R18, R19).
 *
 * One delivery pass: the pending deliveries that are due, of enabled
 * webhooks, locked FOR UPDATE SKIP LOCKED (so that CALL seatmgr_deliver()
 * and the worker never send one delivery at once), are POSTed together
 * through one libcurl multi handle, each with the timeout
 * seatmgr.webhook_timeout, http and https only and no redirect followed;
 * every outcome is stored by one UPDATE in the same transaction.  The locks
 * are held while the requests run: a crash or a SIGKILL before the commit
 * leaves the deliveries pending, so they are sent again (at least once,
 * R17), and deliveries of a rolled-back change never existed.
 *
 * Signatures follow Standard Webhooks: "v1," + base64 of HMAC-SHA256 (from
 * OpenSSL) keyed with the secret's decoded bytes, of
 * "<webhook-id>.<webhook-timestamp>.<body>".
 *
 * Failures (another status, a timeout, a refused connection, garbage) keep
 * the delivery pending, next_attempt_at later by
 * seatmgr.webhook_retry_delay * 2^(attempts - 1); the attempt number
 * seatmgr.webhook_max_attempts that fails makes it failed.
 *
 * The delivery worker (R19): one per database, started by the launcher
 * (src/worker.c) when a transaction of that database commits deliveries
 * (webhooks.c wakes it: its latch is published in shared memory here, or
 * the launcher's when it does not run yet) or at start-up when deliveries
 * are pending.  It sleeps on its latch until the next delivery is due.
 */
#include "seatmgr.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "common/base64.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/varlena.h"

PGDLLEXPORT void seatmgr_delivery_main(Datum arg);

/* deliveries sent together in one pass */
#define DELIVERY_BATCH 500

/* ---------------------------------------------------------------------
 * Shared memory: the delivery worker of each database, and the launcher
 * ---------------------------------------------------------------------
 */

typedef struct DeliverySlot
{
	Oid			database;		/* InvalidOid: free */
	bool		wanted;			/* the launcher keeps a worker running */
	int			pid;			/* the worker, 0 when none runs */
	Latch	   *latch;
	bool		released;		/* its last worker left of its own accord */
} DeliverySlot;

typedef struct DeliveryShared
{
	slock_t		mutex;
	Latch	   *launcher;
	DeliverySlot slots[SM_DELIVERY_SLOTS];
} DeliveryShared;

static DeliveryShared *shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
delivery_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(sizeof(DeliveryShared));
}

static void
delivery_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("seatmgr deliveries", sizeof(DeliveryShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(DeliveryShared));
		SpinLockInit(&shared->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

void
sm_delivery_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = delivery_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = delivery_shmem_startup;
}

/*
 * Asks for a delivery worker in database db (wake: also set the latch of
 * the worker, or of the launcher when none runs yet).  Without shared
 * memory (seatmgr not preloaded) it does nothing: CALL seatmgr_deliver().
 */
static void
request_worker(Oid db, bool wake)
{
	Latch	   *latch = NULL;
	DeliverySlot *free_slot = NULL;
	bool		found = false;

	if (shared == NULL)
		return;
	SpinLockAcquire(&shared->mutex);
	for (int i = 0; i < SM_DELIVERY_SLOTS; i++)
	{
		DeliverySlot *s = &shared->slots[i];

		if (s->database == db)
		{
			found = true;
			s->wanted = true;
			latch = s->latch ? s->latch : shared->launcher;
			break;
		}
		if (s->database == InvalidOid && free_slot == NULL)
			free_slot = s;
	}
	if (!found && free_slot != NULL)
	{
		free_slot->database = db;
		free_slot->wanted = true;
		free_slot->pid = 0;
		free_slot->latch = NULL;
		latch = shared->launcher;
	}
	SpinLockRelease(&shared->mutex);
	if (!found && free_slot == NULL)
		ereport(LOG,
				(errmsg("seatmgr: no delivery worker slot for database %u", db),
				 errhint("At most %d databases have a delivery worker; CALL seatmgr_deliver() delivers in the others.",
						 SM_DELIVERY_SLOTS)));
	if (wake && latch != NULL)
		SetLatch(latch);
}

/*
 * whether the worker serves this backend's database: -1 not known yet
 * (again after seatmgr.database_names changes: sm_delivery_databases_changed)
 */
static int	serves = -1;

/* the assign hook of seatmgr.database_names (worker.c) */
void
sm_delivery_databases_changed(const char *newval, void *extra)
{
	serves = -1;
}

/* In a transaction that creates deliveries: what the commit will need. */
void
sm_delivery_prime(void)
{
	if (shared != NULL && serves < 0)
	{
		char	   *name = get_database_name(MyDatabaseId);

		serves = name != NULL && sm_serves_database(name) ? 1 : 0;
	}
}

/* At commit of a transaction that created deliveries (webhooks.c): no catalog access */
void
sm_delivery_wake(void)
{
	if (shared != NULL && serves == 1)
		request_worker(MyDatabaseId, true);
}

static SeatQuery q_pending = {
	"SELECT pg_catalog.count(*) FROM seatmgr.deliveries WHERE status OPERATOR(pg_catalog.=) 'pending'", 0, {0}
};

/* How many deliveries are pending (the clean-up worker, SPI connected). */
int64
sm_deliveries_pending(void)
{
	/* a database still at 0.1.0 has no outbox: do not plan a query on it */
	if (!OidIsValid(get_relname_relid("deliveries", get_namespace_oid("seatmgr", true))))
		return 0;
	sm_exec(&q_pending, NULL, NULL, true, 1);
	return sm_get_int64(0, 1, NULL);
}

/* The clean-up worker at start-up: pending deliveries need a worker. */
void
sm_delivery_request_at_startup(void)
{
	request_worker(MyDatabaseId, false);
}

/*
 * The launcher's part: publishes its latch and starts (again) the worker of
 * every slot that wants one and has none.  handles[] and started[] are the
 * launcher's own, one per slot.
 */
void
sm_delivery_launch(BackgroundWorkerHandle **handles, TimestampTz *started)
{
	static int	failures[SM_DELIVERY_SLOTS];

	if (shared == NULL)
		return;
	for (int i = 0; i < SM_DELIVERY_SLOTS; i++)
	{
		DeliverySlot *s = &shared->slots[i];
		Oid			db;
		bool		wanted;
		bool		released;
		pid_t		pid;
		BackgroundWorker w = {0};

		SpinLockAcquire(&shared->mutex);
		shared->launcher = MyLatch;
		db = s->database;
		wanted = s->wanted;
		released = s->released;
		SpinLockRelease(&shared->mutex);
		if (db == InvalidOid || !wanted)
			continue;
		if (handles[i] != NULL && GetBackgroundWorkerPid(handles[i], &pid) != BGWH_STOPPED)
			continue;
		if (handles[i] != NULL && released)
		{
			/*
			 * its last worker left of its own accord (idle, the extension
			 * gone, seatmgr.database_names changed): a new request is not a
			 * restart after a failure
			 */
			handles[i] = NULL;
			failures[i] = 0;
		}
		if (handles[i] != NULL)
		{
			/*
			 * A worker that stopped on an error is started again, at most
			 * every 5 s; one that fails three times within a minute of its
			 * start (its database was dropped, say) is forgotten until the
			 * next commit of deliveries there asks again.
			 */
			if (!TimestampDifferenceExceeds(started[i], GetCurrentTimestamp(), 5000))
				continue;
			failures[i] = TimestampDifferenceExceeds(started[i], GetCurrentTimestamp(), 60000) ? 0 : failures[i] + 1;
			if (failures[i] >= 3)
			{
				ereport(LOG,
						(errmsg("seatmgr launcher: the delivery worker of database %u keeps failing; it stops until deliveries are committed there again", db)));
				SpinLockAcquire(&shared->mutex);
				s->wanted = false;
				s->database = InvalidOid;
				SpinLockRelease(&shared->mutex);
				handles[i] = NULL;
				failures[i] = 0;
				continue;
			}
		}
		w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		w.bgw_start_time = BgWorkerStart_RecoveryFinished;
		w.bgw_restart_time = BGW_NEVER_RESTART;
		snprintf(w.bgw_library_name, BGW_MAXLEN, "seatmgr");
		snprintf(w.bgw_function_name, BGW_MAXLEN, "seatmgr_delivery_main");
		snprintf(w.bgw_name, BGW_MAXLEN, "seatmgr delivery %u", db);
		snprintf(w.bgw_type, BGW_MAXLEN, "seatmgr delivery");
		w.bgw_main_arg = ObjectIdGetDatum(db);
		w.bgw_notify_pid = MyProcPid;
		started[i] = GetCurrentTimestamp();
		SpinLockAcquire(&shared->mutex);
		s->released = false;
		SpinLockRelease(&shared->mutex);
		if (!RegisterDynamicBackgroundWorker(&w, &handles[i]))
		{
			handles[i] = NULL;
			ereport(LOG,
					(errmsg("seatmgr launcher: no worker slot to deliver webhooks of database %u", db),
					 errhint("Raise max_worker_processes; CALL seatmgr_deliver() delivers meanwhile.")));
		}
	}
}

/* ---------------------------------------------------------------------
 * One delivery pass
 * ---------------------------------------------------------------------
 */

typedef struct Delivery
{
	int64		domain_id;
	int64		delivery_id;
	char	   *message_id;
	char	   *body;
	char	   *url;
	char	   *secret;
	/* the outcome */
	int			status;			/* HTTP status, 0 without an answer */
	char	   *error;			/* NULL when delivered */
	/* libcurl's */
	CURL	   *easy;
	struct curl_slist *headers;
} Delivery;

static SeatQuery q_due = {
	"SELECT d.domain_id, d.delivery_id, d.message_id, d.payload::text, w.url, w.secret"
	"  FROM seatmgr.deliveries d JOIN seatmgr.webhooks w ON w.webhook_id = d.webhook_id"
	" WHERE d.status = 'pending' AND d.next_attempt_at <= pg_catalog.now() AND w.enabled"
	" ORDER BY d.next_attempt_at"
	" LIMIT $1"
	" FOR NO KEY UPDATE OF d SKIP LOCKED",
	1, {INT4OID}
};

/* $5 max attempts, $6 first retry delay (ms) */
static SeatQuery q_outcomes = {
	"UPDATE seatmgr.deliveries d"
	"   SET attempts = d.attempts + 1,"
	"       last_attempt_at = pg_catalog.now(),"
	"       last_status = CASE WHEN o.http > 0 THEN o.http END,"
	"       last_error = o.error,"
	"       status = CASE WHEN o.error IS NULL THEN 'delivered'"
	"                     WHEN d.attempts + 1 >= $5 THEN 'failed' ELSE 'pending' END,"
	"       delivered_at = CASE WHEN o.error IS NULL THEN pg_catalog.now() END,"
	"       next_attempt_at = CASE WHEN o.error IS NULL OR d.attempts + 1 >= $5 THEN d.next_attempt_at"
	"                  ELSE pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs =>"
	"                       $6::float8 / 1000 * 2 ^ LEAST(d.attempts, 30)) END"
	"  FROM ROWS FROM (pg_catalog.unnest($1::bigint[]), pg_catalog.unnest($2::bigint[]),"
	"                  pg_catalog.unnest($3::integer[]), pg_catalog.unnest($4::text[])) o(domain_id, delivery_id, http, error)"
	" WHERE d.domain_id = o.domain_id AND d.delivery_id = o.delivery_id",
	6, {INT8ARRAYOID, INT8ARRAYOID, INT4ARRAYOID, TEXTARRAYOID, INT4OID, INT4OID}
};

static size_t
discard_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	return size * nmemb;
}

/* "v1,<base64 of HMAC-SHA256 of id.timestamp.body>", or NULL for a bad secret */
static char *
signature(const char *secret, const char *message_id, const char *timestamp, const char *body)
{
	uint8		key[100];
	int			keylen = sm_webhook_key(secret, key, sizeof(key));
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char	   *signed_text;
	char		b64[128];
	int			len;

	if (keylen < 0)
		return NULL;
	signed_text = psprintf("%s.%s.%s", message_id, timestamp, body);
	if (HMAC(EVP_sha256(), key, keylen, (unsigned char *) signed_text, strlen(signed_text), mac, &maclen) == NULL)
		return NULL;
	len = pg_b64_encode((const char *) mac, maclen, b64, sizeof(b64));
	if (len < 0)
		return NULL;
	b64[len] = '\0';
	return psprintf("v1,%s", b64);
}

static struct curl_slist *
add_header(struct curl_slist *list, const char *header)
{
	struct curl_slist *l = curl_slist_append(list, header);

	if (l == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	return l;
}

static void
prepare_request(Delivery *d, int index)
{
	char	   *timestamp = psprintf("%ld", (long) time(NULL));
	char	   *sig = signature(d->secret, d->message_id, timestamp, d->body);
	CURL	   *e;

	if (sig == NULL)
	{
		d->error = "the webhook's secret is not whsec_ and base64";
		return;
	}
	d->headers = add_header(d->headers, "content-type: application/json");
	d->headers = add_header(d->headers, psprintf("webhook-id: %s", d->message_id));
	d->headers = add_header(d->headers, psprintf("webhook-timestamp: %s", timestamp));
	d->headers = add_header(d->headers, psprintf("webhook-signature: %s", sig));
	/* no "Expect: 100-continue" round trip */
	d->headers = add_header(d->headers, "Expect:");
	e = d->easy = curl_easy_init();
	if (e == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	curl_easy_setopt(e, CURLOPT_URL, d->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long) strlen(d->body));
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, d->headers);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long) sm_webhook_timeout);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long) sm_webhook_timeout);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "seatmgr/" SEATMGR_VERSION);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *) (intptr_t) index);
}

static CURLM *multi = NULL;

/* Sends every request of ds[0..n) at once; fills status and error. */
static void
send_all(Delivery *ds, int n)
{
	int			running = 0;
	CURLMsg    *msg;
	int			left;

	if (multi == NULL)
	{
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (multi = curl_multi_init()) == NULL)
			elog(ERROR, "seatmgr: could not initialize libcurl");
		curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 32L);
		curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 64L);
	}
	PG_TRY();
	{
		for (int i = 0; i < n; i++)
		{
			prepare_request(&ds[i], i);
			if (ds[i].easy != NULL && curl_multi_add_handle(multi, ds[i].easy) != CURLM_OK)
				elog(ERROR, "seatmgr: could not add a request to libcurl");
		}
		do
		{
			if (curl_multi_perform(multi, &running) != CURLM_OK)
				elog(ERROR, "seatmgr: libcurl failed");
			if (running > 0)
				(void) curl_multi_poll(multi, NULL, 0, 1000, NULL);
			CHECK_FOR_INTERRUPTS();
		} while (running > 0);
		while ((msg = curl_multi_info_read(multi, &left)) != NULL)
		{
			char	   *p;
			Delivery   *d;
			long		http = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
			d = &ds[(intptr_t) p];
			if (msg->data.result != CURLE_OK)
			{
				d->error = pstrdup(curl_easy_strerror(msg->data.result));
				continue;
			}
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &http);
			d->status = (int) http;
			if (http < 200 || http > 299)
				d->error = psprintf("HTTP status %ld", http);
		}
	}
	PG_FINALLY();
	{
		for (int i = 0; i < n; i++)
		{
			if (ds[i].easy != NULL)
			{
				curl_multi_remove_handle(multi, ds[i].easy);
				curl_easy_cleanup(ds[i].easy);
				ds[i].easy = NULL;
			}
			curl_slist_free_all(ds[i].headers);
			ds[i].headers = NULL;
		}
	}
	PG_END_TRY();
}

/*
 * One batch: sends the due deliveries (at most DELIVERY_BATCH) and stores
 * their outcomes, in the caller's transaction, SPI connected.  Returns how
 * many were sent.
 */
static int
deliver_batch(void)
{
	Datum		v[6];
	int			n;
	Delivery   *ds;
	Datum	   *domains,
			   *ids,
			   *https,
			   *errors;
	bool	   *error_nulls;
	int			dims[1];
	int			lbs[1] = {1};

	v[0] = Int32GetDatum(DELIVERY_BATCH);
	sm_exec(&q_due, v, NULL, false, 0);
	n = (int) SPI_processed;
	if (n == 0)
		return 0;
	ds = palloc0(sizeof(Delivery) * n);
	for (int i = 0; i < n; i++)
	{
		ds[i].domain_id = sm_get_int64(i, 1, NULL);
		ds[i].delivery_id = sm_get_int64(i, 2, NULL);
		ds[i].message_id = sm_get_text(i, 3);
		ds[i].body = sm_get_text(i, 4);
		ds[i].url = sm_get_text(i, 5);
		ds[i].secret = sm_get_text(i, 6);
	}
	send_all(ds, n);

	domains = palloc(sizeof(Datum) * n);
	ids = palloc(sizeof(Datum) * n);
	https = palloc(sizeof(Datum) * n);
	errors = palloc(sizeof(Datum) * n);
	error_nulls = palloc(sizeof(bool) * n);
	for (int i = 0; i < n; i++)
	{
		domains[i] = Int64GetDatum(ds[i].domain_id);
		ids[i] = Int64GetDatum(ds[i].delivery_id);
		https[i] = Int32GetDatum(ds[i].status);
		error_nulls[i] = ds[i].error == NULL;
		errors[i] = ds[i].error ? CStringGetTextDatum(ds[i].error) : (Datum) 0;
	}
	dims[0] = n;
	v[0] = PointerGetDatum(construct_array(domains, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	v[1] = PointerGetDatum(construct_array(ids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	v[2] = PointerGetDatum(construct_array(https, n, INT4OID, 4, true, TYPALIGN_INT));
	v[3] = PointerGetDatum(construct_md_array(errors, error_nulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
	v[4] = Int32GetDatum(sm_webhook_max_attempts);
	v[5] = Int32GetDatum(sm_webhook_retry_delay);
	sm_exec(&q_outcomes, v, NULL, false, 0);
	return n;
}

static SeatQuery q_next_due = {
	"SELECT EXTRACT(epoch FROM pg_catalog.min(d.next_attempt_at) - pg_catalog.now())::float8"
	"  FROM seatmgr.deliveries d JOIN seatmgr.webhooks w ON w.webhook_id = d.webhook_id"
	" WHERE d.status = 'pending' AND w.enabled",
	0, {0}
};

/* CALL seatmgr_deliver(): every due delivery, batch after batch, in this transaction */
SM_SCOPED_FUNCTION(deliver)

static Datum
deliver(FunctionCallInfo fcinfo, SmCaller *c)
{
	/* it sends every domain's deliveries */
	if (!sm_unscoped(c, SM_ADMIN))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for procedure seatmgr_deliver"),
				 errhint("Only an unscoped admin (or the extension's owner) delivers every domain's webhooks.")));
	SPI_connect();
	while (deliver_batch() == DELIVERY_BATCH)
		;
	SPI_finish();
	PG_RETURN_VOID();
}

/* ---------------------------------------------------------------------
 * The delivery worker of one database
 * ---------------------------------------------------------------------
 */

static int	my_slot = -1;
static char *my_dbname = NULL;	/* the database served, for seatmgr.database_names */

static void
leave_slot(int code, Datum arg)
{
	if (shared == NULL || my_slot < 0)
		return;
	SpinLockAcquire(&shared->mutex);
	shared->slots[my_slot].pid = 0;
	shared->slots[my_slot].latch = NULL;
	SpinLockRelease(&shared->mutex);
}

/* no extension (or no outbox) in this database: the launcher forgets it */
static void
release_slot(void)
{
	SpinLockAcquire(&shared->mutex);
	shared->slots[my_slot].wanted = false;
	shared->slots[my_slot].database = InvalidOid;
	shared->slots[my_slot].pid = 0;
	shared->slots[my_slot].latch = NULL;
	shared->slots[my_slot].released = true;
	SpinLockRelease(&shared->mutex);
	my_slot = -1;
}

static SeatQuery q_has_outbox = {
	"SELECT pg_catalog.to_regclass('seatmgr.deliveries') IS NOT NULL", 0, {0}
};

/* one transaction: a batch; returns how many were sent, and the seconds to the next due */
static int
worker_batch(double *next_due, bool *none)
{
	int			sent = 0;
	bool		ok = true;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	if (!OidIsValid(get_extension_oid("seatmgr", true)) ||
		(sm_exec(&q_has_outbox, NULL, NULL, true, 1), !sm_get_bool(0, 1)))
		ok = false;
	else
	{
		pgstat_report_activity(STATE_RUNNING, "delivering webhooks");
		sent = deliver_batch();
		sm_exec(&q_next_due, NULL, NULL, true, 1);
		{
			bool		isnull;
			Datum		d = sm_get(0, 1, &isnull);

			*none = isnull;
			*next_due = isnull ? 60.0 : DatumGetFloat8(d);
		}
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	pgstat_report_stat(false);
	if (!ok)
	{
		ereport(LOG, (errmsg("seatmgr delivery worker: seatmgr is not installed in this database; the worker stops")));
		release_slot();
		proc_exit(0);
	}
	return sent;
}

void
seatmgr_delivery_main(Datum arg)
{
	Oid			db = DatumGetObjectId(arg);

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	/* terminated (DROP DATABASE ... WITH (FORCE), pg_terminate_backend): forget this database */
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(db, InvalidOid, 0);
	pgstat_report_appname("seatmgr delivery");

	if (shared == NULL)
		proc_exit(0);
	SpinLockAcquire(&shared->mutex);
	for (int i = 0; i < SM_DELIVERY_SLOTS; i++)
		if (shared->slots[i].database == db)
		{
			my_slot = i;
			shared->slots[i].pid = MyProcPid;
			shared->slots[i].latch = MyLatch;
		}
	SpinLockRelease(&shared->mutex);
	if (my_slot < 0)
		proc_exit(0);
	before_shmem_exit(leave_slot, (Datum) 0);
	/* nothing the worker runs resolves through a path a user could plant in */
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	StartTransactionCommand();
	my_dbname = MemoryContextStrdup(TopMemoryContext, get_database_name(db));
	CommitTransactionCommand();

	for (;;)
	{
		double		next_due = 60.0;
		bool		none = false;
		long		wait_ms;
		int			rc;

		CHECK_FOR_INTERRUPTS();
		if (ShutdownRequestPending)
		{
			release_slot();
			proc_exit(0);
		}
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			/* seatmgr.database_names no longer names this one: leave it pending */
			if (my_dbname == NULL || !sm_serves_database(my_dbname))
			{
				ereport(LOG, (errmsg("seatmgr delivery worker: seatmgr.database_names no longer names database \"%s\"; the worker stops",
									 my_dbname ? my_dbname : "?")));
				release_slot();
				proc_exit(0);
			}
		}
		if (worker_batch(&next_due, &none) == DELIVERY_BATCH)
			continue;
		/* sleep until the next delivery is due or a commit sets the latch */
		/*
		 * Nothing pending: wait a minute for a commit, then leave (the next
		 * commit of deliveries starts a worker again), so that an idle
		 * database has no session of seatmgr.  Due ones left are locked by
		 * CALL seatmgr_deliver(): look again soon.
		 */
		wait_ms = next_due <= 0.1 ? 100 : next_due >= 60 ? 60000 : (long) (next_due * 1000) + 10;
		rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, wait_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		if (none && (rc & WL_TIMEOUT) && !(rc & WL_LATCH_SET))
		{
			release_slot();
			proc_exit(0);
		}
	}
}
