/*
 * access.c: who may do what (SPEC section 8, R20, R21).
 *
 * seatmgr creates no roles; seatmgr_allow(role, access, domain_id,
 * division_id) records a grant in seatmgr.access and gives the role exactly
 * the privileges of its kind (app, reader, admin); seatmgr_disallow takes it
 * back.  Privileges say WHAT a role may do; the grants' scopes say WHERE:
 *
 *   - row-level security policies (in the install script, so pg_dump keeps
 *     them) hide the rows of other domains, and of other divisions for a
 *     division scope, through seatmgr.sees() and seatmgr.unscoped();
 *   - every entry point that takes ids or writes a model row checks the
 *     caller's scope on each object before it reveals or changes anything
 *     (sm_may), and refuses with 42501 naming the object by the id given.
 *
 * The caller: the functions that check scopes are SECURITY INVOKER and
 * switch to their owner themselves (sm_enter), so the role that called them
 * -- a SECURITY DEFINER function of the application's included -- is known;
 * their queries then run as the owner, beside row-level security.
 *
 * A role's scope is the union of the grants of every role whose privileges
 * it has (pg_has_role ... USAGE), per kind.  The superuser and the
 * extension's owner (and members of it) are unscoped.  The grants of one
 * role are cached per backend until seatmgr.access or a role membership
 * changes (invalidation callbacks), so a check costs a few comparisons.
 */
#include "seatmgr.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "lib/stringinfo.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(seatmgr_sees);
PG_FUNCTION_INFO_V1(seatmgr_unscoped);
PG_FUNCTION_INFO_V1(seatmgr_allow);
PG_FUNCTION_INFO_V1(seatmgr_disallow);
PG_FUNCTION_INFO_V1(seatmgr_access_changed);

static const char *const kind_names[] = {"app", "reader", "admin"};

typedef struct Grant
{
	int			kinds;
	int64		domain_id;		/* 0: every domain */
	int64		division_id;	/* 0: the whole domain */
} Grant;

typedef struct DivisionDomain
{
	int64		division_id;
	int64		domain_id;
} DivisionDomain;

static bool cache_valid = false;
static Oid	cache_user = InvalidOid;
static bool cache_all;			/* superuser or the extension's owner */
static int	cache_unscoped;		/* kinds granted without a scope */
static int	cache_n;
static Grant *cache_grants;
static HTAB *division_domains;	/* a division never changes domain (0A000) */
static bool callbacks_registered = false;
static Oid	access_relid = InvalidOid;	/* seatmgr.access, as of the last load */

static void
reset_cache(void)
{
	cache_valid = false;
	if (division_domains)
	{
		hash_destroy(division_domains);
		division_domains = NULL;
	}
}

static void
relcache_changed(Datum arg, Oid relid)
{
	/* seatmgr.access changed (or everything was invalidated); no catalog access here */
	if (!OidIsValid(relid) || relid == access_relid)
	{
		access_relid = InvalidOid;
		reset_cache();
	}
}

static void
roles_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	reset_cache();
}

static Oid
function_owner(Oid fn_oid)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn_oid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "seatmgr: cache lookup failed for function %u", fn_oid);
	owner = ((Form_pg_proc) GETSTRUCT(tup))->proowner;
	ReleaseSysCache(tup);
	return owner;
}

/* the owner of a policy's function, looked up once per query (it runs per row) */
static Oid
cached_owner(FunctionCallInfo fcinfo)
{
	if (fcinfo->flinfo->fn_extra == NULL)
	{
		Oid		   *owner = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(Oid));

		*owner = function_owner(fcinfo->flinfo->fn_oid);
		fcinfo->flinfo->fn_extra = owner;
	}
	return *(Oid *) fcinfo->flinfo->fn_extra;
}

static int
kind_of(const char *name)
{
	for (int i = 0; i < (int) lengthof(kind_names); i++)
		if (strcmp(name, kind_names[i]) == 0)
			return 1 << i;
	return 0;
}

