/*
 * functions.c: the SQL-callable functions of SPEC section 4 that are not
 * the sweep: seatmgr_grant_license, seatmgr_remove_license (R4),
 * seatmgr_touch (activity), seatmgr_explain and seatmgr_answer_notice
 * (R15).
 */
#include "seatmgr.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

SM_SCOPED_FUNCTION(grant_license)
SM_SCOPED_FUNCTION(remove_license)
SM_SCOPED_FUNCTION(touch)
SM_SCOPED_FUNCTION(touch_many)
SM_SCOPED_FUNCTION(explain)
SM_SCOPED_FUNCTION(answer_notice)

static SeatQuery q_user = {
	"SELECT domain_id FROM seatmgr.users WHERE user_id = $1", 1, {INT8OID}
};

/* The user's domain; an unknown user is an error that names the id. */
static int64
user_domain(int64 user_id)
{
	Datum		v[1] = {Int64GetDatum(user_id)};

	sm_exec(&q_user, v, NULL, false, 1);
	if (SPI_processed == 0)
		sm_error_missing("user", user_id);
	return sm_get_int64(0, 1, NULL);
}

/*
 * Loads the division and checks that both lie in the caller's admin scope
 * (R20: 42501 naming the id), then that the user belongs to its domain.
 */
static void
user_and_division(SmCaller *c, int64 user_id, int64 division_id, Division *d)
{
	int64		domain = user_domain(user_id);

	if (!sm_load_division(division_id, d))
		sm_error_missing("division", division_id);
	sm_require(c, SM_ADMIN, "division", division_id, d->domain_id, division_id, false);
	sm_require(c, SM_ADMIN, "user", user_id, domain, 0, false);
	if (d->domain_id != domain)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("user %lld belongs to domain %lld, not to domain %lld of division %lld",
						(long long) user_id, (long long) domain, (long long) d->domain_id, (long long) division_id),
				 errhint("Every rule stays inside one domain: link only objects of the same domain."),
				 sm_errcolumn("licenses", "user_id")));
}

/* R4: seatmgr_grant_license(user_id, division_id) adds the source admin. */
static Datum
grant_license(FunctionCallInfo fcinfo, SmCaller *c)
{
	int64		user_id;
	int64		division_id;
	Division	d;
	const char *status;
	text	   *result;

	sm_require_arg(fcinfo, 0, "user_id");
	sm_require_arg(fcinfo, 1, "division_id");
	user_id = PG_GETARG_INT64(0);
	division_id = PG_GETARG_INT64(1);
	SPI_connect();
	user_and_division(c, user_id, division_id, &d);
	if (!d.paid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("division %lld (\"%s\") is not paid", (long long) division_id, d.name),
				 errdetail("Unpaid divisions hold no licenses."),
				 errhint("Set paid = true on the division first."),
				 sm_errcolumn("divisions", "paid")));
	status = sm_add_source(user_id, division_id, SRC_ADMIN, 0, false,
						   GetCurrentTransactionStartTimestamp());
	result = (text *) SPI_palloc(VARHDRSZ + strlen(status));
	SET_VARSIZE(result, VARHDRSZ + strlen(status));
	memcpy(VARDATA(result), status, strlen(status));
	SPI_finish();
	PG_RETURN_TEXT_P(result);
}

static SeatQuery q_group_source = {
	"SELECT s.ref_id, g.name FROM seatmgr.license_sources s"
	"  JOIN seatmgr.groups g ON g.group_id = s.ref_id"
	" WHERE s.user_id = $1 AND s.division_id = $2 AND s.kind = 'group'"
	" ORDER BY s.ref_id LIMIT 1",
	2, {INT8OID, INT8OID}
};

static SeatQuery q_has_license = {
	"SELECT 1 FROM seatmgr.licenses WHERE user_id = $1 AND division_id = $2",
	2, {INT8OID, INT8OID}
};

/*
 * The user's memberships of the division's teams are locked first, as a
 * team leave locks its own row before its trigger reaches the seat counter
 * and the licence (docs/locking.md): a removal and a leave of the same
 * user wait for each other instead of deadlocking.
 */
static SeatQuery q_lock_memberships = {
	"SELECT 1 FROM seatmgr.team_members tm JOIN seatmgr.teams t ON t.team_id = tm.team_id"
	" WHERE t.division_id = $2 AND tm.user_id = $1 ORDER BY tm.team_id FOR UPDATE OF tm",
	2, {INT8OID, INT8OID}
};

