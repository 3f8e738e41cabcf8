/*
 * model.c: the triggers on the tables an application writes.
 *
 * seatmgr.validate_row (BEFORE INSERT OR UPDATE) rejects bad rows with a
 * message that names the bad value (SPEC section 5): an unknown id
 * (23503), a malformed e-mail or domain name, a cross-domain reference, a
 * share with oneself, a non-positive interval (23514).  It also lower-cases
 * domain names and maintains policies.next_run_at (R11).
 *
 * seatmgr.model_change (AFTER INSERT OR UPDATE OR DELETE) applies the
 * licence rules: team invites (R1), shares (R2), groups and their grants
 * (R3), losing sources (R5) and seat limits (R6) through license.c.
 */
#include "seatmgr.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/numeric.h"
#include "utils/memutils.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(seatmgr_validate_row);
PG_FUNCTION_INFO_V1(seatmgr_model_change);
PG_FUNCTION_INFO_V1(seatmgr_members_added);
PG_FUNCTION_INFO_V1(seatmgr_division_deleted);

/* ---------------------------------------------------------------------
 * Tuple access
 * ---------------------------------------------------------------------
 */

typedef struct Row
{
	HeapTuple	tuple;
	TupleDesc	desc;
} Row;

static Datum
col(Row *r, const char *name, bool *isnull)
{
	int			attno = SPI_fnumber(r->desc, name);

	if (attno <= 0)
		elog(ERROR, "seatmgr: column \"%s\" not found", name);
	return SPI_getbinval(r->tuple, r->desc, attno, isnull);
}

static int64
col_int64(Row *r, const char *name, bool *isnull)
{
	bool		n;
	Datum		d = col(r, name, &n);

	if (isnull)
		*isnull = n;
	return n ? 0 : DatumGetInt64(d);
}

static char *
col_text(Row *r, const char *name)
{
	bool		n;
	Datum		d = col(r, name, &n);

	return n ? NULL : TextDatumGetCString(d);
}

static bool
col_bool(Row *r, const char *name)
{
	bool		n;
	Datum		d = col(r, name, &n);

	return !n && DatumGetBool(d);
}

static bool
col_changed(Row *o, Row *n, const char *name)
{
	bool		on,
				nn;
	int64		ov = col_int64(o, name, &on);
	int64		nv = col_int64(n, name, &nn);

	return on != nn || ov != nv;
}

/* ---------------------------------------------------------------------
 * Entities and their domains
 * ---------------------------------------------------------------------
 */

typedef enum Entity
{
	E_DOMAIN,
	E_DIVISION,
	E_TEAM,
	E_USER,
	E_GROUP,
	E_COUNT
} Entity;

static const char *const entity_name[E_COUNT] = {"domain", "division", "team", "user", "group"};

static const char *const entity_table[E_COUNT] = {"domains", "divisions", "teams", "users", "groups"};

/*
 * Looks keys up in a unique index of a seatmgr table directly (validation
 * runs for every row written, so no query is planned or run).  Like the
 * foreign key checks it sees rows committed by others up to now in READ
 * COMMITTED (with self, also this statement's own new rows).  Returns whether a row was found, and its column fetch_col.
 */
static bool
index_probe(const char *table, const char *index, int nkeys, const int64 *keys,
			const char *fetch_col, int64 *fetched, bool self)
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
	if (found && fetch_col)
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, get_attnum(relid, fetch_col), &isnull);

		*fetched = isnull ? 0 : DatumGetInt64(d);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	if (!self)
		UnregisterSnapshot(snapshot);
	return found;
}

/* The domain of an entity; an unknown id is an error that names it. */
static int64
entity_domain(Entity e, int64 id)
{
	int64		domain = 0;

	if (!index_probe(entity_table[e], psprintf("%s_pkey", entity_table[e]), 1, &id,
					 "domain_id", &domain, false))
		sm_error_missing(entity_name[e], id);
	return domain;
}

static char *
entity_label(Entity e, int64 id)
{
	if (e == E_USER)
		return sm_user_label(id);
	return psprintf("%s " INT64_FORMAT, entity_name[e], id);
}

static void domain_mismatch(Entity e, int64 id, int64 domain, Entity owner, int64 owner_id,
							int64 owner_domain) pg_attribute_noreturn();

static void
domain_mismatch(Entity e, int64 id, int64 domain, Entity owner, int64 owner_id, int64 owner_domain)
{
	/* "... not to domain "acme.com" of team 3", or just the domain */
	char	   *of = owner == E_DOMAIN ? "" : psprintf(" of %s", entity_label(owner, owner_id));

	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("%s belongs to domain \"%s\", not to domain \"%s\"%s",
					entity_label(e, id), sm_domain_name(domain),
					sm_domain_name(owner_domain), of),
			 errhint("Every rule stays inside one domain: link only objects of the same domain.")));
}

/*
 * Checks that entity e (id) lives in the domain of owner (owner_id), whose
 * domain is owner_domain.  Nothing joins across domains (SPEC section 6).
 */
static void
require_same_domain(Entity e, int64 id, Entity owner, int64 owner_id, int64 owner_domain)
{
	int64		domain = entity_domain(e, id);

	if (domain != owner_domain)
		domain_mismatch(e, id, domain, owner, owner_id, owner_domain);
}

static void
pair_domains(Entity a, int64 ida, Entity b, int64 idb, int64 *da, int64 *db)
{
	*da = entity_domain(a, ida);
	*db = entity_domain(b, idb);
}

