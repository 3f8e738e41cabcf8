/*
 * validate.c: the BEFORE INSERT OR UPDATE trigger of each table an
 * application writes, one C function per table (seatmgr.validate_<table>).
 *
 * They reject bad rows with a message that names the bad value (SPEC
 * section 5): a NULL in a NOT NULL column (23502, before anything reads the
 * row), an unknown id (23503), a malformed e-mail or domain name, a
 * cross-domain reference, a share with oneself, a non-positive interval
 * (23514), a time in the future or infinite, an interval over 100 years, a
 * seat price that is no amount (22023), a duplicate (23505).  They also
 * lower-case domain names and maintain policies.next_run_at (R11).  During a
 * restore (sm_restoring) they stand aside: the dump is what it was.
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
#include "utils/array.h"

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

/* nouns of messages, translated where they are used (sm_) */
static const char *const entity_name[E_COUNT] = {
	gettext_noop("domain"), gettext_noop("division"), gettext_noop("team"), gettext_noop("user"), gettext_noop("group")
};

static const char *const entity_table[E_COUNT] = {"domains", "divisions", "teams", "users", "groups"};

/* the role writing the row, whose scope the row must lie in (R20) */
static SmCaller *caller;

/* the table of the row being validated, which the error fields name */
static Relation target;

/*
 * The error fields of the row being validated (issue 12): its table, and
 * the column at fault and the constraint that states the rule unless NULL.
 */
static int
errrow(const char *column, const char *constraint)
{
	return sm_errrow(RelationGetRelationName(target), column, constraint);
}

/*
 * The domain of an entity (and the division of a team, 0 without one),
 * whose id the row's column holds; an unknown id is an error that names it.
 */
static int64
entity_domain_division(Entity e, int64 id, const char *column, int64 *division)
{
	static const char *const domain_col[] = {"domain_id", NULL};
	static const char *const team_cols[] = {"domain_id", "division_id", NULL};
	int64		fetched[2] = {0, 0};

	if (!sm_index_probe(entity_table[e], psprintf("%s_pkey", entity_table[e]), 1, &id,
						e == E_TEAM ? team_cols : domain_col, fetched, false))
		sm_error_missing_in(entity_name[e], id, RelationGetRelationName(target), column);
	if (division)
		*division = fetched[1];
	return fetched[0];
}

static int64
entity_domain(Entity e, int64 id, const char *column)
{
	return entity_domain_division(e, id, column, NULL);
}

static char *
entity_label(Entity e, int64 id)
{
	return psprintf("%s %lld", sm_(entity_name[e]), (long long) id);
}

/*
 * R20: an object of the row (its id in column) out of the caller's scope
 * for kinds is refused with 42501 naming it by its id.  domain_id 0: the
 * division's.
 */
static void
in_scope(int kinds, Entity e, int64 id, const char *column, int64 domain_id, int64 division_id,
		 bool domain_wide)
{
	if (!sm_may(caller, kinds, domain_id, division_id, domain_wide))
		sm_deny_in(caller, entity_name[e], id, NULL, RelationGetRelationName(target), column);
}

static void domain_mismatch(Entity e, int64 id, const char *column, int64 domain, Entity owner,
							int64 owner_id, int64 owner_domain) pg_attribute_noreturn();

/* e (id), which the row's column holds, is of another domain than owner */
static void
domain_mismatch(Entity e, int64 id, const char *column, int64 domain, Entity owner, int64 owner_id,
				int64 owner_domain)
{
	/*
	 * "... not to domain 1 of team 3", or just the domain: ids only, never
	 * a name or an e-mail the caller may not read (R20)
	 */
	char	   *of = owner == E_DOMAIN ? "" : psprintf(sm_(gettext_noop(" of %s")), entity_label(owner, owner_id));

	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("%s belongs to domain %lld, not to domain %lld%s",
					entity_label(e, id), (long long) domain, (long long) owner_domain, of),
			 errhint("Every rule stays inside one domain: link only objects of the same domain."),
			 errrow(column, NULL)));
}