/* Leaving the division means leaving its teams (Asana, method 1). */
static SeatQuery q_leave_teams = {
	"DELETE FROM seatmgr.team_members tm USING seatmgr.teams t"
	" WHERE tm.team_id = t.team_id AND t.division_id = $2 AND tm.user_id = $1",
	2, {INT8OID, INT8OID}
};

/*
 * R4: seatmgr_remove_license(user_id, division_id) removes every source and
 * the licence; a licence held through a group is the identity provider's
 * to remove.
 */
static Datum
remove_license(FunctionCallInfo fcinfo, SmCaller *c)
{
	int64		user_id;
	int64		division_id;
	Datum		v[2];
	Division	d;

	sm_require_arg(fcinfo, 0, "user_id");
	sm_require_arg(fcinfo, 1, "division_id");
	user_id = PG_GETARG_INT64(0);
	division_id = PG_GETARG_INT64(1);
	v[0] = Int64GetDatum(user_id);
	v[1] = Int64GetDatum(division_id);
	SPI_connect();
	/*
	 * The scope first (no lock: a division's domain never changes), then the
	 * memberships, before the division row is read FOR SHARE: the lock order
	 * of docs/locking.md.
	 */
	sm_require(c, SM_ADMIN, "division", division_id, 0, division_id, false);
	sm_require(c, SM_ADMIN, "user", user_id, user_domain(user_id), 0, false);
	sm_exec(&q_lock_memberships, v, NULL, false, 0);
	user_and_division(c, user_id, division_id, &d);
	sm_exec(&q_has_license, v, NULL, false, 1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("user %lld holds no license in division %lld (\"%s\")",
						(long long) user_id, (long long) division_id, d.name),
				 sm_errtable("licenses")));
	sm_exec(&q_group_source, v, NULL, false, 1);
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("license of user %lld in division %lld is held through group %lld (\"%s\")",
						(long long) user_id, (long long) division_id,
						(long long) sm_get_int64(0, 1, NULL), sm_get_text(0, 2)),
				 errhint("Remove the user from the group, or the group's grant of the division, in seatmgr.group_members or seatmgr.group_grants."),
				 sm_errcolumn("license_sources", "kind")));
	/* the licence first, so its event names the admin, then the teams */
	sm_remove_license(user_id, division_id, SRC_ADMIN);
	sm_exec(&q_leave_teams, v, NULL, false, 0);
	SPI_finish();
	PG_RETURN_VOID();
}

/* R21: activity is never recorded in the future, nor at an infinite time. */
static TimestampTz
touch_time(FunctionCallInfo fcinfo)
{
	TimestampTz at;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("activity time must not be NULL"),
				 errhint("Omit it to record activity now().")));
	at = PG_GETARG_TIMESTAMPTZ(1);
	sm_check_time(gettext_noop("activity time"), at, false, "users", "last_active_at");
	return at;
}

static SeatQuery q_touch = {
	"UPDATE seatmgr.users SET last_active_at = $2"
	" WHERE user_id = $1 AND (last_active_at IS NULL OR last_active_at < $2)",
	2, {INT8OID, TIMESTAMPTZOID}
};

/*
 * Records the user's activity at at: never backwards; an unknown user is
 * an error.  seatmgr_touch and a notice answered 'keep' (R15).
 */
void
sm_touch_user(int64 user_id, TimestampTz at)
{
	Datum		v[2] = {Int64GetDatum(user_id), TimestampTzGetDatum(at)};

	sm_exec(&q_touch, v, NULL, false, 0);
	if (SPI_processed == 0)
		user_domain(user_id);	/* unknown ids are errors */
}

/* seatmgr_touch(user_id, at): activity never moves backwards. */
static Datum
touch(FunctionCallInfo fcinfo, SmCaller *c)
{
	TimestampTz at;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("user_id must not be NULL")));
	at = touch_time(fcinfo);
	SPI_connect();
	if (!sm_unscoped(c, SM_APP))
		sm_require(c, SM_APP, "user", PG_GETARG_INT64(0), user_domain(PG_GETARG_INT64(0)), 0, false);
	sm_touch_user(PG_GETARG_INT64(0), at);
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * seatmgr_touch(user_ids[], at): one statement for the whole batch; an
 * unknown or NULL id fails the call before anything changes.
 */
static SeatQuery q_touch_missing = {
	"SELECT u.id FROM pg_catalog.unnest($1::bigint[]) AS u(id)"
	" WHERE u.id IS NULL OR NOT EXISTS (SELECT 1 FROM seatmgr.users x WHERE x.user_id = u.id)"
	" LIMIT 1",
	1, {INT8ARRAYOID}
};