static void
forbid_domain_move(Row *o, Row *n, const char *what, const char *idcol)
{
	if (o->tuple && col_changed(o, n, "domain_id"))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot move %s " INT64_FORMAT " from domain \"%s\" to domain \"%s\"",
						what, col_int64(n, idcol, NULL),
						sm_domain_name(col_int64(o, "domain_id", NULL)),
						sm_domain_name(col_int64(n, "domain_id", NULL))),
				 errhint("Create a new %s in the other domain instead.", what)));
}

/* ---------------------------------------------------------------------
 * Value checks
 * ---------------------------------------------------------------------
 */

/* A DNS name: two or more labels of [a-z0-9-], 1-63 chars each, no edge hyphen. */
static bool
valid_dns_name(const char *s)
{
	int			len = strlen(s);
	int			labels = 0;
	const char *p = s;

	if (len == 0 || len > 253)
		return false;
	while (*p)
	{
		const char *start = p;

		while (*p && *p != '.')
		{
			char		c = *p;

			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
				return false;
			p++;
		}
		if (p == start || p - start > 63 || *start == '-' || p[-1] == '-')
			return false;
		labels++;
		if (*p == '.')
		{
			p++;
			if (*p == '\0')
				return false;	/* no trailing dot */
		}
	}
	return labels >= 2;
}

static char *
ascii_lower(const char *s)
{
	char	   *r = pstrdup(s);

	for (char *p = r; *p; p++)
		*p = pg_ascii_tolower((unsigned char) *p);
	return r;
}

/* local@domain: a local part without spaces or specials, a DNS domain */
static bool
valid_email(const char *s)
{
	const char *at = strchr(s, '@');
	int			local_len;

	if (at == NULL || strchr(at + 1, '@') != NULL)
		return false;
	local_len = at - s;
	if (local_len == 0 || local_len > 64 || s[0] == '.' || at[-1] == '.')
		return false;
	for (const char *p = s; p < at; p++)
	{
		unsigned char c = (unsigned char) *p;

		if (c <= ' ' || c >= 127 || strchr("()<>,;:\\\"[]", c) != NULL)
			return false;
		if (c == '.' && p[1] == '.')
			return false;
	}
	return valid_dns_name(ascii_lower(at + 1));
}

static void
check_choice(Row *r, const char *column, const char *value, const char *const *choices, const char *hint)
{
	for (int i = 0; choices[i]; i++)
		if (strcmp(value, choices[i]) == 0)
			return;
	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("invalid %s \"%s\"", column, value),
			 errhint("%s", hint)));
}

/*
 * SPEC section 5: a NULL in a NOT NULL column is refused before any rule
 * reads the row (a rule reading a NULL as a value is how a single NULL used
 * to end the backend).
 */
static void
check_not_null(Relation rel, Row *n)
{
	for (int i = 0; i < n->desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(n->desc, i);

		if (att->attisdropped || !att->attnotnull)
			continue;
		if (heap_attisnull(n->tuple, i + 1, n->desc))
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("null value in column \"%s\" of relation \"%s\" violates not-null constraint",
							NameStr(att->attname), RelationGetRelationName(rel)),
					 errtablecol(rel, i + 1)));
	}
}

/*
 * Activity and history times: finite, and at most one minute ahead of the
 * server's clock (SPEC section 5), so that a typo cannot keep a seat from
 * every future sweep.  next_run_at may be in the future (R11), not infinite.
 */
static void
check_time(Row *r, const char *column, bool future_ok)
{
	bool		isnull;
	Datum		v = col(r, column, &isnull);

	if (isnull)
		return;
	sm_check_time(column, DatumGetTimestampTz(v), future_ok);
}

/* Intervals of a policy: positive, and at most 100 years (SPEC section 5). */
static void
check_interval(Row *r, const char *column)
{
	bool		isnull;
	Datum		v = col(r, column, &isnull);
	Interval	zero = {0};
	Interval	century = {0, 0, 1200};

	if (isnull)
		return;
	if (!DatumGetBool(DirectFunctionCall2(interval_gt, v, IntervalPGetDatum(&zero))))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("%s must be a positive interval, not \"%s\"", column,
						DatumGetCString(DirectFunctionCall1(interval_out, v))),
				 errhint("Use an interval such as '30 days'.")));
	if (DatumGetBool(DirectFunctionCall2(interval_gt, v, IntervalPGetDatum(&century))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be at most 100 years, not \"%s\"", column,
						DatumGetCString(DirectFunctionCall1(interval_out, v))),
				 errhint("Use an interval such as '90 days'; leave it NULL to switch the step off.")));
}

/* ---------------------------------------------------------------------
 * seatmgr.validate_row
 * ---------------------------------------------------------------------
 */

static SeatQuery q_email_taken = {
	"SELECT user_id FROM seatmgr.users WHERE lower(email) = lower($1) AND user_id <> $2 LIMIT 1",
	2, {TEXTOID, INT8OID}
};

static const char *const object_types[] = {"project", "project_template", "portfolio", "goal", "dashboard", NULL};
static const char *const on_full_choices[] = {"waitlist", "error", NULL};
static const char *const grant_scopes[] = {"domain", "division", NULL};