/* Reads the grants of every role whose privileges user has. */
static void
load_grants(Oid user, Oid owner)
{
	Oid			nsp;
	Oid			relid;
	Relation	rel;
	TableScanDesc scan;
	TupleTableSlot *slot;
	Snapshot	snapshot;
	int			cap = 8;

	if (!callbacks_registered)
	{
		CacheRegisterRelcacheCallback(relcache_changed, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHMEMMEMROLE, roles_changed, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, roles_changed, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHOID, roles_changed, (Datum) 0);
		callbacks_registered = true;
	}
	if (cache_grants)
		pfree(cache_grants);
	cache_grants = MemoryContextAlloc(TopMemoryContext, sizeof(Grant) * cap);
	cache_n = 0;
	cache_unscoped = 0;
	cache_all = superuser_arg(user) || has_privs_of_role(user, owner);
	cache_user = user;
	if (!cache_all)
	{
		nsp = get_namespace_oid("seatmgr", false);
		relid = get_relname_relid("access", nsp);
		if (!OidIsValid(relid))
			elog(ERROR, "seatmgr: table seatmgr.access is missing");
		access_relid = relid;
		rel = table_open(relid, AccessShareLock);
		snapshot = RegisterSnapshot(GetLatestSnapshot());
		scan = table_beginscan(rel, snapshot, 0, NULL);
		slot = table_slot_create(rel, NULL);
		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			bool		isnull;
			Datum		role = slot_getattr(slot, get_attnum(relid, "role"), &isnull);
			Datum		kind;
			Datum		v;
			Grant	   *g;

			if (isnull || !has_privs_of_role(user, DatumGetObjectId(role)))
				continue;
			kind = slot_getattr(slot, get_attnum(relid, "access"), &isnull);
			if (isnull)
				continue;
			if (cache_n == cap)
			{
				cap *= 2;
				cache_grants = repalloc(cache_grants, sizeof(Grant) * cap);
			}
			g = &cache_grants[cache_n++];
			g->kinds = kind_of(TextDatumGetCString(kind));
			v = slot_getattr(slot, get_attnum(relid, "domain_id"), &isnull);
			g->domain_id = isnull ? 0 : DatumGetInt64(v);
			v = slot_getattr(slot, get_attnum(relid, "division_id"), &isnull);
			g->division_id = isnull ? 0 : DatumGetInt64(v);
			if (g->domain_id == 0 && g->division_id == 0)
				cache_unscoped |= g->kinds;
		}
		table_endscan(scan);
		ExecDropSingleTupleTableSlot(slot);
		UnregisterSnapshot(snapshot);
		table_close(rel, AccessShareLock);
	}
	cache_valid = true;
}

static void
ensure_grants(Oid user, Oid owner)
{
	if (!cache_valid || cache_user != user)
		load_grants(user, owner);
}