/*
 * Checks that entity e (id, in the row's column) lives in the domain of
 * owner (owner_id), whose domain is owner_domain.  Nothing joins across
 * domains (SPEC section 6).
 */
static void
require_same_domain(Entity e, int64 id, const char *column, Entity owner, int64 owner_id,
					int64 owner_domain)
{
	int64		domain = entity_domain(e, id, column);

	if (domain != owner_domain)
		domain_mismatch(e, id, column, domain, owner, owner_id, owner_domain);
}

static void
forbid_domain_move(Row *o, Row *n, const char *what, const char *idcol)
{
	if (o->tuple && sm_col_changed(o, n, "domain_id"))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot move %s %lld from domain %lld to domain %lld",
						sm_(what), (long long) sm_col_int64(n, idcol, NULL),
						(long long) sm_col_int64(o, "domain_id", NULL), (long long) sm_col_int64(n, "domain_id", NULL)),
				 errhint("Create a new %s in the other domain instead.", sm_(what)),
				 errrow("domain_id", NULL)));
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
			 errhint("%s", sm_(hint)),
			 errrow(column, NULL)));
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
	Datum		v = sm_col(r, column, &isnull);

	if (isnull)
		return;
	sm_check_time(column, DatumGetTimestampTz(v), future_ok, RelationGetRelationName(target), column);
}

/*
 * An interval setting: positive (else nonpositive_code), and at most 100
 * years (22023) (SPEC section 5); the message names it and the value, the
 * error fields table.what unless table is NULL (an argument).
 */
void
sm_check_interval(const char *what, Datum v, int nonpositive_code, const char *table)
{
	Interval	zero = {0};
	Interval	century = {0, 0, 1200};

	if (!DatumGetBool(DirectFunctionCall2(interval_gt, v, IntervalPGetDatum(&zero))))
		ereport(ERROR,
				(errcode(nonpositive_code),
				 errmsg("%s must be a positive interval, not \"%s\"", what,
						DatumGetCString(DirectFunctionCall1(interval_out, v))),
				 errhint("Use an interval such as '30 days'."),
				 table ? sm_errcolumn(table, what) : 0));
	if (DatumGetBool(DirectFunctionCall2(interval_gt, v, IntervalPGetDatum(&century))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be at most 100 years, not \"%s\"", what,
						DatumGetCString(DirectFunctionCall1(interval_out, v))),
				 errhint("Use an interval such as '90 days'; leave it NULL to switch the step off."),
				 table ? sm_errcolumn(table, what) : 0));
}

/* Intervals of a policy: positive (23514), and at most 100 years. */
static void
check_interval(Row *r, const char *column)
{
	bool		isnull;
	Datum		v = sm_col(r, column, &isnull);

	if (!isnull)
		sm_check_interval(column, v, ERRCODE_CHECK_VIOLATION, RelationGetRelationName(target));
}

/* ---------------------------------------------------------------------
 * seatmgr.validate_row
 * ---------------------------------------------------------------------
 */