/* users locked in user_id order: two overlapping batches never deadlock */
static SeatQuery q_touch_many = {
	"WITH t AS ("
	"  SELECT u.user_id FROM seatmgr.users u"
	"   WHERE u.user_id = ANY ($1::bigint[]) AND (u.last_active_at IS NULL OR u.last_active_at < $2)"
	"   ORDER BY u.user_id FOR NO KEY UPDATE)"
	"UPDATE seatmgr.users u SET last_active_at = $2 FROM t"
	" WHERE u.user_id = t.user_id AND (u.last_active_at IS NULL OR u.last_active_at < $2)",
	2, {INT8ARRAYOID, TIMESTAMPTZOID}
};

/* the domains of a batch, for a scoped caller */
static SeatQuery q_touch_domains = {
	"SELECT u.user_id, u.domain_id FROM seatmgr.users u WHERE u.user_id = ANY ($1::bigint[]) ORDER BY u.user_id",
	1, {INT8ARRAYOID}
};

static Datum
touch_many(FunctionCallInfo fcinfo, SmCaller *c)
{
	Datum		v[2];

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("user_ids must not be NULL")));
	v[0] = PG_GETARG_DATUM(0);
	v[1] = TimestampTzGetDatum(touch_time(fcinfo));
	SPI_connect();
	sm_exec(&q_touch_missing, v, NULL, false, 1);
	if (SPI_processed > 0)
	{
		bool		isnull;
		int64		id = sm_get_int64(0, 1, &isnull);

		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("user_ids must not contain NULL")));
		sm_error_missing("user", id);
	}
	if (!sm_unscoped(c, SM_APP))
	{
		sm_exec(&q_touch_domains, v, NULL, true, 0);
		for (uint64 i = 0; i < SPI_processed; i++)
			sm_require(c, SM_APP, "user", sm_get_int64(i, 1, NULL), sm_get_int64(i, 2, NULL), 0, false);
	}
	sm_exec(&q_touch_many, v, NULL, false, 0);
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * seatmgr_explain(user_id): each licence of the user, its sources as
 * kind:ref, and what the next run of its division would do to it.
 */
static SeatQuery q_explain = {
	"SELECT l.division_id, l.status,"
	"       pg_catalog.array_agg(s.kind || coalesce(':' || s.ref_id, '') ORDER BY s.added_at, s.kind, s.ref_id)"
	"         FILTER (WHERE s.kind IS NOT NULL),"
	"       p.division_id IS NOT NULL, p.enabled,"
	"       pg_catalog.to_char(l.deactivated_at, 'YYYY-MM-DD'), l.deactivated_by_run,"
	"       p.revoke_inactive_after::text, p.grant_active_within::text,"
	"       pg_catalog.to_char(greatest(u.last_active_at, l.granted_at), 'YYYY-MM-DD'),"
	"       p.notice_period::text, o.notice_id, pg_catalog.to_char(o.deadline, 'YYYY-MM-DD HH24:MI')"
	"  FROM seatmgr.licenses l"
	"  JOIN seatmgr.users u ON u.user_id = l.user_id"
	"  LEFT JOIN seatmgr.policies p ON p.division_id = l.division_id"
	"  LEFT JOIN seatmgr.license_sources s ON s.user_id = l.user_id AND s.division_id = l.division_id"
	"  LEFT JOIN seatmgr.notices o ON o.domain_id = u.domain_id AND o.division_id = l.division_id"
	"        AND o.user_id = l.user_id AND o.closed_at IS NULL"
	" WHERE l.user_id = $1"
	" GROUP BY l.user_id, l.division_id, l.status, l.deactivated_at, l.deactivated_by_run,"
	"          l.granted_at, u.last_active_at, p.division_id, p.enabled,"
	"          p.revoke_inactive_after, p.grant_active_within, p.notice_period, o.notice_id, o.deadline"
	" ORDER BY l.division_id",
	1, {INT8OID}
};

typedef struct ExplainRow
{
	bool		hidden;			/* out of the caller's scope */
	Datum		division_id;
	Datum		status;
	Datum		sources;
	bool		sources_null;
	char	   *status_str;
	bool		has_policy;
	bool		enabled;
	char	   *deactivated_on;
	int64		deactivated_by_run;
	bool		by_run_null;
	char	   *revoke_after;
	char	   *grant_within;
	char	   *last_activity;
	char	   *notice_period;
	int64		notice_id;		/* the open notice (R14), 0 for none */
	char	   *deadline;
} ExplainRow;