static HeapTuple
replace_column(Row *r, const char *name, Datum value, bool isnull)
{
	int			attno = SPI_fnumber(r->desc, name);

	return heap_modify_tuple_by_cols(r->tuple, r->desc, 1, &attno, &value, &isnull);
}

static HeapTuple
validate_domains(Row *n, Row *o)
{
	char	   *name = col_text(n, "name");
	char	   *lower = ascii_lower(name);

	if (!valid_dns_name(lower))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("invalid domain name \"%s\"", name),
				 errhint("A domain name is a DNS name such as acme.com: labels of letters, digits and hyphens separated by dots.")));
	{
		static SeatQuery q_domain_taken = {
			"SELECT 1 FROM seatmgr.domains WHERE name = $1 AND domain_id <> $2", 2, {TEXTOID, INT8OID}
		};
		Datum		v[2] = {CStringGetTextDatum(lower), Int64GetDatum(col_int64(n, "domain_id", NULL))};

		sm_exec(&q_domain_taken, v, NULL, false, 1);
		if (SPI_processed > 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("domain \"%s\" already exists", lower),
					 errhint("Domain names are stored lower-case and are unique.")));
	}
	if (strcmp(lower, name) == 0)
		return n->tuple;
	return replace_column(n, "name", CStringGetTextDatum(lower), false);
}

static void
validate_users(Row *n, Row *o)
{
	char	   *email = col_text(n, "email");
	Datum		v[2];

	forbid_domain_move(o, n, "user", "user_id");
	entity_domain(E_DOMAIN, col_int64(n, "domain_id", NULL));
	check_time(n, "last_active_at", false);
	if (!valid_email(email))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("invalid e-mail address \"%s\"", email),
				 errhint("An e-mail address looks like name@example.com.")));
	v[0] = CStringGetTextDatum(email);
	v[1] = Int64GetDatum(col_int64(n, "user_id", NULL));
	sm_exec(&q_email_taken, v, NULL, false, 1);
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("e-mail address \"%s\" is already used by %s",
						email, sm_user_label(sm_get_int64(0, 1, NULL))),
				 errhint("E-mail addresses are unique regardless of case.")));
}

static void
validate_divisions(Row *n, Row *o)
{
	bool		isnull;
	Datum		limit = col(n, "seat_limit", &isnull);
	char	   *on_full = col_text(n, "on_full");
	Datum		price;

	forbid_domain_move(o, n, "division", "division_id");
	entity_domain(E_DOMAIN, col_int64(n, "domain_id", NULL));
	if (!isnull && DatumGetInt32(limit) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("seat_limit must be at least 0, not %d", DatumGetInt32(limit)),
				 errhint("Use NULL for an unlimited division.")));
	price = col(n, "seat_price", &isnull);
	if (!isnull)
	{
		Numeric		num = DatumGetNumeric(price);

		if (numeric_is_nan(num) || numeric_is_inf(num) ||
			DatumGetBool(DirectFunctionCall2(numeric_lt, price,
											 DirectFunctionCall1(int4_numeric, Int32GetDatum(0)))))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("seat_price must be a finite amount of at least 0, not %s",
							DatumGetCString(DirectFunctionCall1(numeric_out, price))),
					 errhint("seat_price is the price of one seat for 30 days; use NULL when unknown.")));
	}
	if (on_full)
		check_choice(n, "on_full", on_full, on_full_choices, "Use 'waitlist' or 'error'.");
}

static void
validate_teams(Row *n, Row *o)
{
	bool		isnull;
	int64		team_id = col_int64(n, "team_id", NULL);
	int64		domain_id = col_int64(n, "domain_id", NULL);
	int64		division_id = col_int64(n, "division_id", &isnull);

	forbid_domain_move(o, n, "team", "team_id");
	entity_domain(E_DOMAIN, domain_id);
	if (!isnull)
		require_same_domain(E_DIVISION, division_id, E_TEAM, team_id, domain_id);
}

static void
validate_groups(Row *n, Row *o)
{
	forbid_domain_move(o, n, "group", "group_id");
	entity_domain(E_DOMAIN, col_int64(n, "domain_id", NULL));
}

/*
 * A duplicate of a link row gets a message naming both objects (SPEC
 * section 5), not only the primary key's name.  Checked on INSERT and when
 * an UPDATE changes the key.
 */
static void
check_duplicate(Row *n, Row *o, Relation rel, const char *k1, const char *k2, const char *fmt)
{
	int64		keys[2];
	int			nkeys = k2 ? 2 : 1;

	if (o->tuple && !col_changed(o, n, k1) && (k2 == NULL || !col_changed(o, n, k2)))
		return;
	keys[0] = col_int64(n, k1, NULL);
	if (k2)
		keys[1] = col_int64(n, k2, NULL);
	if (index_probe(RelationGetRelationName(rel), psprintf("%s_pkey", RelationGetRelationName(rel)),
					nkeys, keys, NULL, NULL, true))
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg(fmt, keys[nkeys - 1], keys[0]),
				 errtableconstraint(rel, psprintf("%s_pkey", RelationGetRelationName(rel)))));
}

/* A member row: user_id (or the entity in member_col) joins the container. */
static void
validate_link(Row *n, Entity container, const char *container_col, Entity member, const char *member_col)
{
	int64		cid = col_int64(n, container_col, NULL);
	int64		mid = col_int64(n, member_col, NULL);
	int64		cdomain,
				mdomain;

	pair_domains(container, cid, member, mid, &cdomain, &mdomain);
	if (cdomain != mdomain)
		domain_mismatch(member, mid, mdomain, container, cid, cdomain);
}