static SeatQuery q_email_taken = {
	"SELECT user_id FROM seatmgr.users WHERE pg_catalog.lower(email) = pg_catalog.lower($1) AND user_id <> $2 LIMIT 1",
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
validate_domains(Relation rel, Row *n, Row *o)
{
	char	   *name = sm_col_text(n, "name");
	char	   *lower = ascii_lower(name);

	/* no kind of access writes domains: a new customer is the owner's to add */
	if (!sm_unscoped(caller, SM_APP | SM_ADMIN))
		sm_deny_in(caller, "domain", sm_col_int64(n, "domain_id", NULL),
				   gettext_noop("Only an unscoped grant, or the extension's owner, adds and changes domains."),
				   RelationGetRelationName(rel), NULL);
	if (!valid_dns_name(lower))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("invalid domain name \"%s\"", name),
				 errhint("A domain name is a DNS name such as acme.com: labels of letters, digits and hyphens separated by dots."),
				 errrow("name", NULL)));
	{
		static SeatQuery q_domain_taken = {
			"SELECT 1 FROM seatmgr.domains WHERE name = $1 AND domain_id <> $2", 2, {TEXTOID, INT8OID}
		};
		Datum		v[2] = {CStringGetTextDatum(lower), Int64GetDatum(sm_col_int64(n, "domain_id", NULL))};

		sm_exec(&q_domain_taken, v, NULL, false, 1);
		if (SPI_processed > 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("domain \"%s\" already exists", lower),
					 errhint("Domain names are stored lower-case and are unique."),
					 errrow("name", "domains_name_key")));
	}
	if (strcmp(lower, name) == 0)
		return n->tuple;
	return replace_column(n, "name", CStringGetTextDatum(lower), false);
}

static HeapTuple
validate_users(Relation rel, Row *n, Row *o)
{
	char	   *email = sm_col_text(n, "email");
	Datum		v[2];

	int64		domain_id = sm_col_int64(n, "domain_id", NULL);

	forbid_domain_move(o, n, "user", "user_id");
	entity_domain(E_DOMAIN, domain_id, "domain_id");
	in_scope(SM_APP, E_DOMAIN, domain_id, "domain_id", domain_id, 0, false);
	check_time(n, "last_active_at", false);
	if (!valid_email(email))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("invalid e-mail address \"%s\"", email),
				 errhint("An e-mail address looks like name@example.com."),
				 errrow("email", NULL)));
	v[0] = CStringGetTextDatum(email);
	v[1] = Int64GetDatum(sm_col_int64(n, "user_id", NULL));
	sm_exec(&q_email_taken, v, NULL, false, 1);
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("e-mail address \"%s\" is already used by user %lld",
						email, (long long) sm_get_int64(0, 1, NULL)),
				 errhint("E-mail addresses are unique regardless of case."),
				 errrow("email", "users_email_key")));
	return n->tuple;
}

static HeapTuple
validate_divisions(Relation rel, Row *n, Row *o)
{
	bool		isnull;
	Datum		limit = sm_col(n, "seat_limit", &isnull);
	char	   *on_full = sm_col_text(n, "on_full");
	Datum		price;

	int64		domain_id = sm_col_int64(n, "domain_id", NULL);
	int64		division_id = sm_col_int64(n, "division_id", NULL);

	forbid_domain_move(o, n, "division", "division_id");
	entity_domain(E_DOMAIN, domain_id, "domain_id");
	/* a new division needs the whole domain; a change, the division */
	if (o->tuple == NULL)
		in_scope(SM_ADMIN, E_DOMAIN, domain_id, "domain_id", domain_id, 0, true);
	else
		in_scope(SM_ADMIN, E_DIVISION, division_id, "division_id", domain_id, division_id, false);
	if (!isnull && DatumGetInt32(limit) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("seat_limit must be at least 0, not %d", DatumGetInt32(limit)),
				 errhint("Use NULL for an unlimited division."),
				 errrow("seat_limit", "divisions_seat_limit_check")));
	price = sm_col(n, "seat_price", &isnull);
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
					 errhint("seat_price is the price of one seat for 30 days; use NULL when unknown."),
					 errrow("seat_price", "divisions_seat_price_check")));
	}
	if (on_full)
		check_choice(n, "on_full", on_full, on_full_choices, gettext_noop("Use 'waitlist' or 'error'."));
	return n->tuple;
}

