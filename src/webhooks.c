/*
 * webhooks.c: the outbox of signed webhooks (SPEC section 7, R17).
 *
 * Deliveries are created from the license events themselves: an AFTER
 * INSERT ... FOR EACH STATEMENT trigger on seatmgr.license_events, with the
 * statement's new rows as a transition table, writes the deliveries in C
 * (write_deliveries: each event's user, division, domain and notice found
 * by index probes, payloads built as JsonbValues, rows written by
 * table_multi_insert with their index entries, as COPY FROM does; no SPI
 * statement: 0.59x the instructions of the INSERT ... SELECT it replaced
 * for a 10,000-event statement, 0.31x for a one-event one), in the
 * transaction that made the change: a rolled-back change leaves no
 * delivery, a committed one is in the table before anyone can send it.
 * Whoever writes an event (the writer row by row, a run's chunks, a batch
 * invite) needs to know nothing of webhooks.  A finished run calls
 * sm_run_finished (run.finished, one SQL statement: src/sql/run_finished.sql).
 *
 * The enabled webhooks (domain, event types) are cached per backend and
 * forgotten when seatmgr.webhooks changes (a relcache invalidation sent by
 * its statement trigger, as access.c does for seatmgr.access): without a
 * webhook an event costs one comparison.  A restore (sm_restoring) creates
 * no delivery: the dump has them.
 *
 * At commit, a transaction that created deliveries wakes the delivery
 * worker of its database (src/deliver.c): no polling.
 */
#include "seatmgr.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "common/base64.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

#include "sql/run_finished.sql.h"

PG_FUNCTION_INFO_V1(seatmgr_events_to_outbox);
PG_FUNCTION_INFO_V1(seatmgr_webhooks_changed);
PG_FUNCTION_INFO_V1(seatmgr_new_webhook_secret);

/* the settings (README.md, Webhooks) */
int			sm_webhook_timeout = 5000;
int			sm_webhook_max_attempts = 8;
int			sm_webhook_retry_delay = 5000;

/*
 * The enabled webhooks of this database, cached per backend: what an event
 * is matched with (R17).  Loaded on the latest snapshot when first needed,
 * forgotten when seatmgr.webhooks changes (a relcache invalidation sent by
 * its statement trigger, processed at the next command here, at the commit
 * of another session there, and undone by a rollback).  The invalidation
 * only marks the cache stale: a statement copies what it matches with.
 */
typedef struct Hook
{
	int64		webhook_id;
	int64		domain_id;
	bool		every_domain;	/* domain_id NULL */
	uint32		types;			/* bits of hook_types[] (event_types NULL: all) */
} Hook;

static const char *const hook_types[] = {
	"license.granted", "license.deactivated", "license.reactivated", "license.removed",
	"license.waitlisted", "license.warned", "run.finished", NULL
};

static Hook *hooks = NULL;
static int	nhooks = 0;
static bool hooks_valid = false;
static uint64 hooks_generation = 0;	/* bumped by every invalidation of the cache */
static Oid	webhooks_relid = InvalidOid;

/* seatmgr.deliveries as the outbox writes it: forgotten with its relcache entry */
static Oid	deliveries_relid = InvalidOid;
static Oid	deliveries_seqid = InvalidOid;

/* this transaction created or re-opened deliveries: wake the worker at commit */
static bool wake_at_commit = false;

static void
webhooks_relcache_changed(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == webhooks_relid)
	{
		hooks_valid = false;
		hooks_generation++;
	}
	if (!OidIsValid(relid) || relid == deliveries_relid)
		deliveries_relid = InvalidOid;
}
static void
webhooks_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT && wake_at_commit)
		sm_delivery_wake();
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		wake_at_commit = false;
}