static char *
verdict(ExplainRow *r, int64 user_id)
{
	char	   *action;
	char	   *reason;
	char	   *closes;
	const char *when = r->enabled ? "the next run" : "a manual run (the policy is disabled)";

	if (!r->has_policy)
	{
		if (strcmp(r->status_str, "active") == 0)
			return pstrdup("keeps its seat: the division has no policy, no run touches it");
		if (strcmp(r->status_str, "waitlisted") == 0)
			return pstrdup("waits for a seat: it gets the next one freed (the division has no policy)");
		return pstrdup("stays deactivated until a new source reactivates it (the division has no policy)");
	}
	if (sm_planned_change(DatumGetInt64(r->division_id), user_id, &action, &reason, &closes))
	{
		/* R14: a notice the run closes without another change */
		if (strcmp(action, "notice") == 0)
			return psprintf("%s closes notice " INT64_FORMAT " (%s)%s", when, r->notice_id, closes,
							strcmp(r->status_str, "active") == 0 ? "; the licence keeps its seat" : "");
		if (strcmp(action, "deactivated") == 0 && r->notice_id != 0 && closes && strcmp(closes, "deactivated") == 0)
			return psprintf("%s deactivates it: notice " INT64_FORMAT " ran until %s, last active %s, more than %s ago",
							when, r->notice_id, r->deadline, r->last_activity, r->revoke_after);
		if (strcmp(action, "deactivated") == 0)
			return psprintf("%s deactivates it: last active %s, more than %s ago",
							when, r->last_activity, r->revoke_after);
		if (strcmp(action, "warned") == 0)
			return psprintf("%s warns the user (a notice of %s) before it takes the seat: last active %s, more than %s ago",
							when, r->notice_period, r->last_activity, r->revoke_after);
		if (strcmp(action, "added") == 0 && strcmp(reason, "waitlist") == 0)
			return psprintf("%s gives it a seat from the waitlist", when);
		if (strcmp(action, "added") == 0)
			return psprintf("%s reactivates it: active within %s", when, r->grant_within);
		if (strcmp(reason, "no seat") == 0)
			return psprintf("%s has no seat for it", when);
		return psprintf("%s keeps it although inactive since %s: %s", when, r->last_activity, reason);
	}
	if (strcmp(r->status_str, "active") == 0 && r->notice_id != 0)
		return psprintf("notice " INT64_FORMAT " open until %s: runs keep the seat until then; the first run after it deactivates the licence unless the user is active again or answers keep",
						r->notice_id, r->deadline);
	if (strcmp(r->status_str, "active") == 0)
		return r->revoke_after
			? psprintf("%s keeps it: last active %s, within %s", when, r->last_activity, r->revoke_after)
			: psprintf("%s keeps it: the policy revokes no seats", when);
	if (strcmp(r->status_str, "waitlisted") == 0)
		return psprintf("waits for a seat: %s frees none for it", when);
	if (r->by_run_null)
		return psprintf("deactivated on %s; %s leaves it so", r->deactivated_on, when);
	return psprintf("deactivated on %s by run " INT64_FORMAT "; %s leaves it so",
					r->deactivated_on, r->deactivated_by_run, when);
}

static Datum
explain(FunctionCallInfo fcinfo, SmCaller *c)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		user_id;
	Datum		v[1];
	uint64		n;
	ExplainRow *rows;

	sm_require_arg(fcinfo, 0, "user_id");
	user_id = PG_GETARG_INT64(0);
	v[0] = Int64GetDatum(user_id);

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	sm_require(c, SM_ANY, "user", user_id, user_domain(user_id), 0, false);
	sm_exec(&q_explain, v, NULL, true, 0);
	n = SPI_processed;
	rows = palloc0(sizeof(ExplainRow) * (n + 1));
	for (uint64 i = 0; i < n; i++)
	{
		ExplainRow *r = &rows[i];
		bool		isnull;

		/* R20: a division scope explains the licence of its division only */
		if (!sm_may(c, SM_ANY, 0, sm_get_int64(i, 1, NULL), false))
		{
			r->hidden = true;
			continue;
		}
		r->division_id = Int64GetDatum(sm_get_int64(i, 1, NULL));
		r->status_str = sm_get_text(i, 2);
		r->status = CStringGetTextDatum(r->status_str);
		r->sources = sm_get(i, 3, &r->sources_null);
		if (!r->sources_null)
			r->sources = PointerGetDatum(PG_DETOAST_DATUM_COPY(r->sources));
		r->has_policy = sm_get_bool(i, 4);
		r->enabled = sm_get_bool(i, 5);
		r->deactivated_on = sm_get_text(i, 6);
		r->deactivated_by_run = sm_get_int64(i, 7, &isnull);
		r->by_run_null = isnull;
		r->revoke_after = sm_get_text(i, 8);
		r->grant_within = sm_get_text(i, 9);
		r->last_activity = sm_get_text(i, 10);
		r->notice_period = sm_get_text(i, 11);
		r->notice_id = sm_get_int64(i, 12, NULL);
		r->deadline = sm_get_text(i, 13);
	}
	for (uint64 i = 0; i < n; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, rows[i].sources_null, false};

		if (rows[i].hidden)
			continue;

		values[0] = rows[i].division_id;
		values[1] = rows[i].status;
		values[2] = rows[i].sources;
		values[3] = CStringGetTextDatum(verdict(&rows[i], user_id));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/* ---------------------------------------------------------------------
 * R15: seatmgr_answer_notice
 * ---------------------------------------------------------------------
 */