static HeapTuple
validate_teams(Relation rel, Row *n, Row *o)
{
	bool		isnull;
	int64		team_id = sm_col_int64(n, "team_id", NULL);
	int64		domain_id = sm_col_int64(n, "domain_id", NULL);
	int64		division_id = sm_col_int64(n, "division_id", &isnull);

	forbid_domain_move(o, n, "team", "team_id");
	entity_domain(E_DOMAIN, domain_id, "domain_id");
	in_scope(SM_APP, E_DOMAIN, domain_id, "domain_id", domain_id, 0, false);
	if (!isnull)
	{
		int64		division_domain = entity_domain(E_DIVISION, division_id, "division_id");

		in_scope(SM_APP, E_DIVISION, division_id, "division_id", division_domain, division_id, false);
		if (division_domain != domain_id)
			domain_mismatch(E_DIVISION, division_id, "division_id", division_domain, E_TEAM, team_id, domain_id);
	}
	return n->tuple;
}

static HeapTuple
validate_groups(Relation rel, Row *n, Row *o)
{
	int64		domain_id = sm_col_int64(n, "domain_id", NULL);

	forbid_domain_move(o, n, "group", "group_id");
	entity_domain(E_DOMAIN, domain_id, "domain_id");
	in_scope(SM_APP, E_DOMAIN, domain_id, "domain_id", domain_id, 0, false);
	return n->tuple;
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

	if (o->tuple && !sm_col_changed(o, n, k1) && (k2 == NULL || !sm_col_changed(o, n, k2)))
		return;
	keys[0] = sm_col_int64(n, k1, NULL);
	if (k2)
		keys[1] = sm_col_int64(n, k2, NULL);
	if (sm_index_probe(RelationGetRelationName(rel), psprintf("%s_pkey", RelationGetRelationName(rel)),
					   nkeys, keys, NULL, NULL, true))
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg(fmt, (long long) keys[nkeys - 1], (long long) keys[0]),
				 errtableconstraint(rel, psprintf("%s_pkey", RelationGetRelationName(rel)))));
}

/*
 * A member row: user_id (or the entity in member_col) joins the container.
 * Both must lie in the caller's scope for kinds (a scoped caller naming a
 * user of another domain gets 42501, not the cross-domain error), then in
 * one domain.
 */
static void
validate_link(Row *n, int kinds, Entity container, const char *container_col, Entity member,
			  const char *member_col)
{
	int64		cid = sm_col_int64(n, container_col, NULL);
	int64		mid = sm_col_int64(n, member_col, NULL);
	int64		cdivision = 0;
	int64		cdomain = entity_domain_division(container, cid, container_col, &cdivision);
	int64		mdomain = entity_domain(member, mid, member_col);

	in_scope(kinds, container, cid, container_col, cdomain, cdivision, false);
	in_scope(kinds, member, mid, member_col, mdomain, member == E_DIVISION ? mid : 0, false);
	if (cdomain != mdomain)
		domain_mismatch(member, mid, member_col, mdomain, container, cid, cdomain);
}

static HeapTuple
validate_shares(Relation rel, Row *n, Row *o)
{
	bool		isnull;
	int64		sharer = sm_col_int64(n, "sharer_id", NULL);
	int64		recipient = sm_col_int64(n, "recipient_id", NULL);
	int64		division = sm_col_int64(n, "division_id", &isnull);
	char	   *object_type = sm_col_text(n, "object_type");
	int64		sharer_domain = entity_domain(E_USER, sharer, "sharer_id");
	int64		recipient_domain = entity_domain(E_USER, recipient, "recipient_id");

	in_scope(SM_APP, E_USER, sharer, "sharer_id", sharer_domain, 0, false);
	in_scope(SM_APP, E_USER, recipient, "recipient_id", recipient_domain, 0, false);
	if (!isnull)
	{
		int64		division_domain = entity_domain(E_DIVISION, division, "division_id");

		in_scope(SM_APP, E_DIVISION, division, "division_id", division_domain, division, false);

		/* every cross-domain link is refused, the share's division included */
		if (division_domain != sharer_domain)
			domain_mismatch(E_DIVISION, division, "division_id", division_domain, E_USER, sharer, sharer_domain);
	}
	if (sharer == recipient)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("user %lld cannot share an object with themself", (long long) sharer),
				 errhint("sharer_id and recipient_id must be different users."),
				 errrow(NULL, "shares_check")));
	check_choice(n, "object_type", object_type, object_types,
				 gettext_noop("Use project, project_template, portfolio, goal or dashboard."));
	check_time(n, "shared_at", false);
	/* a recipient of another domain is allowed: the share gives nothing (R2) */
	return n->tuple;
}