void
sm_webhooks_init(void)
{
	DefineCustomIntVariable("seatmgr.webhook_timeout",
							"Time a webhook receiver has to answer one delivery.",
							"A delivery not answered in time is retried later (R18).",
							&sm_webhook_timeout, 5000, 100, 300000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("seatmgr.webhook_max_attempts",
							"Attempts of one delivery before it is failed.",
							NULL,
							&sm_webhook_max_attempts, 8, 1, 100,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("seatmgr.webhook_retry_delay",
							"Wait before the first retry of a delivery; each later wait doubles.",
							NULL,
							&sm_webhook_retry_delay, 5000, 100, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	/* which databases the worker serves: seatmgr.database_names (worker.c) */
	CacheRegisterRelcacheCallback(webhooks_relcache_changed, (Datum) 0);
	RegisterXactCallback(webhooks_xact_callback, NULL);
}

static SeatQuery q_hooks = {
	"SELECT webhook_id, domain_id, event_types FROM seatmgr.webhooks WHERE enabled", 0, {0}
};

/*
 * The enabled webhooks of this database (SPI connected): a copy in the
 * caller's memory context, *n of them.
 */
static Hook *
current_hooks(int *n)
{
	Hook	   *copy;

	/* another session's committed change to seatmgr.webhooks, even inside a transaction */
	AcceptInvalidationMessages();
	if (!hooks_valid)
	{
		Hook	   *loaded = NULL;
		int			nloaded = 0;
		uint64		generation;
		Oid			save_user;
		int			save_sec;
		HeapTuple	tup;

		webhooks_relid = get_relname_relid("webhooks", get_namespace_oid("seatmgr", false));
		/* 0.1.0, before ALTER EXTENSION UPDATE, has no webhooks (nothing cached) */
		if (!OidIsValid(webhooks_relid))
		{
			*n = 0;
			return NULL;
		}
		/*
		 * The lock first (it takes in the invalidations sent before it), then
		 * the generation: an invalidation during the load leaves the cache
		 * invalid, to be loaded again next time.
		 */
		LockRelationOid(webhooks_relid, AccessShareLock);
		generation = hooks_generation;
		/*
		 * Read as the table's owner: the cache serves every role of this
		 * backend, so row-level security of the caller (a run called by a
		 * domain's admin) must not filter it.
		 */
		tup = SearchSysCache1(RELOID, ObjectIdGetDatum(webhooks_relid));
		if (!HeapTupleIsValid(tup))
			elog(ERROR, "seatmgr: cache lookup failed for relation %u", webhooks_relid);
		GetUserIdAndSecContext(&save_user, &save_sec);
		SetUserIdAndSecContext(((Form_pg_class) GETSTRUCT(tup))->relowner,
							   save_sec | SECURITY_LOCAL_USERID_CHANGE);
		ReleaseSysCache(tup);
		/* the latest snapshot: a webhook committed before now is seen in REPEATABLE READ too */
		sm_exec_latest(&q_hooks, NULL, NULL);
		SetUserIdAndSecContext(save_user, save_sec);
		if (SPI_processed > 0)
			loaded = palloc0(sizeof(Hook) * SPI_processed);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			Hook	   *h = &loaded[nloaded++];
			bool		isnull;
			Datum		types = sm_get(i, 3, &isnull);

			h->webhook_id = sm_get_int64(i, 1, NULL);
			h->domain_id = sm_get_int64(i, 2, &h->every_domain);
			h->types = isnull ? ~(uint32) 0 : 0;
			if (!isnull)
			{
				Datum	   *elems;
				bool	   *nulls;
				int			nelems;

				deconstruct_array(DatumGetArrayTypeP(types), TEXTOID, -1, false, TYPALIGN_INT,
								  &elems, &nulls, &nelems);
				for (int e = 0; e < nelems; e++)
				{
					char	   *name;

					if (nulls[e])
						continue;
					name = TextDatumGetCString(elems[e]);
					for (int t = 0; hook_types[t]; t++)
						if (strcmp(name, hook_types[t]) == 0)
							h->types |= (uint32) 1 << t;
				}
			}
		}
		if (hooks)
			pfree(hooks);
		hooks = NULL;
		if (nloaded > 0)
		{
			hooks = MemoryContextAlloc(TopMemoryContext, sizeof(Hook) * nloaded);
			memcpy(hooks, loaded, sizeof(Hook) * nloaded);
		}
		nhooks = nloaded;
		hooks_valid = generation == hooks_generation;
	}
	*n = nhooks;
	if (nhooks == 0)
		return NULL;
	copy = palloc(sizeof(Hook) * nhooks);
	memcpy(copy, hooks, sizeof(Hook) * nhooks);
	return copy;
}

/* Whether this database has an enabled webhook; SPI connected. */
static bool
webhooks_enabled(void)
{
	int			n;

	(void) current_hooks(&n);
	return n > 0;
}

/* the delivery worker wakes when this transaction commits */
void
sm_webhooks_wake_at_commit(void)
{
	sm_delivery_prime();
	wake_at_commit = true;
}

/*
 * Runs an outbox statement with timestamps rendered in UTC (SPEC section 9:
 * payloads are ISO 8601 in UTC).
 */
static void
exec_outbox(SeatQuery *q, int nargs, Datum *v, bool kept)
{
	int			level = NewGUCNestLevel();

	(void) set_config_option("TimeZone", "UTC", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	if (kept)
		sm_exec(q, v, NULL, false, 0);
	else
		sm_exec_sql(q->sql, q->nargs, q->argtypes, v, NULL);
	AtEOXact_GUC(true, level);
	if (SPI_processed > 0)
		sm_webhooks_wake_at_commit();
}

/* ---------------------------------------------------------------------
 * The deliveries of license events (R17), written in C
 *
 * One query (src/sql/outbox.sql) reads the statement's events with their
 * user, division, domain and notice; each event is matched with the cached
 * webhooks; the payload is built once per event as a JsonbValue, timestamps
 * rendered in UTC without touching the session's TimeZone; the rows go into
 * seatmgr.deliveries as COPY FROM writes them: table_multi_insert of up to
 * OUTBOX_BATCH rows, then their index entries (ExecInsertIndexTuples: the
 * unique checks and the partial index of pending rows as an INSERT would).
 * The outbox is the only writer of these rows (no trigger of deliveries
 * fires for them; its guard refuses other writers).
 * ---------------------------------------------------------------------
 */

/* statements of more events than this write through a BulkInsertState */
#define OUTBOX_BULK_ROWS 100
/* rows per table_multi_insert */
#define OUTBOX_BATCH 1000

/* what a payload is made of: an event, its user, division, domain and notice */
enum
{
	EV_EVENT_ID, EV_AT, EV_USER_ID, EV_EMAIL, EV_EXTERNAL_ID, EV_DOMAIN, EV_DIVISION_ID,
	EV_DIVISION, EV_PRODUCT, EV_EVENT, EV_SOURCE_KIND, EV_SOURCE_REF, EV_RUN_ID, EV_ACTOR,
	EV_DOMAIN_ID, EV_NOTICE_ID, EV_DEADLINE, EV_NCOLS
};
static const Oid ev_types[EV_NCOLS] = {
	INT8OID, TIMESTAMPTZOID, INT8OID, TEXTOID, TEXTOID, TEXTOID, INT8OID,
	TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT8OID, INT8OID, TEXTOID,
	INT8OID, INT8OID, TIMESTAMPTZOID
};

typedef struct EventRow
{
	Datum		v[EV_NCOLS];
	bool		n[EV_NCOLS];
} EventRow;

/* the columns of seatmgr.license_events an event is read from (its transition table) */
static const int ev_from_event[] = {
	EV_EVENT_ID, EV_AT, EV_USER_ID, EV_DIVISION_ID, EV_EVENT, EV_SOURCE_KIND, EV_SOURCE_REF,
	EV_RUN_ID, EV_ACTOR, -1
};
static const char *const ev_event_names[] = {
	"event_id", "at", "user_id", "division_id", "event", "source_kind", "source_ref",
	"run_id", "actor", NULL
};

/* the columns of seatmgr.deliveries the outbox writes */
enum
{
	D_DOMAIN_ID, D_DELIVERY_ID, D_WEBHOOK_ID, D_MESSAGE_ID, D_EVENT_TYPE, D_PAYLOAD, D_STATUS,
	D_ATTEMPTS, D_NEXT_ATTEMPT_AT, D_CREATED_AT, D_NCOLS
};
static const char *const d_names[] = {
	"domain_id", "delivery_id", "webhook_id", "message_id", "event_type", "payload", "status",
	"attempts", "next_attempt_at", "created_at"
};

/* left NULL: their defaults are NULL */
static const char *const d_null_names[] = {
	"last_attempt_at", "last_status", "last_error", "delivered_at", NULL
};

static AttrNumber d_attnum[D_NCOLS];

/*
 * A payload is built as a JsonbValue tree whose objects hold their pairs
 * already in jsonb's order (shorter keys first, then bytewise), so that
 * JsonbValueToJsonb writes it at once: pushJsonbValue would copy every pair
 * and sort each object again per event (it was 40% of the payload's cost).
 * The orders are computed once, by jsonb's rule, from the tables below.
 */
typedef struct PayloadKey
{
	const char *key;
	int			col;			/* an EventRow column, or one of these: */
} PayloadKey;

#define PK_STATUS	-1			/* the license's status after the event */
#define PK_TYPE		-2			/* the event type */
#define PK_DATA		-3			/* the data object */

static PayloadKey data_keys[] = {
	{"event_id", EV_EVENT_ID}, {"user_id", EV_USER_ID}, {"email", EV_EMAIL},
	{"external_id", EV_EXTERNAL_ID}, {"domain", EV_DOMAIN}, {"division_id", EV_DIVISION_ID},
	{"division", EV_DIVISION}, {"product", EV_PRODUCT}, {"status", PK_STATUS},
	{"source_kind", EV_SOURCE_KIND}, {"source_ref", EV_SOURCE_REF}, {"run_id", EV_RUN_ID},
	{"actor", EV_ACTOR}
};
/* license.warned's data: the same keys and its notice's */
static PayloadKey warned_keys[lengthof(data_keys) + 2];
static PayloadKey top_keys[] = {
	{"type", PK_TYPE}, {"timestamp", EV_AT}, {"data", PK_DATA}
};
static bool payload_keys_sorted = false;

/* jsonb's order of object keys (lengthCompareJsonbStringValue) */
static int
payload_key_cmp(const void *a, const void *b)
{
	const char *ka = ((const PayloadKey *) a)->key;
	const char *kb = ((const PayloadKey *) b)->key;
	size_t		la = strlen(ka);
	size_t		lb = strlen(kb);

	if (la != lb)
		return la < lb ? -1 : 1;
	return memcmp(ka, kb, la);
}

static void
sort_payload_keys(void)
{
	if (payload_keys_sorted)
		return;
	memcpy(warned_keys, data_keys, sizeof(data_keys));
	warned_keys[lengthof(data_keys)] = (PayloadKey) {"notice_id", EV_NOTICE_ID};
	warned_keys[lengthof(data_keys) + 1] = (PayloadKey) {"deadline", EV_DEADLINE};
	qsort(data_keys, lengthof(data_keys), sizeof(PayloadKey), payload_key_cmp);
	qsort(warned_keys, lengthof(warned_keys), sizeof(PayloadKey), payload_key_cmp);
	qsort(top_keys, lengthof(top_keys), sizeof(PayloadKey), payload_key_cmp);
	payload_keys_sorted = true;
}

static void
jbv_string(JsonbValue *v, const char *s, int len)
{
	v->type = jbvString;
	v->val.string.val = (char *) s;
	v->val.string.len = len;
}

/* column col of an event as a jsonb value: null, number, string or UTC timestamp */
static void
jbv_col(JsonbValue *v, const EventRow *e, int col)
{
	Datum		d = e->v[col];
	Oid			type = ev_types[col];

	if (e->n[col])
		v->type = jbvNull;
	else if (type == INT8OID)
	{
		v->type = jbvNumeric;
		v->val.numeric = int64_to_numeric(DatumGetInt64(d));
	}
	else if (type == TIMESTAMPTZOID)
	{
		/* as to_jsonb renders it with TimeZone UTC (SPEC section 9) */
		static const int utc = 0;
		char	   *ts = JsonEncodeDateTime(NULL, d, TIMESTAMPTZOID, &utc);

		jbv_string(v, ts, strlen(ts));
	}
	else if (type == TEXTOID)
	{
		text	   *t = DatumGetTextPP(d);

		jbv_string(v, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	}
	else
		elog(ERROR, "seatmgr: outbox column %d has an unexpected type %u", col, type);
}

/* the status of the license after an event (SPEC section 7) */
static const char *
status_after(const char *event)
{
	if (strcmp(event, "granted") == 0 || strcmp(event, "reactivated") == 0 ||
		strcmp(event, "warned") == 0)
		return "active";
	return event;
}

/* the pairs of one object, in the order of keys[] */
static void
jbv_object(JsonbValue *obj, JsonbPair *pairs, const PayloadKey *keys, int n,
		   const EventRow *e, const char *type, const char *event, JsonbValue *data)
{
	for (int i = 0; i < n; i++)
	{
		JsonbPair  *p = &pairs[i];

		jbv_string(&p->key, keys[i].key, strlen(keys[i].key));
		p->order = i;
		if (keys[i].col == PK_STATUS)
		{
			const char *st = status_after(event);

			jbv_string(&p->value, st, strlen(st));
		}
		else if (keys[i].col == PK_TYPE)
			jbv_string(&p->value, type, strlen(type));
		else if (keys[i].col == PK_DATA)
			p->value = *data;
		else
			jbv_col(&p->value, e, keys[i].col);
	}
	obj->type = jbvObject;
	obj->val.object.nPairs = n;
	obj->val.object.pairs = pairs;
}

/* {"type": ..., "timestamp": at, "data": {...}} of one event */
static Datum
event_payload(const EventRow *e, const char *type, const char *event)
{
	bool		warned = strcmp(event, "warned") == 0;
	JsonbPair	data_pairs[lengthof(warned_keys)];
	JsonbPair	top_pairs[lengthof(top_keys)];
	JsonbValue	data;
	JsonbValue	top;

	sort_payload_keys();
	if (warned)
		jbv_object(&data, data_pairs, warned_keys, lengthof(warned_keys), e, type, event, NULL);
	else
		jbv_object(&data, data_pairs, data_keys, lengthof(data_keys), e, type, event, NULL);
	jbv_object(&top, top_pairs, top_keys, lengthof(top_keys), e, type, event, &data);
	return JsonbPGetDatum(JsonbValueToJsonb(&top));
}

/* seatmgr.deliveries, its identity sequence and column numbers, looked up once */
static Oid
deliveries_table(void)
{
	if (!OidIsValid(deliveries_relid))
	{
		Oid			relid = get_relname_relid("deliveries", get_namespace_oid("seatmgr", false));
		Relation	rel;
		TupleDesc	desc;

		if (!OidIsValid(relid))
			elog(ERROR, "seatmgr: table seatmgr.deliveries is missing");
		/* the lock the outbox writes with, kept: the columns cannot change under it */
		rel = table_open(relid, RowExclusiveLock);
		desc = RelationGetDescr(rel);
		for (int i = 0; i < D_NCOLS; i++)
			d_attnum[i] = InvalidAttrNumber;
		/* every column is one the outbox writes or one whose default is NULL */
		for (int a = 0; a < desc->natts; a++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, a);
			bool		known = false;

			if (att->attisdropped)
				continue;
			for (int i = 0; i < D_NCOLS; i++)
				if (strcmp(NameStr(att->attname), d_names[i]) == 0)
				{
					d_attnum[i] = att->attnum;
					known = true;
				}
			for (int i = 0; d_null_names[i]; i++)
				if (strcmp(NameStr(att->attname), d_null_names[i]) == 0)
					known = true;
			if (!known)
				elog(ERROR, "seatmgr: seatmgr.deliveries has a column \"%s\" the outbox does not know",
					 NameStr(att->attname));
		}
		for (int i = 0; i < D_NCOLS; i++)
			if (d_attnum[i] == InvalidAttrNumber)
				elog(ERROR, "seatmgr: seatmgr.deliveries has no column \"%s\"", d_names[i]);
		deliveries_seqid = getIdentitySequence(relid, d_attnum[D_DELIVERY_ID], false);
		table_close(rel, NoLock);
		deliveries_relid = relid;
	}
	return deliveries_relid;
}

typedef struct Outbox
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	BulkInsertState bistate;
	CommandId	cid;
	TupleTableSlot **slots;		/* OUTBOX_BATCH + one event's deliveries */
	int			nslots;			/* created */
	int			used;			/* filled */
	MemoryContext batchcxt;		/* the filled slots' values */
	uint64		written;
} Outbox;

static void
outbox_flush(Outbox *o)
{
	MemoryContext old;

	if (o->used == 0)
		return;
	old = MemoryContextSwitchTo(GetPerTupleMemoryContext(o->estate));
	table_multi_insert(o->rel, o->slots, o->used, o->cid, 0, o->bistate);
	MemoryContextSwitchTo(old);
	for (int i = 0; i < o->used; i++)
	{
		List	   *recheck = ExecInsertIndexTuples(o->rri, o->slots[i], o->estate,
													false, false, NULL, NIL);

		list_free(recheck);
		ResetPerTupleExprContext(o->estate);
		ExecClearTuple(o->slots[i]);
	}
	o->written += o->used;
	o->used = 0;
	MemoryContextReset(o->batchcxt);
}

/*
 * A unique index of a seatmgr table, probed by int8 keys on the snapshot of
 * the outbox (as a query of the statement would see it), its columns cols
 * read from the row found.
 */
typedef struct Probe
{
	Relation	rel;
	Relation	idx;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	int			nkeys;
	AttrNumber	attnums[4];
} Probe;

static void
probe_open(Probe *p, const char *table, const char *index, int nkeys, Snapshot snapshot,
		   const char *const *cols)
{
	Oid			nsp = get_namespace_oid("seatmgr", false);
	Oid			relid = get_relname_relid(table, nsp);
	Oid			idxid = get_relname_relid(index, nsp);

	if (!OidIsValid(relid) || !OidIsValid(idxid))
		elog(ERROR, "seatmgr: table seatmgr.%s or its index %s is missing", table, index);
	p->rel = table_open(relid, AccessShareLock);
	p->idx = index_open(idxid, AccessShareLock);
	p->slot = table_slot_create(p->rel, NULL);
	p->nkeys = nkeys;
	p->scan = index_beginscan(p->rel, p->idx, snapshot, nkeys, 0);
	for (int i = 0; cols[i]; i++)
	{
		Assert(i < lengthof(p->attnums));
		p->attnums[i] = get_attnum(relid, cols[i]);
		if (p->attnums[i] == InvalidAttrNumber)
			elog(ERROR, "seatmgr: seatmgr.%s has no column \"%s\"", table, cols[i]);
	}
}

static bool
probe(Probe *p, const int64 *keys)
{
	ScanKeyData key[3];

	Assert(p->nkeys <= lengthof(key));
	for (int i = 0; i < p->nkeys; i++)
		ScanKeyInit(&key[i], i + 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(keys[i]));
	index_rescan(p->scan, key, p->nkeys, NULL, 0);
	return index_getnext_slot(p->scan, ForwardScanDirection, p->slot);
}

/* the i-th of the probe's columns in the row found */
static Datum
probe_col(Probe *p, int i, bool *isnull)
{
	return slot_getattr(p->slot, p->attnums[i], isnull);
}

static void
probe_close(Probe *p)
{
	if (p->rel == NULL)
		return;
	index_endscan(p->scan);
	ExecDropSingleTupleTableSlot(p->slot);
	/* the locks are kept to the end of the transaction, as PostgreSQL does */
	index_close(p->idx, NoLock);
	table_close(p->rel, NoLock);
	p->rel = NULL;
}

static const char *const user_cols[] = {"email", "external_id", NULL};
static const char *const division_cols[] = {"domain_id", "name", "product", NULL};
static const char *const domain_cols[] = {"name", NULL};
static const char *const notice_cols[] = {"notice_id", "deadline", "run_id", "closed_at", NULL};

/*
 * The deliveries of the events in the statement's transition table: one per
 * event and matching webhook.  Each event is read with its user (by
 * users_pkey), its division and domain (by their keys; looked up again only
 * when the division changes) and, for a warned event, the notice the run
 * opened with it, still open at the end of the run's statement (R14;
 * notices_open_key), on a snapshot taken as a statement of the trigger
 * would take it: after this statement's own writes.  An event whose
 * division is gone has no delivery; one whose user is gone has email and
 * external_id null.  Returns how many deliveries.
 */
static uint64
write_deliveries(TriggerData *trig, Hook *hk, int nhk)
{
	Tuplestorestate *events = trig->tg_newtable;
	TupleTableSlot *ev = MakeSingleTupleTableSlot(RelationGetDescr(trig->tg_relation), &TTSOpsMinimalTuple);
	AttrNumber	ev_attnums[lengthof(ev_event_names)];
	int			readptr;
	Snapshot	snapshot;
	Probe		users = {0};
	Probe		divisions = {0};
	Probe		domains = {0};
	Probe		notices = {0};
	int64		division_id = -1;	/* the division (and domain) in ev_row */
	bool		division_found = false;
	MemoryContext stmtcxt = CurrentMemoryContext;
	MemoryContext divcxt;		/* the current division's values */
	EventRow	row;
	Outbox		o = {0};
	uint8		rnd[8];
	char		prefix[17];
	Datum		pending = CStringGetTextDatum("pending");
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	/*
	 * message_id: msg_, a random prefix drawn once per statement (it keeps
	 * the ids of two databases apart), the event id and the webhook id:
	 * unique by construction, one delivery per event and webhook
	 */
	if (!pg_strong_random(rnd, sizeof(rnd)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random message id")));
	for (int i = 0; i < 8; i++)
		snprintf(prefix + 2 * i, 3, "%02x", rnd[i]);

	for (int i = 0; ev_event_names[i]; i++)
	{
		ev_attnums[i] = get_attnum(RelationGetRelid(trig->tg_relation), ev_event_names[i]);
		if (ev_attnums[i] == InvalidAttrNumber)
			elog(ERROR, "seatmgr: seatmgr.license_events has no column \"%s\"", ev_event_names[i]);
	}

	/* what a query run now by SPI would see: this statement's writes too */
	CommandCounterIncrement();
	PushCopiedSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();
	snapshot = GetActiveSnapshot();
	probe_open(&users, "users", "users_pkey", 1, snapshot, user_cols);
	probe_open(&divisions, "divisions", "divisions_pkey", 1, snapshot, division_cols);
	probe_open(&domains, "domains", "domains_pkey", 1, snapshot, domain_cols);

	o.rel = table_open(deliveries_table(), RowExclusiveLock);
	/* taking the lock took in invalidations: a changed table's columns are read again */
	(void) deliveries_table();
	o.estate = CreateExecutorState();
	o.rri = makeNode(ResultRelInfo);
	InitResultRelInfo(o.rri, o.rel, 1, NULL, 0);
	ExecOpenIndices(o.rri, false);
	o.cid = GetCurrentCommandId(true);
	o.bistate = tuplestore_tuple_count(events) > OUTBOX_BULK_ROWS ? GetBulkInsertState() : NULL;
	o.batchcxt = AllocSetContextCreate(CurrentMemoryContext, "seatmgr outbox", ALLOCSET_DEFAULT_SIZES);
	divcxt = AllocSetContextCreate(CurrentMemoryContext, "seatmgr outbox division", ALLOCSET_SMALL_SIZES);
	o.slots = palloc(sizeof(TupleTableSlot *) * (OUTBOX_BATCH + nhk));

	/* a read pointer of our own, as a scan of the transition table takes */
	readptr = tuplestore_alloc_read_pointer(events, EXEC_FLAG_REWIND);
	tuplestore_select_read_pointer(events, readptr);
	tuplestore_rescan(events);
	while (tuplestore_gettupleslot(events, true, false, ev))
	{
		char	   *event;
		char	   *type;
		uint32		bit = 0;
		Datum		payload = (Datum) 0;
		int64		domain_id;
		int64		key[3];
		MemoryContext old;

		/* a full batch is written between events: an event's values live in the batch's memory */
		if (o.used >= OUTBOX_BATCH)
			outbox_flush(&o);
		else if (o.used == 0)
			MemoryContextReset(o.batchcxt);	/* the last events made no delivery */
		for (int i = 0; ev_from_event[i] >= 0; i++)
			row.v[ev_from_event[i]] = slot_getattr(ev, ev_attnums[i], &row.n[ev_from_event[i]]);
		if (row.n[EV_EVENT_ID] || row.n[EV_USER_ID] || row.n[EV_DIVISION_ID] || row.n[EV_EVENT])
			elog(ERROR, "seatmgr: a license event without its event_id, user_id, division_id or event");

		/* the division and its domain */
		if (DatumGetInt64(row.v[EV_DIVISION_ID]) != division_id)
		{
			division_id = DatumGetInt64(row.v[EV_DIVISION_ID]);
			key[0] = division_id;
			division_found = probe(&divisions, key);
			if (division_found)
			{
				bool		isnull;

				/* copied (the probes' rows change with the next key), the last division's freed */
				MemoryContextReset(divcxt);
				old = MemoryContextSwitchTo(divcxt);
				for (int c = 0; c < 3; c++)
				{
					static const int cols[] = {EV_DOMAIN_ID, EV_DIVISION, EV_PRODUCT};

					row.v[cols[c]] = probe_col(&divisions, c, &isnull);
					row.n[cols[c]] = isnull;
					if (!isnull && cols[c] != EV_DOMAIN_ID)
						row.v[cols[c]] = datumCopy(row.v[cols[c]], false, -1);
				}
				division_found = false;
				if (!row.n[EV_DOMAIN_ID])
				{
					key[0] = DatumGetInt64(row.v[EV_DOMAIN_ID]);
					division_found = probe(&domains, key);
				}
				if (division_found)
				{
					row.v[EV_DOMAIN] = probe_col(&domains, 0, &isnull);
					row.n[EV_DOMAIN] = isnull;
					if (!isnull)
						row.v[EV_DOMAIN] = datumCopy(row.v[EV_DOMAIN], false, -1);
				}
				MemoryContextSwitchTo(old);
			}
		}
		if (!division_found)
			continue;
		domain_id = DatumGetInt64(row.v[EV_DOMAIN_ID]);

		old = MemoryContextSwitchTo(o.batchcxt);
		event = TextDatumGetCString(row.v[EV_EVENT]);
		type = psprintf("license.%s", event);
		for (int t = 0; hook_types[t]; t++)
			if (strcmp(type, hook_types[t]) == 0)
				bit = (uint32) 1 << t;
		for (int h = 0; h < nhk; h++)
		{
			TupleTableSlot *slot;
			Datum	   *v;
			bool	   *n;
			int64		event_id = DatumGetInt64(row.v[EV_EVENT_ID]);

			if (!(hk[h].types & bit) || (!hk[h].every_domain && hk[h].domain_id != domain_id))
				continue;
			if (payload == (Datum) 0)
			{
				/* the user, and a warned event's notice */
				key[0] = DatumGetInt64(row.v[EV_USER_ID]);
				row.n[EV_EMAIL] = row.n[EV_EXTERNAL_ID] = true;
				if (probe(&users, key))
				{
					row.v[EV_EMAIL] = probe_col(&users, 0, &row.n[EV_EMAIL]);
					row.v[EV_EXTERNAL_ID] = probe_col(&users, 1, &row.n[EV_EXTERNAL_ID]);
				}
				row.n[EV_NOTICE_ID] = row.n[EV_DEADLINE] = true;
				if (strcmp(event, "warned") == 0 && !row.n[EV_RUN_ID])
				{
					bool		isnull;

					if (notices.rel == NULL)
					{
						/* the probe outlives the batch's memory */
						MemoryContextSwitchTo(stmtcxt);
						probe_open(&notices, "notices", "notices_open_key", 3, snapshot, notice_cols);
						MemoryContextSwitchTo(o.batchcxt);
					}
					key[0] = domain_id;
					key[1] = division_id;
					key[2] = DatumGetInt64(row.v[EV_USER_ID]);
					if (probe(&notices, key))
					{
						Datum		run_id = probe_col(&notices, 2, &isnull);
						bool		same_run = !isnull && DatumGetInt64(run_id) == DatumGetInt64(row.v[EV_RUN_ID]);
						bool		open;

						(void) probe_col(&notices, 3, &open);	/* closed_at IS NULL */
						if (same_run && open)
						{
							row.v[EV_NOTICE_ID] = probe_col(&notices, 0, &row.n[EV_NOTICE_ID]);
							row.v[EV_DEADLINE] = probe_col(&notices, 1, &row.n[EV_DEADLINE]);
						}
					}
				}
				payload = event_payload(&row, type, event);
			}
			if (o.used == o.nslots)
			{
				/* slots outlive the batch's memory */
				MemoryContextSwitchTo(old);
				o.slots[o.nslots++] = table_slot_create(o.rel, NULL);
				MemoryContextSwitchTo(o.batchcxt);
			}
			slot = o.slots[o.used++];
			ExecClearTuple(slot);
			v = slot->tts_values;
			n = slot->tts_isnull;
			memset(n, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);
#define SET(col, value) (v[d_attnum[col] - 1] = (value), n[d_attnum[col] - 1] = false)
			SET(D_DOMAIN_ID, Int64GetDatum(domain_id));
			SET(D_DELIVERY_ID, Int64GetDatum(nextval_internal(deliveries_seqid, false)));
			SET(D_WEBHOOK_ID, Int64GetDatum(hk[h].webhook_id));
			SET(D_MESSAGE_ID, CStringGetTextDatum(psprintf("msg_%s%llx_%llx", prefix,
														   (unsigned long long) event_id,
														   (unsigned long long) hk[h].webhook_id)));
			SET(D_EVENT_TYPE, CStringGetTextDatum(type));
			SET(D_PAYLOAD, payload);
			SET(D_STATUS, pending);
			SET(D_ATTEMPTS, Int32GetDatum(0));
			SET(D_NEXT_ATTEMPT_AT, TimestampTzGetDatum(now));
			SET(D_CREATED_AT, TimestampTzGetDatum(now));
#undef SET
			ExecStoreVirtualTuple(slot);
		}
		MemoryContextSwitchTo(old);
	}
	outbox_flush(&o);
	tuplestore_select_read_pointer(events, 0);

	for (int i = 0; i < o.nslots; i++)
		ExecDropSingleTupleTableSlot(o.slots[i]);
	if (o.bistate)
	{
		FreeBulkInsertState(o.bistate);
		table_finish_bulk_insert(o.rel, 0);
	}
	ExecCloseIndices(o.rri);
	FreeExecutorState(o.estate);
	MemoryContextDelete(o.batchcxt);
	MemoryContextDelete(divcxt);
	table_close(o.rel, NoLock);
	probe_close(&users);
	probe_close(&divisions);
	probe_close(&domains);
	probe_close(&notices);
	PopActiveSnapshot();
	ExecDropSingleTupleTableSlot(ev);
	return o.written;
}

Datum
seatmgr_events_to_outbox(PG_FUNCTION_ARGS)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;
	Hook	   *hk;
	int			nhk;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trig->tg_event) ||
		TRIGGER_FIRED_FOR_ROW(trig->tg_event) || trig->tg_newtable == NULL)
		elog(ERROR, "seatmgr.events_to_outbox must be an AFTER STATEMENT trigger with a NEW TABLE");
	/* without an enabled webhook (known, after other sessions' changes): nothing to do */
	AcceptInvalidationMessages();
	if ((hooks_valid && nhooks == 0) || sm_restoring() ||
		tuplestore_tuple_count(trig->tg_newtable) == 0)
		return PointerGetDatum(NULL);
	SPI_connect();
	hk = current_hooks(&nhk);
	if (nhk > 0)
	{
		if (write_deliveries(trig, hk, nhk) > 0)
			sm_webhooks_wake_at_commit();
	}
	SPI_finish();
	return PointerGetDatum(NULL);
}

static SeatQuery q_run_finished = {RUN_FINISHED_SQL, 1, {INT8OID}};

/*
 * run.finished for run_id, in the caller's transaction (SPI connected):
 * every real run calls it when it ends, succeeded, failed or an undo.
 */
void
sm_run_finished(int64 run_id)
{
	Datum		v[1] = {Int64GetDatum(run_id)};

	if (sm_restoring() || !webhooks_enabled())
		return;
	exec_outbox(&q_run_finished, 1, v, true);
}

static SeatQuery q_orphans = {
	"DELETE FROM seatmgr.deliveries d"
	" WHERE NOT EXISTS (SELECT 1 FROM seatmgr.webhooks w WHERE w.webhook_id = d.webhook_id)", 0, {0}
};

Datum
seatmgr_webhooks_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "seatmgr.webhooks_changed must be a trigger");
	CacheInvalidateRelcache(trig->tg_relation);
	hooks_valid = false;
	hooks_generation++;
	if (sm_restoring())
		return PointerGetDatum(NULL);
	SPI_connect();
	/* a deleted webhook takes its deliveries (no foreign key: see sql/webhooks.sql) */
	if (TRIGGER_FIRED_BY_DELETE(trig->tg_event) || TRIGGER_FIRED_BY_TRUNCATE(trig->tg_event))
		sm_exec(&q_orphans, NULL, NULL, false, 0);
	/* a webhook enabled again may have pending deliveries to send */
	if (TRIGGER_FIRED_BY_UPDATE(trig->tg_event) && sm_deliveries_pending())
		sm_webhooks_wake_at_commit();
	SPI_finish();
	return PointerGetDatum(NULL);
}