/* The domain of a division, 0 when it does not exist (any more). */
static int64
division_domain(int64 division_id)
{
	static const char *const cols[] = {"domain_id", NULL};
	DivisionDomain *e;
	bool		found;
	int64		domain = 0;

	if (division_domains == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(DivisionDomain);
		ctl.hcxt = TopMemoryContext;
		division_domains = hash_create("seatmgr division domains", 64, &ctl,
									   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	e = hash_search(division_domains, &division_id, HASH_FIND, NULL);
	if (e)
		return e->domain_id;
	if (!sm_index_probe("divisions", "divisions_pkey", 1, &division_id, cols, &domain, false))
		return 0;
	e = hash_search(division_domains, &division_id, HASH_ENTER, &found);
	e->domain_id = domain;
	return domain;
}

static bool
grants_cover(int kinds, int64 domain_id, int64 division_id, bool domain_wide)
{
	if (cache_all || (cache_unscoped & kinds))
		return true;
	for (int i = 0; i < cache_n; i++)
	{
		Grant	   *g = &cache_grants[i];

		if (!(g->kinds & kinds))
			continue;
		if (g->division_id == 0)
		{
			/* a domain grant: every row of its domain */
			if (domain_id == 0 && division_id != 0)
				domain_id = division_domain(division_id);
			if (g->domain_id == domain_id)
				return true;
		}
		else if (division_id != 0 ? g->division_id == division_id
				 : (!domain_wide && g->domain_id == domain_id))
			return true;		/* its division, or a domain-level row of its domain */
	}
	return false;
}

/*
 * Whether the caller's grants of any of kinds cover a row of domain_id
 * (0: look it up from the division) and division_id (0: a domain-level row,
 * such as a user, a group or a team without division).  domain_wide: the
 * row needs a grant of the whole domain (exclusions, new divisions).
 */
bool
sm_may(SmCaller *c, int kinds, int64 domain_id, int64 division_id, bool domain_wide)
{
	ensure_grants(c->user, c->owner);
	return grants_cover(kinds, domain_id, division_id, domain_wide);
}

/* Whether the caller has a grant of any of kinds, whatever its scope. */
bool
sm_has_kind(SmCaller *c, int kinds)
{
	ensure_grants(c->user, c->owner);
	if (cache_all)
		return true;
	for (int i = 0; i < cache_n; i++)
		if (cache_grants[i].kinds & kinds)
			return true;
	return false;
}

/* Whether the caller's grants of any of kinds cover every domain. */
bool
sm_unscoped(SmCaller *c, int kinds)
{
	ensure_grants(c->user, c->owner);
	return cache_all || (cache_unscoped & kinds) != 0;
}

/*
 * 42501 naming the object by its id (R20).  The error fields name the
 * object's table (table NULL), or the row of table whose column names it
 * (a row a trigger refuses): table and column names only, nothing else.
 */
void
sm_deny_in(SmCaller *c, const char *what, int64 id, const char *hint, const char *table,
		   const char *column)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for %s %lld", sm_(what), (long long) id),
			 errdetail("No seatmgr access of role \"%s\" covers it.", GetUserNameFromId(c->user, false)),
			 hint ? errhint("%s", sm_(hint))
			 : errhint("The extension's owner gives access with seatmgr_allow(role, access, domain_id, division_id)."),
			 table ? sm_errcolumn(table, column) : sm_errobject(what, NULL, NULL)));
}

void
sm_deny(SmCaller *c, const char *what, int64 id, const char *hint)
{
	sm_deny_in(c, what, id, hint, NULL, NULL);
}

void
sm_require(SmCaller *c, int kinds, const char *what, int64 id, int64 domain_id, int64 division_id,
		   bool domain_wide)
{
	if (!sm_may(c, kinds, domain_id, division_id, domain_wide))
		sm_deny(c, what, id, NULL);
}

/*
 * Records the caller and switches to the function's owner, so that the
 * function's own queries see every row (row-level security does not apply
 * to the tables' owner) while its checks judge the caller.  A (sub)
 * transaction abort restores the user, as it does for SECURITY DEFINER.
 */
void
sm_enter(FunctionCallInfo fcinfo, SmCaller *c)
{
	GetUserIdAndSecContext(&c->save_user, &c->save_sec);
	c->user = c->save_user;
	c->owner = function_owner(fcinfo->flinfo->fn_oid);
	SetUserIdAndSecContext(c->owner, c->save_sec | SECURITY_LOCAL_USERID_CHANGE);
}

void
sm_leave(SmCaller *c)
{
	SetUserIdAndSecContext(c->save_user, c->save_sec);
}

/* ---------------------------------------------------------------------
 * Row-level security: seatmgr.sees(domain_id, division_id), seatmgr.unscoped()
 * ---------------------------------------------------------------------
 */

/*
 * seatmgr.sees(domain_id, division_id): whether the current user may see a
 * row of that domain and division (NULL domain: the division's; NULL
 * division: a domain-level row).  The expression of every policy.
 */
Datum
seatmgr_sees(PG_FUNCTION_ARGS)
{
	int64		domain_id = PG_ARGISNULL(0) ? 0 : PG_GETARG_INT64(0);
	int64		division_id = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT64(1);

	ensure_grants(GetUserId(), cached_owner(fcinfo));
	if (domain_id == 0 && division_id == 0)
		PG_RETURN_BOOL(cache_all || cache_unscoped != 0);
	PG_RETURN_BOOL(grants_cover(SM_ANY, domain_id, division_id, false));
}