static HeapTuple
validate_exclusions(Relation rel, Row *n, Row *o)
{
	bool		nouser,
				nogroup;
	int64		domain_id = sm_col_int64(n, "domain_id", NULL);
	int64		user_id = sm_col_int64(n, "user_id", &nouser);
	int64		group_id = sm_col_int64(n, "group_id", &nogroup);

	entity_domain(E_DOMAIN, domain_id, "domain_id");
	/* only an unscoped or domain-scoped admin (R20) */
	in_scope(SM_ADMIN, E_DOMAIN, domain_id, "domain_id", domain_id, 0, true);
	if (nouser == nogroup)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("an exclusion names exactly one of user_id and group_id, not %s",
						nouser ? sm_(gettext_noop("neither")) : sm_(gettext_noop("both"))),
				 errhint("Add one exclusion per user and one per group."),
				 errrow(NULL, "exclusions_check")));
	if (!nouser && entity_domain(E_USER, user_id, "user_id") != domain_id)
		require_same_domain(E_USER, user_id, "user_id", E_DOMAIN, domain_id, domain_id);
	if (!nogroup && entity_domain(E_GROUP, group_id, "group_id") != domain_id)
		require_same_domain(E_GROUP, group_id, "group_id", E_DOMAIN, domain_id, domain_id);
	return n->tuple;
}

/*
 * R11: enabling sets next_run_at to now() + run_every unless it is given,
 * disabling clears it, an enabled policy keeps whatever an admin sets.
 */
static HeapTuple
validate_policies(Relation rel, Row *n, Row *o)
{
	bool		enabled = sm_col_bool(n, "enabled");
	bool		was_enabled = o->tuple != NULL && sm_col_bool(o, "enabled");
	bool		next_null;
	char	   *scope = sm_col_text(n, "grant_scope");
	int64		division_id;

	(void) sm_col(n, "next_run_at", &next_null);

	/* the scope first: a duplicate out of scope is not the caller's to learn of */
	division_id = sm_col_int64(n, "division_id", NULL);
	in_scope(SM_ADMIN, E_DIVISION, division_id, "division_id",
			 entity_domain(E_DIVISION, division_id, "division_id"), division_id, false);
	check_duplicate(n, o, rel, "division_id", NULL, gettext_noop("division %lld already has a policy"));
	check_time(n, "next_run_at", true);
	check_interval(n, "run_every");
	check_interval(n, "grant_active_within");
	check_interval(n, "revoke_inactive_after");
	/* 0.1.0's table has none until ALTER EXTENSION UPDATE */
	if (SPI_fnumber(n->desc, "notice_period") > 0)
		check_interval(n, "notice_period");
	check_choice(n, "grant_scope", scope, grant_scopes, gettext_noop("Use 'domain' or 'division'."));

	if (!enabled)
		return next_null ? n->tuple : replace_column(n, "next_run_at", (Datum) 0, true);
	if (!was_enabled && next_null)
	{
		bool		isnull;
		Datum		every = sm_col(n, "run_every", &isnull);
		Datum		at;

		if (isnull)
			return n->tuple;	/* NOT NULL reports it */
		at = DirectFunctionCall2(timestamptz_pl_interval,
								 TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), every);
		return replace_column(n, "next_run_at", at, false);
	}
	return n->tuple;
}