static void
validate_shares(Row *n, Row *o)
{
	bool		isnull;
	int64		sharer = col_int64(n, "sharer_id", NULL);
	int64		recipient = col_int64(n, "recipient_id", NULL);
	int64		division = col_int64(n, "division_id", &isnull);
	char	   *object_type = col_text(n, "object_type");
	int64		sharer_domain = entity_domain(E_USER, sharer);

	entity_domain(E_USER, recipient);
	if (!isnull)
	{
		int64		division_domain = entity_domain(E_DIVISION, division);

		/* every cross-domain link is refused, the share's division included */
		if (division_domain != sharer_domain)
			domain_mismatch(E_DIVISION, division, division_domain, E_USER, sharer, sharer_domain);
	}
	if (sharer == recipient)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("%s cannot share an object with themself", sm_user_label(sharer)),
				 errhint("sharer_id and recipient_id must be different users.")));
	check_choice(n, "object_type", object_type, object_types,
				 "Use project, project_template, portfolio, goal or dashboard.");
	check_time(n, "shared_at", false);
	/* a recipient of another domain is allowed: the share gives nothing (R2) */
}

static void
validate_exclusions(Row *n, Row *o)
{
	bool		nouser,
				nogroup;
	int64		domain_id = col_int64(n, "domain_id", NULL);
	int64		user_id = col_int64(n, "user_id", &nouser);
	int64		group_id = col_int64(n, "group_id", &nogroup);

	entity_domain(E_DOMAIN, domain_id);
	if (nouser == nogroup)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("an exclusion names exactly one of user_id and group_id, not %s",
						nouser ? "neither" : "both"),
				 errhint("Add one exclusion per user and one per group.")));
	if (!nouser && entity_domain(E_USER, user_id) != domain_id)
		require_same_domain(E_USER, user_id, E_DOMAIN, domain_id, domain_id);
	if (!nogroup && entity_domain(E_GROUP, group_id) != domain_id)
		require_same_domain(E_GROUP, group_id, E_DOMAIN, domain_id, domain_id);
}

/*
 * R11: enabling sets next_run_at to now() + run_every unless it is given,
 * disabling clears it, an enabled policy keeps whatever an admin sets.
 */
static HeapTuple
validate_policies(Row *n, Row *o)
{
	bool		enabled = col_bool(n, "enabled");
	bool		was_enabled = o->tuple != NULL && col_bool(o, "enabled");
	bool		next_null;
	char	   *scope = col_text(n, "grant_scope");

	(void) col(n, "next_run_at", &next_null);

	entity_domain(E_DIVISION, col_int64(n, "division_id", NULL));
	check_time(n, "next_run_at", true);
	check_interval(n, "run_every");
	check_interval(n, "grant_active_within");
	check_interval(n, "revoke_inactive_after");
	check_choice(n, "grant_scope", scope, grant_scopes, "Use 'domain' or 'division'.");

	if (!enabled)
		return next_null ? n->tuple : replace_column(n, "next_run_at", (Datum) 0, true);
	if (!was_enabled && next_null)
	{
		bool		isnull;
		Datum		every = col(n, "run_every", &isnull);
		Datum		at;

		if (isnull)
			return n->tuple;	/* NOT NULL reports it */
		at = DirectFunctionCall2(timestamptz_pl_interval,
								 TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), every);
		return replace_column(n, "next_run_at", at, false);
	}
	return n->tuple;
}

Datum
seatmgr_validate_row(PG_FUNCTION_ARGS)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;
	Row			n,
				o = {NULL, NULL};
	const char *table;
	HeapTuple	result;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trig->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trig->tg_event))
		elog(ERROR, "seatmgr.validate_row must be a BEFORE ROW trigger");

	n.desc = o.desc = RelationGetDescr(trig->tg_relation);
	if (TRIGGER_FIRED_BY_UPDATE(trig->tg_event))
	{
		n.tuple = trig->tg_newtuple;
		o.tuple = trig->tg_trigtuple;
	}
	else
		n.tuple = trig->tg_trigtuple;
	result = n.tuple;
	table = RelationGetRelationName(trig->tg_relation);
	if (sm_restoring())
		return PointerGetDatum(result);
	check_not_null(trig->tg_relation, &n);

	SPI_connect();
	if (strcmp(table, "domains") == 0)
		result = validate_domains(&n, &o);
	else if (strcmp(table, "users") == 0)
		validate_users(&n, &o);
	else if (strcmp(table, "divisions") == 0)
		validate_divisions(&n, &o);
	else if (strcmp(table, "teams") == 0)
		validate_teams(&n, &o);
	else if (strcmp(table, "groups") == 0)
		validate_groups(&n, &o);
	else if (strcmp(table, "team_members") == 0)
	{
		validate_link(&n, E_TEAM, "team_id", E_USER, "user_id");
		check_time(&n, "added_at", false);
		check_duplicate(&n, &o, trig->tg_relation, "team_id", "user_id",
						"user " INT64_FORMAT " is already a member of team " INT64_FORMAT);
	}
	else if (strcmp(table, "group_members") == 0)
	{
		validate_link(&n, E_GROUP, "group_id", E_USER, "user_id");
		check_time(&n, "added_at", false);
		check_duplicate(&n, &o, trig->tg_relation, "group_id", "user_id",
						"user " INT64_FORMAT " is already a member of group " INT64_FORMAT);
	}
	else if (strcmp(table, "group_grants") == 0)
	{
		validate_link(&n, E_GROUP, "group_id", E_DIVISION, "division_id");
		check_duplicate(&n, &o, trig->tg_relation, "group_id", "division_id",
						"division " INT64_FORMAT " is already granted by group " INT64_FORMAT);
	}
	else if (strcmp(table, "shares") == 0)
		validate_shares(&n, &o);
	else if (strcmp(table, "exclusions") == 0)
		validate_exclusions(&n, &o);
	else if (strcmp(table, "policies") == 0)
	{
		check_duplicate(&n, &o, trig->tg_relation, "division_id", NULL,
						"division " INT64_FORMAT " already has a policy");
		result = validate_policies(&n, &o);
	}
	else
		elog(ERROR, "seatmgr.validate_row: unexpected table \"%s\"", table);

	/* a modified tuple lives in the SPI context: copy it out first */
	if (result != n.tuple)
		result = SPI_copytuple(result);
	SPI_finish();
	return PointerGetDatum(result);
}

