/*
 * webhooks.c: the outbox of signed webhooks (SPEC section 7, R17).
 *
 * Deliveries are created from the license events themselves: an AFTER
 * INSERT ... FOR EACH STATEMENT trigger on seatmgr.license_events, with the
 * statement's new rows as a transition table, runs ONE set-based INSERT
 * INTO seatmgr.deliveries (src/sql/outbox.sql), in the transaction that
 * made the change: a rolled-back change leaves no delivery, a committed one
 * is in the table before anyone can send it.  Whoever writes an event (the
 * writer row by row, a run's chunks, a batch invite) needs to know nothing
 * of webhooks.  A finished run calls sm_run_finished (run.finished).
 *
 * Whether the database has an enabled webhook is cached per backend and
 * forgotten when seatmgr.webhooks changes (a relcache invalidation sent by
 * its statement trigger, as access.c does for seatmgr.access): without a
 * webhook an event costs one comparison.  A restore (sm_restoring) creates
 * no delivery: the dump has them.
 *
 * At commit, a transaction that created deliveries wakes the delivery
 * worker of its database (src/deliver.c): no polling.
 */
#include "seatmgr.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/base64.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

#include "sql/outbox.sql.h"
#include "sql/run_finished.sql.h"

PG_FUNCTION_INFO_V1(seatmgr_events_to_outbox);
PG_FUNCTION_INFO_V1(seatmgr_webhooks_changed);
PG_FUNCTION_INFO_V1(seatmgr_new_webhook_secret);

/* the settings (README.md, Webhooks) */
int			sm_webhook_timeout = 5000;
int			sm_webhook_max_attempts = 8;
int			sm_webhook_retry_delay = 5000;

/* -1 unknown, else whether an enabled webhook exists */
static int	has_webhooks = -1;
static Oid	webhooks_relid = InvalidOid;
/* this transaction created or re-opened deliveries: wake the worker at commit */
static bool wake_at_commit = false;

static void
webhooks_relcache_changed(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == webhooks_relid)
		has_webhooks = -1;
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

static SeatQuery q_has_webhooks = {
	"SELECT EXISTS (SELECT 1 FROM seatmgr.webhooks WHERE enabled)", 0, {0}
};

/* Whether this database has an enabled webhook; SPI connected. */
static bool
webhooks_enabled(void)
{
	if (has_webhooks < 0)
	{
		webhooks_relid = get_relname_relid("webhooks", get_namespace_oid("seatmgr", false));
		/* 0.1.0, before ALTER EXTENSION UPDATE, has no webhooks (nothing cached) */
		if (!OidIsValid(webhooks_relid))
			return false;
		sm_exec(&q_has_webhooks, NULL, NULL, true, 1);
		has_webhooks = sm_get_bool(0, 1) ? 1 : 0;
	}
	return has_webhooks == 1;
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

/* statements up to this many events run through a plan kept for the backend */
#define OUTBOX_KEPT_PLAN_ROWS 100

static SeatQuery q_outbox = {OUTBOX_SQL, 0, {0}};

Datum
seatmgr_events_to_outbox(PG_FUNCTION_ARGS)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trig->tg_event) ||
		TRIGGER_FIRED_FOR_ROW(trig->tg_event) || trig->tg_newtable == NULL)
		elog(ERROR, "seatmgr.events_to_outbox must be an AFTER STATEMENT trigger with a NEW TABLE");
	if (has_webhooks == 0 || sm_restoring())
		return PointerGetDatum(NULL);
	SPI_connect();
	if (webhooks_enabled() && tuplestore_tuple_count(trig->tg_newtable) > 0)
	{
		if (SPI_register_trigger_data(trig) != SPI_OK_TD_REGISTER)
			elog(ERROR, "seatmgr: could not register the transition table");
		exec_outbox(&q_outbox, 0, NULL,
					tuplestore_tuple_count(trig->tg_newtable) <= OUTBOX_KEPT_PLAN_ROWS);
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
	has_webhooks = -1;
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