/* A membership: the user joins a team or a group of the same domain, once. */
static HeapTuple
validate_membership(Relation rel, Row *n, Row *o, Entity container, const char *container_col,
					const char *duplicate_fmt)
{
	validate_link(n, SM_APP, container, container_col, E_USER, "user_id");
	check_time(n, "added_at", false);
	check_duplicate(n, o, rel, container_col, "user_id", duplicate_fmt);
	return n->tuple;
}

static HeapTuple
validate_team_members(Relation rel, Row *n, Row *o)
{
	return validate_membership(rel, n, o, E_TEAM, "team_id",
							   gettext_noop("user %lld is already a member of team %lld"));
}

static HeapTuple
validate_group_members(Relation rel, Row *n, Row *o)
{
	return validate_membership(rel, n, o, E_GROUP, "group_id",
							   gettext_noop("user %lld is already a member of group %lld"));
}

static HeapTuple
validate_group_grants(Relation rel, Row *n, Row *o)
{
	validate_link(n, SM_ADMIN, E_GROUP, "group_id", E_DIVISION, "division_id");
	check_duplicate(n, o, rel, "group_id", "division_id",
					gettext_noop("division %lld is already granted by group %lld"));
	return n->tuple;
}

/* ---------------------------------------------------------------------
 * The trigger functions, one per table
 * ---------------------------------------------------------------------
 */

/*
 * SPEC section 7: a webhook's URL is http or https, its secret whsec_ and
 * the base64 of 24 to 64 bytes, its event types known.  No message echoes
 * the secret.  Webhooks of one domain are managed by that domain's admins
 * (unscoped or domain-scoped), webhooks of every domain by unscoped admins
 * only (R20).
 */
static const char *const webhook_event_types[] = {
	"license.granted", "license.deactivated", "license.reactivated", "license.removed",
	"license.waitlisted", "license.warned", "run.finished", NULL
};

static HeapTuple
validate_webhooks(Relation rel, Row *n, Row *o)
{
	bool		every_domain;
	bool		no_types;
	int64		domain_id = sm_col_int64(n, "domain_id", &every_domain);
	int64		webhook_id = sm_col_int64(n, "webhook_id", NULL);
	char	   *url = sm_col_text(n, "url");
	char	   *secret = sm_col_text(n, "secret");
	Datum		types = sm_col(n, "event_types", &no_types);
	uint8		key[100];

	if (every_domain)
	{
		if (!sm_unscoped(caller, SM_ADMIN))
			sm_deny_in(caller, gettext_noop("webhook"), webhook_id,
					   gettext_noop("Webhooks of every domain (domain_id NULL) are managed by unscoped admins only; give the domain_id."),
					   RelationGetRelationName(rel), "domain_id");
	}
	else
	{
		entity_domain(E_DOMAIN, domain_id, "domain_id");
		in_scope(SM_ADMIN, E_DOMAIN, domain_id, "domain_id", domain_id, 0, true);
	}
	if (strlen(url) > 2048 || strspn(url, "\t\n\v\f\r ") > 0 || strpbrk(url, " \t\r\n") != NULL ||
		!(pg_strncasecmp(url, "http://", 7) == 0 || pg_strncasecmp(url, "https://", 8) == 0) ||
		url[pg_strncasecmp(url, "http://", 7) == 0 ? 7 : 8] == '\0' ||
		url[pg_strncasecmp(url, "http://", 7) == 0 ? 7 : 8] == '/')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("webhook url \"%s\" is not an http or https URL", strlen(url) > 200 ? psprintf("%.200s...", url) : url),
				 errhint("Give an absolute URL such as https://hooks.example.com/seatmgr."),
				 errrow("url", NULL)));
	if (sm_webhook_key(secret, key, sizeof(key)) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("webhook secret is not \"whsec_\" followed by the base64 of 24 to 64 bytes"),
				 errhint("Leave secret out to have one generated."),
				 errrow("secret", NULL)));
	if (!no_types)
	{
		ArrayType  *arr = DatumGetArrayTypeP(types);
		Datum	   *elems;
		bool	   *nulls;
		int			count;

		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &count);
		if (count == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("webhook event_types is empty"),
					 errhint("Leave event_types NULL for every event type."),
					 errrow("event_types", NULL)));
		for (int i = 0; i < count; i++)
		{
			const char *t;
			bool		known = false;

			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NOT_NULL_VIOLATION),
						 errmsg("webhook event_types must not contain NULL"),
						 errrow("event_types", NULL)));
			t = TextDatumGetCString(elems[i]);
			for (int j = 0; webhook_event_types[j]; j++)
				if (strcmp(t, webhook_event_types[j]) == 0)
					known = true;
			if (!known)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unknown webhook event type \"%s\"", strlen(t) > 100 ? psprintf("%.100s...", t) : t),
						 errhint("Use license.granted, license.deactivated, license.reactivated, license.removed, license.waitlisted, license.warned or run.finished."),
						 errrow("event_types", NULL)));
		}
	}
	return n->tuple;
}