/* ---------------------------------------------------------------------
 * seatmgr.model_change: the licence rules
 * ---------------------------------------------------------------------
 */

static SeatQuery q_team_division = {
	"SELECT " SM_DIVISION_COLUMNS
	"  FROM seatmgr.teams t JOIN seatmgr.divisions d ON d.division_id = t.division_id"
	" WHERE t.team_id = $1 FOR SHARE OF d",
	1, {INT8OID}
};

/* R1: a member of a paid team holds a licence in the team's division. */
static void
team_member_added(int64 team_id, int64 user_id, TimestampTz added_at)
{
	Datum		v[1] = {Int64GetDatum(team_id)};
	Division	d;

	sm_exec(&q_team_division, v, NULL, false, 1);
	if (SPI_processed == 0)
		return;					/* a team without a division is free */
	sm_division_from_result(1, &d);
	sm_add_source_to(user_id, &d, SRC_TEAM, team_id, true, added_at);
}

/*
 * R2: the division the share licenses the recipient in, if any.  D is the
 * given division where the sharer holds an active seat, else the sharer's
 * earliest-granted active licence (in a paid division); the recipient must
 * be of D's domain and either already licensed in D or free (no active
 * licence in any paid division).
 */
static SeatQuery q_share_division = {
	"WITH sd AS ("
	"  SELECT l.division_id FROM seatmgr.licenses l"
	"    JOIN seatmgr.divisions pd ON pd.division_id = l.division_id"
	"   WHERE l.user_id = $1 AND l.status = 'active' AND pd.paid"
	"     AND ($3::bigint IS NULL OR l.division_id = $3)"
	"   ORDER BY l.granted_at, l.division_id LIMIT 1)"
	"SELECT " SM_DIVISION_COLUMNS
	"  FROM sd JOIN seatmgr.divisions d ON d.division_id = sd.division_id"
	"  JOIN seatmgr.users r ON r.user_id = $2 AND r.domain_id = d.domain_id"
	" WHERE EXISTS (SELECT 1 FROM seatmgr.licenses rl"
	"                WHERE rl.user_id = $2 AND rl.division_id = d.division_id)"
	"    OR NOT EXISTS (SELECT 1 FROM seatmgr.licenses rl"
	"                     JOIN seatmgr.divisions rd ON rd.division_id = rl.division_id"
	"                    WHERE rl.user_id = $2 AND rl.status = 'active' AND rd.paid)",
	3, {INT8OID, INT8OID, INT8OID}
};

/* R2 for one share, from its values. */
static void
share_added_values(int64 share_id, int64 sharer, int64 recipient, int64 division_id,
				   bool no_division, TimestampTz shared_at)
{
	Datum		v[3] = {Int64GetDatum(sharer), Int64GetDatum(recipient), Int64GetDatum(division_id)};
	char		nulls[4] = "   ";
	Division	d;

	if (no_division)
		nulls[2] = 'n';
	sm_exec(&q_share_division, v, nulls, false, 1);
	if (SPI_processed == 0)
		return;
	/* read again FOR SHARE: the lock order of docs/locking.md */
	if (!sm_load_division(sm_get_int64(0, 1, NULL), &d))
		return;
	sm_add_source_to(recipient, &d, SRC_SHARE, share_id, true, shared_at);
}

static void
share_added(Row *n)
{
	bool		no_division;
	bool		isnull;
	int64		division_id = col_int64(n, "division_id", &no_division);

	share_added_values(col_int64(n, "share_id", NULL), col_int64(n, "sharer_id", NULL),
					   col_int64(n, "recipient_id", NULL), division_id, no_division,
					   DatumGetTimestampTz(col(n, "shared_at", &isnull)));
}

static SeatQuery q_group_divisions = {
	"SELECT g.division_id FROM seatmgr.group_grants g"
	"  JOIN seatmgr.divisions d ON d.division_id = g.division_id"
	" WHERE g.group_id = $1 AND d.paid ORDER BY g.division_id",
	1, {INT8OID}
};

/* R3: a group member holds a licence in each paid division the group grants. */
static void
group_member_added(int64 group_id, int64 user_id, TimestampTz added_at)
{
	Datum		v[1] = {Int64GetDatum(group_id)};
	uint64		n;
	int64	   *divisions = sm_exec_ids(&q_group_divisions, v, &n);

	for (uint64 i = 0; i < n; i++)
		sm_add_source(user_id, divisions[i], SRC_GROUP, group_id, true, added_at);
}

