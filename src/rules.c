/*
 * rules.c: the licence rules, as the AFTER triggers of the tables an
 * application writes, one C function per table (seatmgr.rules_<table>):
 * team invites (R1), shares (R2), groups and their grants (R3), losing
 * sources (R5), seat limits (R6) and new sources (R9), all through the
 * licence core in license.c.  A statement's new team memberships are
 * settled together (seatmgr.members_added); a deleted user or division
 * takes its licences with it, each with a 'removed' event.  During a
 * restore (sm_restoring) they stand aside: the dump carries the licences.
 */
#include "seatmgr.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(seatmgr_members_added);
PG_FUNCTION_INFO_V1(seatmgr_group_members_added);
PG_FUNCTION_INFO_V1(seatmgr_division_deleted);


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
	int64		division_id = sm_col_int64(n, "division_id", &no_division);

	share_added_values(sm_col_int64(n, "share_id", NULL), sm_col_int64(n, "sharer_id", NULL),
					   sm_col_int64(n, "recipient_id", NULL), division_id, no_division,
					   DatumGetTimestampTz(sm_col(n, "shared_at", &isnull)));
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
	int64		division_id = sm_col_int64(n, "division_id", NULL);

	if (inserted || sm_col_changed(o, n, "seat_limit"))
		sm_seat_limit_changed(division_id);
	if (!inserted && sm_col_bool(n, "paid") && !sm_col_bool(o, "paid"))
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
	int64		team_id = sm_col_int64(n, "team_id", NULL);
	bool		isnull;
	int64		division_id = sm_col_int64(n, "division_id", &isnull);
	Datum		v[1] = {Int64GetDatum(team_id)};
	Members		m;

	if (!sm_col_changed(o, n, "division_id"))
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
	Datum		d = sm_col(r, name, &isnull);

	return isnull ? GetCurrentTransactionStartTimestamp() : DatumGetTimestampTz(d);
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

/*
 * R1 and R3 for the rows one INSERT statement adds to team_members or
 * group_members (transition tables seatmgr_new_members and
 * seatmgr_new_group_members): settled set-based by the writer.
 */
static Datum
sources_added(FunctionCallInfo fcinfo, bool groups)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trig->tg_event) ||
		TRIGGER_FIRED_FOR_ROW(trig->tg_event) || trig->tg_newtable == NULL)
		elog(ERROR, "seatmgr: a batch trigger must be AFTER STATEMENT with a NEW TABLE");
	if (sm_restoring())
		return PointerGetDatum(NULL);
	SPI_connect();
	sm_grant_new_sources(trig, groups);
	SPI_finish();
	return PointerGetDatum(NULL);
}

Datum
seatmgr_members_added(PG_FUNCTION_ARGS)
{
	return sources_added(fcinfo, false);
}

Datum
seatmgr_group_members_added(PG_FUNCTION_ARGS)
{
	return sources_added(fcinfo, true);
}

/*
 * A division is deleted (or its domain): its licences go with it, each with
 * a 'removed' event (SPEC section 5), before the foreign keys' cascade
 * deletes them silently.
 */
Datum
seatmgr_division_deleted(PG_FUNCTION_ARGS)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;
	Row			r;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trig->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trig->tg_event) || !TRIGGER_FIRED_BY_DELETE(trig->tg_event))
		elog(ERROR, "seatmgr.division_deleted must be a BEFORE DELETE ROW trigger");
	if (sm_restoring())
		return PointerGetDatum(trig->tg_trigtuple);
	r.tuple = trig->tg_trigtuple;
	r.desc = RelationGetDescr(trig->tg_relation);
	SPI_connect();
	sm_remove_division_licenses(sm_col_int64(&r, "division_id", NULL));
	SPI_finish();
	return PointerGetDatum(trig->tg_trigtuple);
}

/* ---------------------------------------------------------------------
 * The trigger functions, one per table
 * ---------------------------------------------------------------------
 */

/*
 * Each rule sees the new row n (no tuple on DELETE) and the old row o (no
 * tuple on INSERT).  An UPDATE of a link row that changes what it links
 * undoes the old row's effect, then applies the new row's.
 */
typedef void (*Rule) (Row *n, Row *o);

static bool
changed(Row *n, Row *o, const char *a, const char *b, const char *c)
{
	return sm_col_changed(o, n, a) || sm_col_changed(o, n, b) || (c && sm_col_changed(o, n, c));
}