static SeatQuery q_notice = {
	"SELECT o.domain_id, o.division_id, o.user_id FROM seatmgr.notices o WHERE o.notice_id = $1",
	1, {INT8OID}
};

/* after the division row (docs/locking.md): the notice, on a new snapshot */
static SeatQuery q_lock_notice = {
	"SELECT o.outcome FROM seatmgr.notices o"
	" WHERE o.domain_id = $2 AND o.notice_id = $1 FOR UPDATE",
	2, {INT8OID, INT8OID}
};

static SeatQuery q_close_notice = {
	"UPDATE seatmgr.notices SET answer = $3, answered_at = pg_catalog.now(),"
	"       closed_at = pg_catalog.now(), outcome = $4"
	" WHERE domain_id = $2 AND notice_id = $1",
	4, {INT8OID, INT8OID, TEXTOID, TEXTOID}
};

/*
 * seatmgr_answer_notice(notice_id, answer): 'keep' records activity now
 * (as seatmgr_touch) and closes the notice kept; 'release' deactivates the
 * licence at once (not a run: R16 never gives it back) and closes it
 * released.  The division row is read FOR SHARE first, as every licence
 * change does: an answer and a run of the division never interleave, so a
 * notice is never closed kept on a licence the run deactivated.  Returns
 * the outcome.
 */
static Datum
answer_notice(FunctionCallInfo fcinfo, SmCaller *c)
{
	int64		notice_id;
	char	   *answer;
	const char *outcome;
	int64		domain_id,
				division_id,
				user_id;
	Datum		v[4];
	Division	d;
	char	   *closed;

	sm_require_arg(fcinfo, 0, "notice_id");
	sm_require_arg(fcinfo, 1, "answer");
	notice_id = PG_GETARG_INT64(0);
	answer = text_to_cstring(PG_GETARG_TEXT_PP(1));
	/* the answer before the notice's state (SPEC section 9) */
	if (strcmp(answer, "keep") != 0 && strcmp(answer, "release") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("answer \"%s\" is not keep or release", answer),
				 errhint("Answer 'keep' to keep the seat or 'release' to give it up now."),
				 sm_errrow("notices", "answer", "notices_answer_check")));

	SPI_connect();
	v[0] = Int64GetDatum(notice_id);
	sm_exec(&q_notice, v, NULL, false, 1);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("notice %lld does not exist", (long long) notice_id),
				 errhint("seatmgr.notices lists the notices."),
				 sm_errcolumn("notices", "notice_id")));
	domain_id = sm_get_int64(0, 1, NULL);
	division_id = sm_get_int64(0, 2, NULL);
	user_id = sm_get_int64(0, 3, NULL);
	sm_require(c, SM_APP | SM_ADMIN, gettext_noop("notice"), notice_id, domain_id, division_id, false);

	if (!sm_load_division(division_id, &d))
		sm_error_missing("division", division_id);
	v[1] = Int64GetDatum(domain_id);
	sm_exec(&q_lock_notice, v, NULL, false, 1);
	closed = SPI_processed == 0 ? NULL : sm_get_text(0, 1);
	if (closed != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("notice %lld is already closed: %s", (long long) notice_id, closed),
				 errhint("Only an open notice can be answered; seatmgr_explain shows what the next run does."),
				 sm_errcolumn("notices", "outcome")));

	if (strcmp(answer, "keep") == 0)
	{
		sm_touch_user(user_id, GetCurrentTransactionStartTimestamp());
		outcome = "kept";
	}
	else
		outcome = sm_release_license(user_id, division_id) ? "released" : "license gone";

	v[2] = CStringGetTextDatum(answer);
	v[3] = CStringGetTextDatum(outcome);
	sm_exec(&q_close_notice, v, NULL, false, 0);
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(outcome));
}