/*
 * Members of a team or group, read into memory before licences change (the
 * SPI result is overwritten by every nested query).
 */
typedef struct Members
{
	uint64		n;
	int64	   *user_ids;
	int64	   *refs;
	char	  **kinds;
	TimestampTz *added_at;
} Members;

static void
read_members(SeatQuery *q, Datum *args, Members *m)
{
	sm_exec(q, args, NULL, false, 0);
	m->n = SPI_processed;
	m->user_ids = palloc(sizeof(int64) * (m->n + 1));
	m->refs = palloc(sizeof(int64) * (m->n + 1));
	m->kinds = palloc(sizeof(char *) * (m->n + 1));
	m->added_at = palloc(sizeof(TimestampTz) * (m->n + 1));
	for (uint64 i = 0; i < m->n; i++)
	{
		bool		isnull;

		m->user_ids[i] = sm_get_int64(i, 1, NULL);
		m->refs[i] = sm_get_int64(i, 2, NULL);
		m->kinds[i] = sm_get_text(i, 3);
		m->added_at[i] = DatumGetTimestampTz(sm_get(i, 4, &isnull));
	}
}

static SeatQuery q_group_members = {
	"SELECT user_id, group_id, 'group', added_at FROM seatmgr.group_members"
	" WHERE group_id = $1 ORDER BY added_at, user_id",
	1, {INT8OID}
};

static SeatQuery q_team_members = {
	"SELECT user_id, team_id, 'team', added_at FROM seatmgr.team_members"
	" WHERE team_id = $1 ORDER BY added_at, user_id",
	1, {INT8OID}
};

/* Everyone a division's teams and group grants license, oldest first. */
static SeatQuery q_division_members = {
	"SELECT tm.user_id, tm.team_id, 'team', tm.added_at"
	"  FROM seatmgr.team_members tm JOIN seatmgr.teams t ON t.team_id = tm.team_id"
	" WHERE t.division_id = $1"
	" UNION ALL "
	"SELECT gm.user_id, gm.group_id, 'group', gm.added_at"
	"  FROM seatmgr.group_members gm JOIN seatmgr.group_grants g ON g.group_id = gm.group_id"
	" WHERE g.division_id = $1"
	" ORDER BY 4, 1",
	1, {INT8OID}
};

static void
add_members(Members *m, int64 division_id)
{
	for (uint64 i = 0; i < m->n; i++)
		sm_add_source(m->user_ids[i], division_id, m->kinds[i], m->refs[i], true, m->added_at[i]);
}

static void
division_changed(Row *n, Row *o, bool inserted)
{
	int64		division_id = col_int64(n, "division_id", NULL);

	if (inserted || col_changed(o, n, "seat_limit"))
		sm_seat_limit_changed(division_id);
	if (!inserted && col_bool(n, "paid") && !col_bool(o, "paid"))
	{
		/* a division becoming paid makes its teams and group grants paid */
		Datum		v[1] = {Int64GetDatum(division_id)};
		Members		m;

		read_members(&q_division_members, v, &m);
		add_members(&m, division_id);
	}
}

static void
team_moved(Row *n, Row *o)
{
	int64		team_id = col_int64(n, "team_id", NULL);
	bool		isnull;
	int64		division_id = col_int64(n, "division_id", &isnull);
	Datum		v[1] = {Int64GetDatum(team_id)};
	Members		m;

	if (!col_changed(o, n, "division_id"))
		return;
	read_members(&q_team_members, v, &m);
	for (uint64 i = 0; i < m.n; i++)
		sm_drop_source_by_ref(m.user_ids[i], SRC_TEAM, team_id);
	if (!isnull)
		add_members(&m, division_id);
}

static SeatQuery q_grant_holders = {
	"SELECT user_id FROM seatmgr.license_sources"
	" WHERE kind = 'group' AND ref_id = $1 AND division_id = $2",
	2, {INT8OID, INT8OID}
};

static void
group_grant_removed(int64 group_id, int64 division_id)
{
	Datum		v[2] = {Int64GetDatum(group_id), Int64GetDatum(division_id)};
	uint64		n;
	int64	   *users = sm_exec_ids(&q_grant_holders, v, &n);

	for (uint64 i = 0; i < n; i++)
		sm_drop_source(users[i], division_id, SRC_GROUP, group_id, true);
}

static void
group_grant_added(int64 group_id, int64 division_id)
{
	Datum		v[1] = {Int64GetDatum(group_id)};
	Members		m;

	read_members(&q_group_members, v, &m);
	add_members(&m, division_id);
}

static TimestampTz
col_ts(Row *r, const char *name)
{
	bool		isnull;
	Datum		d = col(r, name, &isnull);

	return isnull ? GetCurrentTransactionStartTimestamp() : DatumGetTimestampTz(d);
}