/* seatmgr.unscoped(): whether the current user sees every domain. */
Datum
seatmgr_unscoped(PG_FUNCTION_ARGS)
{
	ensure_grants(GetUserId(), cached_owner(fcinfo));
	PG_RETURN_BOOL(cache_all || cache_unscoped != 0);
}

/*
 * seatmgr.access_changed: AFTER STATEMENT trigger on seatmgr.access.  Every
 * backend forgets the grants it cached when the transaction commits (and
 * this one at once, and again if it aborts).
 */
Datum
seatmgr_access_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "seatmgr.access_changed must be a trigger");
	CacheInvalidateRelcache(trig->tg_relation);
	reset_cache();
	return PointerGetDatum(NULL);
}

/* ---------------------------------------------------------------------
 * seatmgr_allow, seatmgr_disallow
 * ---------------------------------------------------------------------
 */

/*
 * The privileges of each kind, exactly: seatmgr_disallow revokes every
 * privilege on seatmgr's objects and grants again those of the kinds left.
 * The tables are in schema seatmgr, the functions in the extension's
 * schema (@ext@ here); @role@ is the role.
 */
static const char *const app_grants[] = {
	"GRANT SELECT, INSERT, UPDATE, DELETE ON seatmgr.users, seatmgr.teams, seatmgr.team_members,"
	" seatmgr.shares, seatmgr.groups, seatmgr.group_members TO @role@",
	"GRANT SELECT ON seatmgr.domains, seatmgr.divisions, seatmgr.licenses, seatmgr.license_sources,"
	" seatmgr.notices TO @role@",
	"GRANT EXECUTE ON FUNCTION @ext@.seatmgr_touch(bigint, timestamptz), @ext@.seatmgr_touch(bigint[], timestamptz),"
	" @ext@.seatmgr_explain(bigint), @ext@.seatmgr_answer_notice(bigint, text) TO @role@",
	NULL
};

static const char *const reader_grants[] = {
	"GRANT SELECT ON seatmgr.domains, seatmgr.divisions, seatmgr.teams, seatmgr.users, seatmgr.team_members,"
	" seatmgr.shares, seatmgr.groups, seatmgr.group_members, seatmgr.group_grants, seatmgr.exclusions,"
	" seatmgr.policies, seatmgr.licenses, seatmgr.license_sources, seatmgr.seat_counts, seatmgr.runs,"
	" seatmgr.run_changes, seatmgr.license_events, seatmgr.division_seats, seatmgr.run_history,"
	" seatmgr.next_runs, seatmgr.progress, seatmgr.billable_users, seatmgr.idle_seats,"
	" seatmgr.license_periods, seatmgr.deliveries, seatmgr.notices TO @role@",
	/* every column of the webhooks but the secret (SPEC section 7) */
	"GRANT SELECT (webhook_id, domain_id, url, event_types, enabled, created_at) ON seatmgr.webhooks TO @role@",
	"GRANT EXECUTE ON FUNCTION @ext@.seatmgr_explain(bigint), @ext@.seatmgr_run_export(bigint),"
	" @ext@.seatmgr_run_summary(bigint), @ext@.seatmgr_run(bigint, boolean), seatmgr.progress_rows(),"
	" @ext@.seatmgr_seats_at(timestamptz), @ext@.seatmgr_cost(timestamptz, timestamptz),"
	" seatmgr.license_spans(timestamptz, bigint[]),"
	" @ext@.seatmgr_simulate(bigint, interval, interval, interval) TO @role@",
	NULL
};

static const char *const admin_grants[] = {
	"GRANT INSERT, UPDATE, DELETE ON seatmgr.divisions, seatmgr.policies, seatmgr.exclusions,"
	" seatmgr.group_grants TO @role@",
	"GRANT EXECUTE ON FUNCTION @ext@.seatmgr_grant_license(bigint, bigint),"
	" @ext@.seatmgr_remove_license(bigint, bigint), @ext@.seatmgr_answer_notice(bigint, text),"
	" @ext@.seatmgr_undo_run(bigint) TO @role@",
	"GRANT SELECT, INSERT, UPDATE, DELETE ON seatmgr.webhooks TO @role@",
	"GRANT EXECUTE ON FUNCTION @ext@.seatmgr_redeliver(bigint) TO @role@",
	"GRANT EXECUTE ON PROCEDURE @ext@.seatmgr_deliver() TO @role@",
	NULL
};