typedef HeapTuple (*Validator) (Relation rel, Row *n, Row *o);

static Datum
run_validator(FunctionCallInfo fcinfo, Validator validate)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;
	Row			n,
				o;
	HeapTuple	result;
	SmCaller	c;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trig->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trig->tg_event) || TRIGGER_FIRED_BY_DELETE(trig->tg_event))
		elog(ERROR, "seatmgr: a validation trigger must be BEFORE INSERT OR UPDATE FOR EACH ROW");
	sm_trigger_rows(trig, &n, &o);
	if (sm_restoring())
		return PointerGetDatum(n.tuple);
	check_not_null(trig->tg_relation, &n);

	/* the checks judge the role writing; the lookups run as the owner */
	sm_enter(fcinfo, &c);
	caller = &c;
	target = trig->tg_relation;
	SPI_connect();
	result = validate(trig->tg_relation, &n, &o);
	/* a modified tuple lives in the SPI context: copy it out first */
	if (result != n.tuple)
		result = SPI_copytuple(result);
	SPI_finish();
	caller = NULL;
	target = NULL;
	sm_leave(&c);
	return PointerGetDatum(result);
}

#define VALIDATION_TRIGGER(table) \
	PG_FUNCTION_INFO_V1(seatmgr_validate_##table); \
	Datum \
	seatmgr_validate_##table(PG_FUNCTION_ARGS) \
	{ \
		return run_validator(fcinfo, validate_##table); \
	}

VALIDATION_TRIGGER(domains)
VALIDATION_TRIGGER(divisions)
VALIDATION_TRIGGER(teams)
VALIDATION_TRIGGER(users)
VALIDATION_TRIGGER(team_members)
VALIDATION_TRIGGER(shares)
VALIDATION_TRIGGER(groups)
VALIDATION_TRIGGER(group_members)
VALIDATION_TRIGGER(group_grants)
VALIDATION_TRIGGER(exclusions)
VALIDATION_TRIGGER(policies)
VALIDATION_TRIGGER(webhooks)

/* 0.1.0's seatmgr.validate_row, until ALTER EXTENSION UPDATE replaces it */
Datum
sm_validate_by_name(FunctionCallInfo fcinfo, const char *table)
{
	static const struct
	{
		const char *table;
		Validator	validate;
	}			validators[] = {
		{"domains", validate_domains}, {"divisions", validate_divisions}, {"teams", validate_teams},
		{"users", validate_users}, {"team_members", validate_team_members}, {"shares", validate_shares},
		{"groups", validate_groups}, {"group_members", validate_group_members},
		{"group_grants", validate_group_grants}, {"exclusions", validate_exclusions},
		{"policies", validate_policies}
	};

	for (size_t i = 0; i < lengthof(validators); i++)
		if (strcmp(validators[i].table, table) == 0)
			return run_validator(fcinfo, validators[i].validate);
	elog(ERROR, "seatmgr: no validation for table \"%s\"", table);
}