/* The old row's effect is undone, then the new row's applied. */
static void
apply_row(const char *table, Row *r, bool add)
{
	if (strcmp(table, "team_members") == 0)
	{
		int64		team_id = col_int64(r, "team_id", NULL);
		int64		user_id = col_int64(r, "user_id", NULL);

		if (add)
			team_member_added(team_id, user_id, col_ts(r, "added_at"));
		else
			sm_drop_source_by_ref(user_id, SRC_TEAM, team_id);
	}
	else if (strcmp(table, "shares") == 0)
	{
		if (add)
			share_added(r);
		else
			sm_drop_source_by_ref(col_int64(r, "recipient_id", NULL), SRC_SHARE,
								  col_int64(r, "share_id", NULL));
	}
	else if (strcmp(table, "group_members") == 0)
	{
		int64		group_id = col_int64(r, "group_id", NULL);
		int64		user_id = col_int64(r, "user_id", NULL);

		if (add)
			group_member_added(group_id, user_id, col_ts(r, "added_at"));
		else
			sm_drop_source_by_ref(user_id, SRC_GROUP, group_id);
	}
	else if (strcmp(table, "group_grants") == 0)
	{
		int64		group_id = col_int64(r, "group_id", NULL);
		int64		division_id = col_int64(r, "division_id", NULL);

		if (add)
			group_grant_added(group_id, division_id);
		else
			group_grant_removed(group_id, division_id);
	}
}

/* Columns whose change re-applies a link row (UPDATE = delete + insert). */
static bool
link_changed(const char *table, Row *n, Row *o)
{
	if (strcmp(table, "team_members") == 0)
		return col_changed(o, n, "team_id") || col_changed(o, n, "user_id");
	if (strcmp(table, "group_members") == 0)
		return col_changed(o, n, "group_id") || col_changed(o, n, "user_id");
	if (strcmp(table, "group_grants") == 0)
		return col_changed(o, n, "group_id") || col_changed(o, n, "division_id");
	if (strcmp(table, "shares") == 0)
		return col_changed(o, n, "sharer_id") || col_changed(o, n, "recipient_id") ||
			col_changed(o, n, "division_id");
	return false;
}

static SeatQuery q_user_licenses = {
	"SELECT division_id FROM seatmgr.licenses WHERE user_id = $1 ORDER BY division_id",
	1, {INT8OID}
};

/*
 * A user is deleted: remove their licences first, with events, so that
 * their seats go to the waitlist (the foreign keys' cascade would do
 * neither).
 */
static void
user_deleted(int64 user_id)
{
	Datum		v[1] = {Int64GetDatum(user_id)};
	uint64		n;
	int64	   *divisions = sm_exec_ids(&q_user_licenses, v, &n);

	for (uint64 i = 0; i < n; i++)
		sm_remove_license(user_id, divisions[i], NULL);
}

Datum
seatmgr_model_change(PG_FUNCTION_ARGS)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;
	Row			n = {NULL, NULL},
				o = {NULL, NULL};
	const char *table;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(trig->tg_event))
		elog(ERROR, "seatmgr.model_change must be a ROW trigger");
	if (sm_restoring())
		return PointerGetDatum(TRIGGER_FIRED_BEFORE(trig->tg_event) ? trig->tg_trigtuple : NULL);
	if (TRIGGER_FIRED_BEFORE(trig->tg_event))
	{
		Row			r = {trig->tg_trigtuple, RelationGetDescr(trig->tg_relation)};

		if (!TRIGGER_FIRED_BY_DELETE(trig->tg_event) ||
			strcmp(RelationGetRelationName(trig->tg_relation), "users") != 0)
			elog(ERROR, "seatmgr.model_change runs BEFORE only on DELETE of seatmgr.users");
		SPI_connect();
		user_deleted(col_int64(&r, "user_id", NULL));
		SPI_finish();
		return PointerGetDatum(trig->tg_trigtuple);
	}

	n.desc = o.desc = RelationGetDescr(trig->tg_relation);
	if (TRIGGER_FIRED_BY_INSERT(trig->tg_event))
		n.tuple = trig->tg_trigtuple;
	else if (TRIGGER_FIRED_BY_DELETE(trig->tg_event))
		o.tuple = trig->tg_trigtuple;
	else
	{
		o.tuple = trig->tg_trigtuple;
		n.tuple = trig->tg_newtuple;
	}
	table = RelationGetRelationName(trig->tg_relation);

	SPI_connect();
	if (strcmp(table, "divisions") == 0)
	{
		if (n.tuple)
			division_changed(&n, &o, o.tuple == NULL);
	}
	else if (strcmp(table, "teams") == 0)
	{
		if (n.tuple && o.tuple)
			team_moved(&n, &o);
	}
	else if (n.tuple && o.tuple)
	{
		if (link_changed(table, &n, &o))
		{
			apply_row(table, &o, false);
			apply_row(table, &n, true);
		}
	}
	else if (n.tuple)
		apply_row(table, &n, true);
	else
		apply_row(table, &o, false);
	SPI_finish();
	return PointerGetDatum(NULL);
}

/*
 * R1 for every membership an INSERT statement adds.  The common case, a new
 * licence in an unlimited paid division, is one set-based statement for the
 * whole batch (the licences, their sources and their events); the rest
 * (limited divisions, existing licences, reactivations) goes row by row
 * through the same code as a single invite.  ON CONFLICT DO NOTHING makes
 * the batch insert behave like create_license under concurrency.
 */