/* whsec_ and the base64 of 32 random bytes */
Datum
seatmgr_new_webhook_secret(PG_FUNCTION_ARGS)
{
	uint8		key[32];
	char		b64[64];
	int			len;

	if (!pg_strong_random(key, sizeof(key)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random webhook secret")));
	len = pg_b64_encode((const char *) key, sizeof(key), b64, sizeof(b64));
	if (len < 0)
		elog(ERROR, "seatmgr: could not encode a webhook secret");
	b64[len] = '\0';
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("whsec_%s", b64)));
}

/*
 * The key of a secret: the decoded bytes after "whsec_".  Returns the
 * length, or -1 when the secret is not whsec_ + base64 of 24 to 64 bytes.
 * The secret itself never appears in a message.
 */
int
sm_webhook_key(const char *secret, uint8 *key, int keysize)
{
	const char *b64;
	int			len;

	if (strncmp(secret, "whsec_", 6) != 0)
		return -1;
	b64 = secret + 6;
	if (strlen(b64) == 0 || strlen(b64) > 100 ||
		pg_b64_dec_len(strlen(b64)) > keysize)
		return -1;
	len = pg_b64_decode(b64, strlen(b64), (char *) key, keysize);
	if (len < 24 || len > 64)
		return -1;
	return len;
}