static void
run_statements(const char *const *stmts, const char *ext_schema, const char *role)
{
	for (int i = 0; stmts[i]; i++)
		if (SPI_execute(sm_replace_all(sm_replace_all(stmts[i], "@ext@", ext_schema), "@role@", role),
						false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "seatmgr: could not change the privileges of role %s", role);
}

static SeatQuery q_role_kinds = {
	"SELECT DISTINCT access FROM seatmgr.access WHERE role = $1", 1, {REGROLEOID}
};

/* every function and procedure of the extension, to revoke them */
static SeatQuery q_member_functions = {
	"SELECT p.oid::pg_catalog.regprocedure::text, p.prokind = 'p'"
	"  FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_proc p ON p.oid = d.objid"
	" WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass"
	"   AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass"
	"   AND d.refobjid = $1 AND d.deptype = 'e'",
	1, {OIDOID}
};

/* Gives role exactly the privileges of the kinds seatmgr.access holds for it. */
static void
sync_privileges(Oid role, FunctionCallInfo fcinfo)
{
	Oid			ext = get_extension_oid("seatmgr", false);

	/* seatmgr_allow lives in the extension's schema, as every public function */
	char	   *ext_schema = (char *) quote_identifier(get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid)));
	char	   *rolename = (char *) quote_identifier(GetUserNameFromId(role, false));
	Datum		v[1];
	int			kinds = 0;
	uint64		n;
	char	  **functions;
	bool	   *procedures;

	v[0] = ObjectIdGetDatum(role);
	sm_exec(&q_role_kinds, v, NULL, false, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
		kinds |= kind_of(sm_get_text(i, 1));

	v[0] = ObjectIdGetDatum(ext);
	sm_exec(&q_member_functions, v, NULL, true, 0);
	n = SPI_processed;
	functions = palloc(sizeof(char *) * (n + 1));
	procedures = palloc(sizeof(bool) * (n + 1));
	for (uint64 i = 0; i < n; i++)
	{
		functions[i] = sm_get_text(i, 1);
		procedures[i] = sm_get_bool(i, 2);
	}
	if (SPI_execute(psprintf("REVOKE ALL ON ALL TABLES IN SCHEMA seatmgr FROM %s", rolename), false, 0) < 0)
		elog(ERROR, "seatmgr: could not revoke the privileges of role %s", rolename);
	for (uint64 i = 0; i < n; i++)
		if (SPI_execute(psprintf("REVOKE ALL ON %s %s FROM %s", procedures[i] ? "PROCEDURE" : "FUNCTION",
								 functions[i], rolename), false, 0) < 0)
			elog(ERROR, "seatmgr: could not revoke the privileges of role %s", rolename);
	if (SPI_execute(psprintf("REVOKE ALL ON SCHEMA seatmgr FROM %s", rolename), false, 0) < 0)
		elog(ERROR, "seatmgr: could not revoke the privileges of role %s", rolename);
	if (kinds == 0)
		return;
	if (SPI_execute(psprintf("GRANT USAGE ON SCHEMA seatmgr, %s TO %s", ext_schema, rolename), false, 0) < 0)
		elog(ERROR, "seatmgr: could not grant the privileges of role %s", rolename);
	if (kinds & SM_APP)
		run_statements(app_grants, ext_schema, rolename);
	if (kinds & (SM_READER | SM_ADMIN))
		run_statements(reader_grants, ext_schema, rolename);
	if (kinds & SM_ADMIN)
		run_statements(admin_grants, ext_schema, rolename);
}

static SeatQuery q_allow = {
	"INSERT INTO seatmgr.access (role, access, domain_id, division_id) VALUES ($1, $2, $3, $4)"
	" ON CONFLICT DO NOTHING",
	4, {REGROLEOID, TEXTOID, INT8OID, INT8OID}
};