static const char members_batch_sql[] =
	"WITH n AS ("
	"  SELECT DISTINCT ON (m.user_id, t.division_id) m.user_id, t.division_id, m.team_id, m.added_at"
	"    FROM seatmgr_new_members m"
	"    JOIN seatmgr.teams t ON t.team_id = m.team_id"
	"    JOIN seatmgr.divisions d ON d.division_id = t.division_id"
	"   WHERE d.paid AND d.seat_limit IS NULL"
	"   ORDER BY m.user_id, t.division_id, m.added_at, m.team_id),"
	" l AS ("
	"  INSERT INTO seatmgr.licenses (user_id, division_id, status, granted_at)"
	"  SELECT user_id, division_id, 'active', added_at FROM n ORDER BY added_at, user_id"
	"  ON CONFLICT DO NOTHING RETURNING user_id, division_id),"
	" done AS ("
	"  SELECT n.* FROM n JOIN l ON l.user_id = n.user_id AND l.division_id = n.division_id),"
	" s AS ("
	"  INSERT INTO seatmgr.license_sources (user_id, division_id, kind, ref_id, added_at)"
	"  SELECT user_id, division_id, 'team', team_id, added_at FROM done),"
	" e AS ("
	"  INSERT INTO seatmgr.license_events (user_id, division_id, event, source_kind, source_ref, actor)"
	"  SELECT user_id, division_id, 'granted', 'team', team_id, $1 FROM done ORDER BY added_at, user_id)"
	"SELECT m.team_id, m.user_id, m.added_at FROM seatmgr_new_members m"
	" WHERE NOT EXISTS (SELECT 1 FROM done WHERE done.user_id = m.user_id AND done.team_id = m.team_id)";

/*
 * Starts a batch trigger: connects to SPI, makes the statement's new rows
 * visible as the transition table, and runs the batch statement, planned
 * for this statement (a plan kept from a one-row insert would join a
 * 10,000-row batch by nested loops).  Returns with SPI connected and the
 * rows the batch left for row-by-row handling in SPI_tuptable.
 */
static void
run_batch(FunctionCallInfo fcinfo, const char *lock_sql, const char *sql, const char *what)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;
	Datum		v[1];
	Oid			types[1] = {TEXTOID};

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trig->tg_event) ||
		TRIGGER_FIRED_FOR_ROW(trig->tg_event) || trig->tg_newtable == NULL)
		elog(ERROR, "seatmgr: the %s trigger must be AFTER STATEMENT with a NEW TABLE", what);
	SPI_connect();
	if (SPI_register_trigger_data(trig) != SPI_OK_TD_REGISTER)
		elog(ERROR, "seatmgr: could not register the new %s", what);
	/* the lock order of docs/locking.md: the batch's divisions before any licence */
	sm_exec_sql(lock_sql, 0, NULL, NULL, NULL);
	v[0] = CStringGetTextDatum(sm_actor());
	sm_exec_sql(sql, 1, types, v, NULL);
}

/* R6: a seat_limit change waits for the batch, and the batch for it. */
static const char members_lock_sql[] =
	"SELECT 1 FROM seatmgr.divisions d"
	" WHERE d.division_id IN (SELECT t.division_id FROM seatmgr_new_members m"
	"                           JOIN seatmgr.teams t ON t.team_id = m.team_id)"
	" ORDER BY d.division_id FOR SHARE OF d";

Datum
seatmgr_members_added(PG_FUNCTION_ARGS)
{
	uint64		n;
	int64	   *teams,
			   *users;
	TimestampTz *added;

	if (sm_restoring())
		return PointerGetDatum(NULL);
	run_batch(fcinfo, members_lock_sql, members_batch_sql, "memberships");

	/* the rows the batch did not settle, one by one */
	n = SPI_processed;
	teams = palloc(sizeof(int64) * (n + 1));
	users = palloc(sizeof(int64) * (n + 1));
	added = palloc(sizeof(TimestampTz) * (n + 1));
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;

		teams[i] = sm_get_int64(i, 1, NULL);
		users[i] = sm_get_int64(i, 2, NULL);
		added[i] = DatumGetTimestampTz(sm_get(i, 3, &isnull));
	}
	for (uint64 i = 0; i < n; i++)
		team_member_added(teams[i], users[i], added[i]);
	SPI_finish();
	return PointerGetDatum(NULL);
}

/*
 * A division is deleted (or its domain): its licences go with it, each with
 * a 'removed' event (SPEC section 5), before the foreign keys' cascade
 * deletes them silently.
 */
static SeatQuery q_division_removed = {
	"WITH gone AS (DELETE FROM seatmgr.licenses WHERE division_id = $1 RETURNING user_id)"
	"INSERT INTO seatmgr.license_events (user_id, division_id, event, actor)"
	"SELECT user_id, $1, 'removed', $2 FROM gone ORDER BY user_id",
	2, {INT8OID, TEXTOID}
};

Datum
seatmgr_division_deleted(PG_FUNCTION_ARGS)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;
	Row			r;
	Datum		v[2];

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trig->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trig->tg_event) || !TRIGGER_FIRED_BY_DELETE(trig->tg_event))
		elog(ERROR, "seatmgr.division_deleted must be a BEFORE DELETE ROW trigger");
	if (sm_restoring())
		return PointerGetDatum(trig->tg_trigtuple);
	r.tuple = trig->tg_trigtuple;
	r.desc = RelationGetDescr(trig->tg_relation);
	v[0] = Int64GetDatum(col_int64(&r, "division_id", NULL));
	v[1] = CStringGetTextDatum(sm_actor());
	SPI_connect();
	sm_exec(&q_division_removed, v, NULL, false, 0);
	SPI_finish();
	return PointerGetDatum(trig->tg_trigtuple);
}