static void
rules_team_members(Row *n, Row *o)
{
	if (n->tuple && o->tuple && !changed(n, o, "team_id", "user_id", NULL))
		return;
	if (o->tuple)
		sm_drop_source_by_ref(sm_col_int64(o, "user_id", NULL), SRC_TEAM, sm_col_int64(o, "team_id", NULL));
	if (n->tuple)
		team_member_added(sm_col_int64(n, "team_id", NULL), sm_col_int64(n, "user_id", NULL),
						  col_ts(n, "added_at"));
}

static void
rules_shares(Row *n, Row *o)
{
	if (n->tuple && o->tuple && !changed(n, o, "sharer_id", "recipient_id", "division_id"))
		return;
	if (o->tuple)
		sm_drop_source_by_ref(sm_col_int64(o, "recipient_id", NULL), SRC_SHARE,
							  sm_col_int64(o, "share_id", NULL));
	if (n->tuple)
		share_added(n);
}

static void
rules_group_members(Row *n, Row *o)
{
	if (n->tuple && o->tuple && !changed(n, o, "group_id", "user_id", NULL))
		return;
	if (o->tuple)
		sm_drop_source_by_ref(sm_col_int64(o, "user_id", NULL), SRC_GROUP, sm_col_int64(o, "group_id", NULL));
	if (n->tuple)
		group_member_added(sm_col_int64(n, "group_id", NULL), sm_col_int64(n, "user_id", NULL),
						   col_ts(n, "added_at"));
}

static void
rules_group_grants(Row *n, Row *o)
{
	if (n->tuple && o->tuple && !changed(n, o, "group_id", "division_id", NULL))
		return;
	if (o->tuple)
		group_grant_removed(sm_col_int64(o, "group_id", NULL), sm_col_int64(o, "division_id", NULL));
	if (n->tuple)
		group_grant_added(sm_col_int64(n, "group_id", NULL), sm_col_int64(n, "division_id", NULL));
}

/* divisions: a new or changed seat_limit, a division becoming paid (R6, R1, R3) */
static void
rules_divisions(Row *n, Row *o)
{
	if (n->tuple)
		division_changed(n, o, o->tuple == NULL);
}

/* teams: a team moved to another division (R1, R5) */
static void
rules_teams(Row *n, Row *o)
{
	if (n->tuple && o->tuple)
		team_moved(n, o);
}

/* users, BEFORE DELETE: their licences go first, with events (R5, R6) */
static void
rules_users(Row *n, Row *o)
{
	if (o->tuple && !n->tuple)
		user_deleted(sm_col_int64(o, "user_id", NULL));
}

static Datum
run_rule(FunctionCallInfo fcinfo, Rule rule)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;
	Row			n,
				o;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(trig->tg_event))
		elog(ERROR, "seatmgr: a rules trigger must be FOR EACH ROW");
	sm_trigger_rows(trig, &n, &o);
	if (!sm_restoring())
	{
		SPI_connect();
		rule(&n, &o);
		SPI_finish();
	}
	/* BEFORE DELETE (users) lets the delete go on; AFTER ignores the result */
	return PointerGetDatum(TRIGGER_FIRED_BEFORE(trig->tg_event) ? trig->tg_trigtuple : NULL);
}

#define RULES_TRIGGER(table) \
	PG_FUNCTION_INFO_V1(seatmgr_rules_##table); \
	Datum \
	seatmgr_rules_##table(PG_FUNCTION_ARGS) \
	{ \
		return run_rule(fcinfo, rules_##table); \
	}

RULES_TRIGGER(divisions)
RULES_TRIGGER(teams)
RULES_TRIGGER(users)
RULES_TRIGGER(team_members)
RULES_TRIGGER(shares)
RULES_TRIGGER(group_members)
RULES_TRIGGER(group_grants)

/* 0.1.0's seatmgr.model_change, until ALTER EXTENSION UPDATE replaces it */
Datum
sm_rules_by_name(FunctionCallInfo fcinfo, const char *table)
{
	static const struct
	{
		const char *table;
		Rule		rule;
	}			rules[] = {
		{"divisions", rules_divisions}, {"teams", rules_teams}, {"users", rules_users},
		{"team_members", rules_team_members}, {"shares", rules_shares},
		{"group_members", rules_group_members}, {"group_grants", rules_group_grants}
	};

	for (size_t i = 0; i < lengthof(rules); i++)
		if (strcmp(rules[i].table, table) == 0)
			return run_rule(fcinfo, rules[i].rule);
	elog(ERROR, "seatmgr: no rules for table \"%s\"", table);
}