/* ---------------------------------------------------------------------
 * seatmgr_redeliver(delivery_id): R18
 * ---------------------------------------------------------------------
 */

static SeatQuery q_delivery = {
	"SELECT d.domain_id, w.domain_id IS NULL, d.status FROM seatmgr.deliveries d"
	"  JOIN seatmgr.webhooks w ON w.webhook_id = d.webhook_id"
	" WHERE d.delivery_id = $1 FOR NO KEY UPDATE OF d",
	1, {INT8OID}
};

static SeatQuery q_redeliver = {
	"UPDATE seatmgr.deliveries SET status = 'pending', attempts = 0, next_attempt_at = pg_catalog.now(),"
	"       delivered_at = NULL"
	" WHERE domain_id = $1 AND delivery_id = $2",
	2, {INT8OID, INT8OID}
};

SM_SCOPED_FUNCTION(redeliver)

static Datum
redeliver(FunctionCallInfo fcinfo, SmCaller *c)
{
	int64		delivery_id;
	int64		domain_id;
	bool		every_domain;
	char	   *status;
	Datum		v[2];

	sm_require_arg(fcinfo, 0, "delivery_id");
	delivery_id = PG_GETARG_INT64(0);
	SPI_connect();
	v[0] = Int64GetDatum(delivery_id);
	sm_exec(&q_delivery, v, NULL, false, 1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("delivery %lld does not exist", (long long) delivery_id),
				 sm_errobject("delivery", NULL, NULL)));
	domain_id = sm_get_int64(0, 1, NULL);
	every_domain = sm_get_bool(0, 2);
	status = sm_get_text(0, 3);
	/* R20: a webhook of every domain is managed by unscoped admins only */
	if (every_domain ? !sm_unscoped(c, SM_ADMIN) : !sm_may(c, SM_ADMIN, domain_id, 0, true))
		sm_deny(c, gettext_noop("delivery"), delivery_id, NULL);
	if (strcmp(status, "pending") == 0)
		ereport(NOTICE,
				(errmsg("delivery %lld is already pending: nothing changed", (long long) delivery_id)));
	else
	{
		v[0] = Int64GetDatum(domain_id);
		v[1] = Int64GetDatum(delivery_id);
		sm_exec(&q_redeliver, v, NULL, false, 0);
		sm_webhooks_wake_at_commit();
	}
	SPI_finish();
	PG_RETURN_VOID();
}