static SeatQuery q_disallow = {
	"DELETE FROM seatmgr.access WHERE role = $1 AND access = $2"
	"   AND domain_id IS NOT DISTINCT FROM $3 AND division_id IS NOT DISTINCT FROM $4",
	4, {REGROLEOID, TEXTOID, INT8OID, INT8OID}
};

static SeatQuery q_domain_exists = {
	"SELECT 1 FROM seatmgr.domains WHERE domain_id = $1", 1, {INT8OID}
};

/* The arguments of seatmgr_allow and seatmgr_disallow, checked; values for q_allow. */
static void
grant_arguments(FunctionCallInfo fcinfo, SmCaller *c, Datum *v, char *nulls, bool allow)
{
	char	   *access;
	int64		domain_id = 0;
	int64		division_id = 0;

	sm_require_arg(fcinfo, 0, "role");
	sm_require_arg(fcinfo, 1, "access");
	if (!has_privs_of_role(c->user, c->owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for function %s", allow ? "seatmgr_allow" : "seatmgr_disallow"),
				 errdetail("Only the owner of extension seatmgr, or a superuser, gives and takes access.")));
	access = TextDatumGetCString(PG_GETARG_DATUM(1));
	if (kind_of(access) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid access \"%s\"", access),
				 errhint("Use 'app', 'reader' or 'admin'."),
				 sm_errcolumn("access", "access")));
	if (!PG_ARGISNULL(2))
		domain_id = PG_GETARG_INT64(2);
	if (!PG_ARGISNULL(3))
		division_id = PG_GETARG_INT64(3);
	v[0] = PG_GETARG_DATUM(0);
	v[1] = PG_GETARG_DATUM(1);
	v[2] = Int64GetDatum(domain_id);
	v[3] = Int64GetDatum(division_id);
	nulls[0] = nulls[1] = ' ';
	nulls[2] = PG_ARGISNULL(2) ? 'n' : ' ';
	nulls[3] = PG_ARGISNULL(3) ? 'n' : ' ';
	if (division_id != 0)
	{
		/* a division grant records its domain too (SPEC section 9) */
		int64		domain = division_domain(division_id);

		if (domain == 0)
		{
			if (allow)
				sm_error_missing("division", division_id);
		}
		else if (domain_id != 0 && domain_id != domain)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("division %lld belongs to domain %lld, not to domain %lld",
							(long long) division_id, (long long) domain, (long long) domain_id),
					 errhint("Give the division alone: its domain is recorded with it."),
					 sm_errcolumn("access", "domain_id")));
		else
		{
			v[2] = Int64GetDatum(domain);
			nulls[2] = ' ';
		}
	}
	else if (domain_id != 0 && allow)
	{
		Datum		d[1] = {Int64GetDatum(domain_id)};

		sm_exec(&q_domain_exists, d, NULL, true, 1);
		if (SPI_processed == 0)
			sm_error_missing("domain", domain_id);
	}
}

/*
 * seatmgr_allow(role, access, domain_id, division_id): records the grant
 * (idempotent) and gives the role the privileges of its kinds.
 */
Datum
seatmgr_allow(PG_FUNCTION_ARGS)
{
	SmCaller	c;
	Datum		v[4];
	char		nulls[4];

	sm_enter(fcinfo, &c);
	SPI_connect();
	grant_arguments(fcinfo, &c, v, nulls, true);
	sm_exec(&q_allow, v, nulls, false, 0);
	sync_privileges(DatumGetObjectId(v[0]), fcinfo);
	SPI_finish();
	sm_leave(&c);
	PG_RETURN_VOID();
}

/* seatmgr_disallow(...): removes the grant, if any, and the privileges no grant still needs. */
Datum
seatmgr_disallow(PG_FUNCTION_ARGS)
{
	SmCaller	c;
	Datum		v[4];
	char		nulls[4];

	sm_enter(fcinfo, &c);
	SPI_connect();
	grant_arguments(fcinfo, &c, v, nulls, false);
	sm_exec(&q_disallow, v, nulls, false, 0);
	if (SPI_processed > 0)
		sync_privileges(DatumGetObjectId(v[0]), fcinfo);
	SPI_finish();
	sm_leave(&c);
	PG_RETURN_VOID();
}
