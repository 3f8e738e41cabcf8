/*
 * writer.c: the one module that writes licences, their sources and events,
 * and the seat counters (issue 8).  The triggers (rules.c) and the sweep
 * (sweep.c) decide; this file writes.  Its set-based statements are .sql
 * files compiled in (src/sql/): a statement's new team and group
 * memberships (grant_batch.sql), a run's change set (apply_run.sql); and a
 * deleted division's licences.
 *
 * Every rule that gives or takes a licence row by row goes through the
 * functions here: a source is added (R1-R4, R9) or dropped (R4, R5); a licence whose last
 * source goes is removed; seats are counted per limited division in
 * seatmgr.seat_counts, whose row is the lock that keeps R6 true under any
 * concurrency: in READ COMMITTED the UPDATE waits and re-checks the count,
 * in REPEATABLE READ and SERIALIZABLE it fails with a serialization error.
 *
 * A licence row is always locked before its sources are read or changed
 * (the "lock" queries update it in place), so that a removal racing an
 * invite either sees the new source or waits for it.
 *
 * All functions expect the caller to be connected to SPI.
 */
#include "seatmgr.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "sql/changes.sql.h"
#include "sql/apply_run.sql.h"
#include "sql/apply_notices.sql.h"

/*
 * Every licence change reads its division FOR SHARE (docs/locking.md): a
 * seat_limit change (an UPDATE of the row) waits for the changes in flight
 * and they wait for it, so R6 is judged on the limit that commits.
 */
static SeatQuery q_division = {
	"SELECT " SM_DIVISION_COLUMNS " FROM seatmgr.divisions d WHERE d.division_id = $1 FOR SHARE",
	1, {INT8OID}
};

/* Reads SM_DIVISION_COLUMNS, starting at column col of row 0 of the result. */
void
sm_division_from_result(int col, Division *d)
{
	bool		isnull;

	d->division_id = sm_get_int64(0, col, NULL);
	d->domain_id = sm_get_int64(0, col + 1, NULL);
	d->paid = sm_get_bool(0, col + 2);
	d->seat_limit = DatumGetInt32(sm_get(0, col + 3, &isnull));
	d->limited = !isnull;
	d->on_full_error = sm_get_bool(0, col + 4);
	d->name = sm_get_text(0, col + 5);
}

bool
sm_load_division(int64 division_id, Division *d)
{
	Datum		v[1] = {Int64GetDatum(division_id)};

	sm_exec(&q_division, v, NULL, false, 1);
	if (SPI_processed == 0)
		return false;
	sm_division_from_result(1, d);
	return true;
}

/* ---------------------------------------------------------------------
 * Seats
 * ---------------------------------------------------------------------
 */

/*
 * The counter row is locked before it is read: in READ COMMITTED the lock
 * waits for a concurrent grant or removal and then reads its result (an
 * UPDATE ... WHERE active < limit would judge the old row version without
 * waiting, and could waitlist someone while a seat is being freed).
 */
static SeatQuery q_lock_seats = {
	"SELECT active FROM seatmgr.seat_counts WHERE division_id = $1 FOR UPDATE",
	1, {INT8OID}
};

static SeatQuery q_claim_seat = {
	"UPDATE seatmgr.seat_counts SET active = active + 1 WHERE division_id = $1",
	1, {INT8OID}
};

static SeatQuery q_release_seat = {
	"UPDATE seatmgr.seat_counts SET active = active - 1 WHERE division_id = $1",
	1, {INT8OID}
};

/*
 * Locks a limited division's seat counter.  Every licence change in a
 * limited division takes this lock before it locks a licence row, as the
 * sweep does, so that two changes never wait for each other in opposite
 * orders (a removal promoting a waiter while a grant waits for the seat).
 */
static int64
lock_seats(Division *d)
{
	Datum		v[1] = {Int64GetDatum(d->division_id)};

	if (!d->limited)
		return 0;
	sm_exec(&q_lock_seats, v, NULL, false, 1);
	return SPI_processed == 0 ? d->seat_limit : sm_get_int64(0, 1, NULL);
}

/* Moves a limited division's seat counter by one seat. */
static void
count_seat(Division *d, SeatQuery *q)
{
	Datum		v[1] = {Int64GetDatum(d->division_id)};

	if (d->limited)
		sm_exec(q, v, NULL, false, 0);
}

/* Takes a seat of a limited division if one is free; unlimited always can. */
static bool
claim_seat(Division *d)
{
	if (!d->limited)
		return true;
	if (lock_seats(d) >= d->seat_limit)
		return false;
	count_seat(d, &q_claim_seat);
	return true;
}

static void
release_seat(Division *d)
{
	count_seat(d, &q_release_seat);
}

static void error_division_full(Division *d, int64 user_id) pg_attribute_noreturn();

static void
error_division_full(Division *d, int64 user_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
			 errmsg("division %lld (\"%s\") is full: its seat_limit of %lld is reached",
					(long long) d->division_id, d->name, (long long) d->seat_limit),
			 errdetail("No seat for user %lld.", (long long) user_id),
			 errhint("Raise seat_limit, free a seat, or set on_full = 'waitlist' to queue new licenses."),
			 sm_errcolumn("divisions", "seat_limit")));
}

/*
 * The oldest waitlisted licence of the division gets the seat, and its clock
 * restarts (SPEC section 2).
 */
static SeatQuery q_promote = {
	"UPDATE seatmgr.licenses l SET status = 'active', granted_at = pg_catalog.now()"
	"  FROM (SELECT user_id FROM seatmgr.licenses"
	"         WHERE division_id = $1 AND status = 'waitlisted'"
	"         ORDER BY granted_at, user_id LIMIT 1 FOR UPDATE) w"
	" WHERE l.division_id = $1 AND l.user_id = w.user_id"
	" RETURNING l.user_id",
	1, {INT8OID}
};

/* Hands free seats of the division to its waitlist, oldest first (R6). */
static void
fill_from_waitlist(Division *d)
{
	for (;;)
	{
		Datum		v[1] = {Int64GetDatum(d->division_id)};
		int64		user_id;

		if (!claim_seat(d))
			return;
		sm_exec(&q_promote, v, NULL, false, 0);
		if (SPI_processed == 0)
		{
			release_seat(d);
			return;
		}
		user_id = sm_get_int64(0, 1, NULL);
		sm_log_event(user_id, d->division_id, "granted", NULL, 0, false);
	}
}

/* ---------------------------------------------------------------------
 * Events
 * ---------------------------------------------------------------------
 */

static SeatQuery q_event = {
	"INSERT INTO seatmgr.license_events"
	" (user_id, division_id, event, source_kind, source_ref, actor)"
	" VALUES ($1, $2, $3, $4, $5, $6)",
	6, {INT8OID, INT8OID, TEXTOID, TEXTOID, INT8OID, TEXTOID}
};

void
sm_log_event(int64 user_id, int64 division_id, const char *event,
			 const char *source_kind, int64 source_ref, bool has_ref)
{
	Datum		v[6];
	char		n[7] = "      ";

	v[0] = Int64GetDatum(user_id);
	v[1] = Int64GetDatum(division_id);
	v[2] = CStringGetTextDatum(event);
	if (source_kind)
		v[3] = CStringGetTextDatum(source_kind);
	else
		n[3] = 'n';
	v[4] = Int64GetDatum(source_ref);
	if (!has_ref)
		n[4] = 'n';
	v[5] = CStringGetTextDatum(sm_actor());
	sm_exec(&q_event, v, n, false, 0);
}

/* ---------------------------------------------------------------------
 * Sources
 * ---------------------------------------------------------------------
 */

/* Locks the licence row (an in-place update) and returns its status. */
static SeatQuery q_lock_license = {
	"UPDATE seatmgr.licenses SET status = status"
	" WHERE user_id = $1 AND division_id = $2 RETURNING status",
	2, {INT8OID, INT8OID}
};

/* A new licence, its first source and its event, in one statement. */
static SeatQuery q_create_license = {
	"WITH l AS ("
	"  INSERT INTO seatmgr.licenses (user_id, division_id, status, granted_at)"
	"  VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING user_id),"
	" s AS ("
	"  INSERT INTO seatmgr.license_sources (user_id, division_id, kind, ref_id, added_at)"
	"  SELECT user_id, $2, $5, $6, $4 FROM l),"
	" e AS ("
	"  INSERT INTO seatmgr.license_events (user_id, division_id, event, source_kind, source_ref, actor)"
	"  SELECT user_id, $2, CASE $3 WHEN 'active' THEN 'granted' ELSE 'waitlisted' END, $5, $6, $7 FROM l)"
	"SELECT pg_catalog.count(*) FROM l",
	7, {INT8OID, INT8OID, TEXTOID, TIMESTAMPTZOID, TEXTOID, INT8OID, TEXTOID}
};

static bool
create_license(int64 user_id, Division *d, const char *status, const char *kind,
			   int64 ref_id, bool has_ref, TimestampTz added_at)
{
	Datum		v[7];
	char		n[8] = "       ";

	v[0] = Int64GetDatum(user_id);
	v[1] = Int64GetDatum(d->division_id);
	v[2] = CStringGetTextDatum(status);
	v[3] = TimestampTzGetDatum(added_at);
	v[4] = CStringGetTextDatum(kind);
	v[5] = Int64GetDatum(ref_id);
	if (!has_ref)
		n[5] = 'n';
	v[6] = CStringGetTextDatum(sm_actor());
	sm_exec(&q_create_license, v, n, false, 0);
	return sm_get_int64(0, 1, NULL) == 1;
}

static SeatQuery q_insert_source = {
	"INSERT INTO seatmgr.license_sources (user_id, division_id, kind, ref_id, added_at)"
	" VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
	5, {INT8OID, INT8OID, TEXTOID, INT8OID, TIMESTAMPTZOID}
};

static SeatQuery q_reactivate = {
	"UPDATE seatmgr.licenses SET status = $3, granted_at = pg_catalog.now(),"
	"       deactivated_at = NULL, deactivated_by_run = NULL"
	" WHERE user_id = $1 AND division_id = $2",
	3, {INT8OID, INT8OID, TEXTOID}
};

/* Returns the status of the locked licence, or NULL when there is none. */
static char *
lock_license(int64 user_id, int64 division_id)
{
	Datum		v[2] = {Int64GetDatum(user_id), Int64GetDatum(division_id)};

	sm_exec(&q_lock_license, v, NULL, false, 0);
	return SPI_processed == 0 ? NULL : sm_get_text(0, 1);
}

static bool
insert_source(int64 user_id, int64 division_id, const char *kind,
			  int64 ref_id, bool has_ref, TimestampTz added_at)
{
	Datum		v[5];
	char		n[6] = "     ";

	v[0] = Int64GetDatum(user_id);
	v[1] = Int64GetDatum(division_id);
	v[2] = CStringGetTextDatum(kind);
	v[3] = Int64GetDatum(ref_id);
	if (!has_ref)
		n[3] = 'n';
	v[4] = TimestampTzGetDatum(added_at);
	sm_exec(&q_insert_source, v, n, false, 0);
	return SPI_processed == 1;
}

/*
 * Adds a source to the user's licence in the division, creating the licence
 * (active, or waitlisted when the division is full) or reactivating a
 * deactivated one (R9).  Unpaid divisions hold no licences: nothing happens.
 * Returns the licence status afterwards, or NULL when nothing was given.
 */
const char *
sm_add_source(int64 user_id, int64 division_id, const char *kind,
			  int64 ref_id, bool has_ref, TimestampTz added_at)
{
	Division	d;

	if (!sm_load_division(division_id, &d))
		return NULL;
	return sm_add_source_to(user_id, &d, kind, ref_id, has_ref, added_at);
}

const char *
sm_add_source_to(int64 user_id, Division *d, const char *kind,
				 int64 ref_id, bool has_ref, TimestampTz added_at)
{
	char	   *status;
	const char *newstatus;

	if (!d->paid)
		return NULL;

	/* unlimited: most grants are new licences, try that first */
	if (!d->limited && create_license(user_id, d, "active", kind, ref_id, has_ref, added_at))
		return "active";
	lock_seats(d);

	for (;;)
	{
		status = lock_license(user_id, d->division_id);
		if (status != NULL)
			break;

		/* a new licence: take a seat first, so a full division waitlists */
		if (claim_seat(d))
			newstatus = "active";
		else if (d->on_full_error)
			error_division_full(d, user_id);
		else
			newstatus = "waitlisted";

		if (create_license(user_id, d, newstatus, kind, ref_id, has_ref, added_at))
			return newstatus;
		/* a concurrent transaction created it first: give the seat back */
		if (strcmp(newstatus, "active") == 0)
			release_seat(d);
	}

	if (!insert_source(user_id, d->division_id, kind, ref_id, has_ref, added_at))
		return status;			/* the licence already had this source */

	if (strcmp(status, "deactivated") == 0)
	{
		Datum		v[3];

		/* R9: a new source gives the seat back, subject to R6 */
		if (claim_seat(d))
			newstatus = "active";
		else if (d->on_full_error)
			error_division_full(d, user_id);
		else
			newstatus = "waitlisted";
		v[0] = Int64GetDatum(user_id);
		v[1] = Int64GetDatum(d->division_id);
		v[2] = CStringGetTextDatum(newstatus);
		sm_exec(&q_reactivate, v, NULL, false, 0);
		sm_log_event(user_id, d->division_id,
					 strcmp(newstatus, "active") == 0 ? "reactivated" : "waitlisted",
					 kind, ref_id, has_ref);
		return newstatus;
	}
	return status;
}

static SeatQuery q_delete_source = {
	"DELETE FROM seatmgr.license_sources"
	" WHERE user_id = $1 AND division_id = $2 AND kind = $3"
	"   AND ref_id IS NOT DISTINCT FROM $4",
	4, {INT8OID, INT8OID, TEXTOID, INT8OID}
};

static SeatQuery q_has_sources = {
	"SELECT 1 FROM seatmgr.license_sources WHERE user_id = $1 AND division_id = $2 LIMIT 1",
	2, {INT8OID, INT8OID}
};

static SeatQuery q_delete_license = {
	"DELETE FROM seatmgr.licenses WHERE user_id = $1 AND division_id = $2",
	2, {INT8OID, INT8OID}
};

/* Deletes a locked licence and its sources, freeing its seat (R5). */
static void
delete_license(int64 user_id, Division *d, const char *status,
			   const char *kind, int64 ref_id, bool has_ref)
{
	Datum		v[2] = {Int64GetDatum(user_id), Int64GetDatum(d->division_id)};

	sm_exec(&q_delete_license, v, NULL, false, 0);
	sm_log_event(user_id, d->division_id, "removed", kind, ref_id, has_ref);
	if (strcmp(status, "active") == 0)
	{
		release_seat(d);
		fill_from_waitlist(d);
	}
}

/*
 * Drops one source of the user's licence in the division; a licence left
 * without sources is removed (R5).
 */
void
sm_drop_source(int64 user_id, int64 division_id, const char *kind,
			   int64 ref_id, bool has_ref)
{
	Datum		v[4];
	char		n[5] = "    ";
	char	   *status;
	Division	d;

	if (!sm_load_division(division_id, &d))
		return;					/* already gone, e.g. by a cascade */
	lock_seats(&d);
	status = lock_license(user_id, division_id);
	if (status == NULL)
		return;

	v[0] = Int64GetDatum(user_id);
	v[1] = Int64GetDatum(division_id);
	v[2] = CStringGetTextDatum(kind);
	v[3] = Int64GetDatum(ref_id);
	if (!has_ref)
		n[3] = 'n';
	sm_exec(&q_delete_source, v, n, false, 0);
	if (SPI_processed == 0)
		return;

	sm_exec(&q_has_sources, v, NULL, false, 1);
	if (SPI_processed > 0)
		return;					/* another source keeps it (Asana: Sam) */

	delete_license(user_id, &d, status, kind, ref_id, has_ref);
}

static SeatQuery q_sources_by_ref = {
	"SELECT division_id FROM seatmgr.license_sources"
	" WHERE user_id = $1 AND kind = $2 AND ref_id = $3",
	3, {INT8OID, TEXTOID, INT8OID}
};

/*
 * Drops the source kind:ref from every licence of the user, whatever its
 * division: a team's division may have changed, or the team be gone.
 */
void
sm_drop_source_by_ref(int64 user_id, const char *kind, int64 ref_id)
{
	Datum		v[3] = {Int64GetDatum(user_id), CStringGetTextDatum(kind), Int64GetDatum(ref_id)};
	uint64		ndivisions;
	int64	   *divisions = sm_exec_ids(&q_sources_by_ref, v, &ndivisions);

	for (uint64 i = 0; i < ndivisions; i++)
		sm_drop_source(user_id, divisions[i], kind, ref_id, true);
	pfree(divisions);
}

static SeatQuery q_delete_all_sources = {
	"DELETE FROM seatmgr.license_sources WHERE user_id = $1 AND division_id = $2",
	2, {INT8OID, INT8OID}
};

/*
 * Removes the licence whatever its sources: seatmgr_remove_license (R4,
 * event source admin) or a deleted user (no source); the seat is freed.
 */
void
sm_remove_license(int64 user_id, int64 division_id, const char *kind)
{
	Datum		v[2] = {Int64GetDatum(user_id), Int64GetDatum(division_id)};
	char	   *status;
	Division	d;

	if (!sm_load_division(division_id, &d))
		return;
	lock_seats(&d);
	status = lock_license(user_id, division_id);
	if (status == NULL)
		return;
	sm_exec(&q_delete_all_sources, v, NULL, false, 0);
	delete_license(user_id, &d, status, kind, 0, false);
}

static SeatQuery q_count_active = {
	"SELECT pg_catalog.count(*) FROM seatmgr.licenses WHERE division_id = $1 AND status = 'active'",
	1, {INT8OID}
};

static SeatQuery q_set_count = {
	"INSERT INTO seatmgr.seat_counts AS c (division_id, active) VALUES ($1, $2)"
	" ON CONFLICT (division_id) DO UPDATE SET active = excluded.active",
	2, {INT8OID, INT8OID}
};

/*
 * The active licences of a division, counted for a seat_limit change.  The
 * UPDATE of the division row waited for every licence change in flight
 * (they hold the row FOR SHARE), so the latest snapshot sees them all; in
 * REPEATABLE READ a count that differs from the transaction's own snapshot
 * cannot be judged safely and fails as a serialization error (R6).
 */
static int64
count_active(int64 division_id)
{
	Datum		v[1] = {Int64GetDatum(division_id)};
	int64		latest;

	sm_exec_latest(&q_count_active, v, NULL);
	latest = sm_get_int64(0, 1, NULL);
	if (IsolationUsesXactSnapshot())
	{
		sm_exec(&q_count_active, v, NULL, true, 0);
		if (sm_get_int64(0, 1, NULL) != latest)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to concurrent license changes in division %lld",
							(long long) division_id),
					 errhint("Retry the transaction.")));
	}
	return latest;
}

static SeatQuery q_promote_all = {
	"UPDATE seatmgr.licenses SET status = 'active', granted_at = pg_catalog.now()"
	" WHERE division_id = $1 AND status = 'waitlisted' RETURNING user_id",
	1, {INT8OID}
};

/*
 * A division's seat_limit was set or changed: count its seats again and
 * give free seats to the waitlist; without a limit everyone waiting gets one.
 */
void
sm_seat_limit_changed(int64 division_id)
{
	Datum		v[1] = {Int64GetDatum(division_id)};
	Division	d;
	int64		active;

	if (!sm_load_division(division_id, &d))
		return;
	if (d.limited)
	{
		Datum		c[2];

		/* only limited divisions keep a counter: it is the lock R6 needs */
		lock_seats(&d);
		active = count_active(division_id);
		c[0] = Int64GetDatum(division_id);
		c[1] = Int64GetDatum(active);
		sm_exec(&q_set_count, c, NULL, false, 0);

		/* R6: active licences never exceed seat_limit, not even a lowered one */
		if (active > d.seat_limit)
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("seat_limit %lld of division %lld (\"%s\") is below its %lld active licenses",
							(long long) d.seat_limit, (long long) division_id, d.name, (long long) active),
					 errhint("Remove or deactivate licenses first, or choose a seat_limit of at least %lld.", (long long) active),
					 sm_errcolumn("divisions", "seat_limit")));
		fill_from_waitlist(&d);
		return;
	}
	{
		uint64		n;
		int64	   *users = sm_exec_ids(&q_promote_all, v, &n);

		for (uint64 i = 0; i < n; i++)
			sm_log_event(users[i], division_id, "granted", NULL, 0, false);
	}
}

/*
 * R15: a notice answered 'release' deactivates the licence at once: not a
 * run, so deactivated_by_run stays NULL and R16 never gives it back; the
 * seat goes to the waitlist (R6).  False when the licence is not active.
 */
static SeatQuery q_release = {
	"UPDATE seatmgr.licenses SET status = 'deactivated', deactivated_at = pg_catalog.now(),"
	"       deactivated_by_run = NULL"
	" WHERE user_id = $1 AND division_id = $2 AND status = 'active'",
	2, {INT8OID, INT8OID}
};

bool
sm_release_license(int64 user_id, int64 division_id)
{
	Datum		v[2] = {Int64GetDatum(user_id), Int64GetDatum(division_id)};
	char	   *status;
	Division	d;

	if (!sm_load_division(division_id, &d))
		return false;
	lock_seats(&d);
	status = lock_license(user_id, division_id);
	if (status == NULL || strcmp(status, "active") != 0)
		return false;
	sm_exec(&q_release, v, NULL, false, 0);
	sm_log_event(user_id, division_id, "deactivated", NULL, 0, false);
	release_seat(&d);
	fill_from_waitlist(&d);
	return true;
}

/* ---------------------------------------------------------------------
 * A statement's new sources (R1, R3, R6), see src/sql/grant_batch.sql
 * ---------------------------------------------------------------------
 */

#include "sql/grant_batch.sql.h"

/* each table's new rows as sources: user_id, division_id, kind, ref_id, added_at */
#define TEAM_SOURCES \
	"WITH src AS (SELECT m.user_id, t.division_id, 'team' AS kind, m.team_id AS ref_id, m.added_at" \
	"               FROM seatmgr_new_members m JOIN seatmgr.teams t ON t.team_id = m.team_id" \
	"              WHERE t.division_id IS NOT NULL)"
#define GROUP_SOURCES \
	"WITH src AS (SELECT m.user_id, g.division_id, 'group' AS kind, m.group_id AS ref_id, m.added_at" \
	"               FROM seatmgr_new_group_members m JOIN seatmgr.group_grants g ON g.group_id = m.group_id)"

/*
 * The lock order of docs/locking.md, before any licence: the batch's
 * divisions FOR SHARE (a seat_limit change waits for the batch, and the
 * batch for it), then the seat counters of the limited ones.
 */
#define LOCK_DIVISIONS \
	" SELECT 1 FROM seatmgr.divisions d WHERE d.division_id IN (SELECT division_id FROM src)" \
	" ORDER BY d.division_id FOR SHARE OF d"
#define LOCK_SEATS \
	" SELECT 1 FROM seatmgr.seat_counts c" \
	"  WHERE c.division_id IN (SELECT s.division_id FROM src s JOIN seatmgr.divisions d" \
	"                             ON d.division_id = s.division_id WHERE d.seat_limit IS NOT NULL)" \
	" ORDER BY c.division_id FOR UPDATE OF c"

typedef struct GrantBatch
{
	SeatQuery	lock_divisions;
	SeatQuery	lock_seats;
	SeatQuery	batch;
} GrantBatch;

static GrantBatch team_batch = {
	{TEAM_SOURCES LOCK_DIVISIONS, 0, {0}},
	{TEAM_SOURCES LOCK_SEATS, 0, {0}},
	{TEAM_SOURCES ", " GRANT_BATCH_SQL, 1, {TEXTOID}}
};

static GrantBatch group_batch = {
	{GROUP_SOURCES LOCK_DIVISIONS, 0, {0}},
	{GROUP_SOURCES LOCK_SEATS, 0, {0}},
	{GROUP_SOURCES ", " GRANT_BATCH_SQL, 1, {TEXTOID}}
};

/*
 * Statements up to this many rows run the batch through plans kept for the
 * backend (a single-row invite does not plan three statements); larger
 * ones are planned for their own size (a plan kept from a one-row insert
 * would join a 10,000-row batch by nested loops).
 */
#define SMALL_BATCH 64

static void
run_grant_batch(TriggerData *trig, GrantBatch *b)
{
	Datum		v[1];

	if (SPI_register_trigger_data(trig) != SPI_OK_TD_REGISTER)
		elog(ERROR, "seatmgr: could not register the statement's new rows");
	v[0] = CStringGetTextDatum(sm_actor());
	if (tuplestore_tuple_count(trig->tg_newtable) <= SMALL_BATCH)
	{
		sm_exec(&b->lock_divisions, NULL, NULL, false, 0);
		sm_exec(&b->lock_seats, NULL, NULL, false, 0);
		sm_exec(&b->batch, v, NULL, false, 0);
	}
	else
	{
		Oid			types[1] = {TEXTOID};

		sm_exec_sql(b->lock_divisions.sql, 0, NULL, NULL, NULL);
		sm_exec_sql(b->lock_seats.sql, 0, NULL, NULL, NULL);
		sm_exec_sql(b->batch.sql, 1, types, v, NULL);
	}
}

/*
 * Grants the new licences of a statement's new team or group memberships
 * (the caller is connected to SPI); the sources the batch did not settle
 * (existing licences, full divisions whose on_full is 'error', a second
 * source of one licence) are then added row by row, in the statement's
 * order, by the same code as a single invite.
 */
void
sm_grant_new_sources(TriggerData *trig, bool groups)
{
	SPITupleTable *rest;
	uint64		n;

	run_grant_batch(trig, groups ? &group_batch : &team_batch);
	rest = SPI_tuptable;
	n = SPI_processed;
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;
		HeapTuple	tup = rest->vals[i];
		TupleDesc	desc = rest->tupdesc;
		int64		user_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		int64		division_id = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
		char	   *kind = TextDatumGetCString(SPI_getbinval(tup, desc, 3, &isnull));
		int64		ref_id = DatumGetInt64(SPI_getbinval(tup, desc, 4, &isnull));
		TimestampTz added_at = DatumGetTimestampTz(SPI_getbinval(tup, desc, 5, &isnull));

		sm_add_source(user_id, division_id, kind, ref_id, true, added_at);
	}
}

/* A deleted division's licences go, each with a 'removed' event (SPEC section 5). */
static SeatQuery q_division_removed = {
	"WITH gone AS (DELETE FROM seatmgr.licenses WHERE division_id = $1 RETURNING user_id)"
	"INSERT INTO seatmgr.license_events (user_id, division_id, event, actor)"
	"SELECT user_id, $1, 'removed', $2 FROM gone ORDER BY user_id",
	2, {INT8OID, TEXTOID}
};

/* and its notices (R14), which no foreign key ties to it */
static SeatQuery q_division_notices_removed = {
	"DELETE FROM seatmgr.notices"
	" WHERE domain_id = (SELECT d.domain_id FROM seatmgr.divisions d WHERE d.division_id = $1)"
	"   AND division_id = $1",
	1, {INT8OID}
};

void
sm_remove_division_licenses(int64 division_id)
{
	Datum		v[2] = {Int64GetDatum(division_id), CStringGetTextDatum(sm_actor())};

	sm_exec(&q_division_removed, v, NULL, false, 0);
	if (sm_has_notices())
		sm_exec(&q_division_notices_removed, v, NULL, false, 0);
}

/* ---------------------------------------------------------------------
 * A real run's change set (R7, R8, R12), see src/sql/apply_run.sql
 * ---------------------------------------------------------------------
 */

/*
 * The change set (CHANGES_SQL, the query a preview returns) in user_id
 * order, computed into a tuplestore and applied by one statement per chunk of
 * APPLY_CHUNK rows: each chunk's rows are its "c", and its licences are
 * read by their primary key within the chunk's user_id range ($6, $7), so
 * no statement holds a hash table, a sort or the foreign-key checks of its
 * inserted rows over the whole division (issue 8: a run's memory does not
 * grow with the division).
 */
#define CHANGES_BY_USER \
	"SELECT user_id, action, reason, last_active_at, step, closes, deadline FROM (" CHANGES_SQL ") x" \
	" ORDER BY user_id, step"

static SeatQuery q_changes_by_user = {CHANGES_BY_USER, SM_CHANGES_NARGS, {SM_CHANGES_TYPES}, NULL, false, true};
static SeatQuery q_changes_by_user_big = {CHANGES_BY_USER, SM_CHANGES_NARGS, {SM_CHANGES_TYPES}, NULL, true, true};
static SeatQuery q_changes_by_user_legacy;
static SeatQuery q_changes_by_user_big_legacy;

#define APPLY_C \
	"WITH c AS MATERIALIZED (SELECT * FROM ROWS FROM (pg_catalog.unnest($8::bigint[]), pg_catalog.unnest($9::text[])," \
	"                        pg_catalog.unnest($10::text[]), pg_catalog.unnest($11::timestamptz[])," \
	"                        pg_catalog.unnest($12::integer[]), pg_catalog.unnest($13::text[])," \
	"                        pg_catalog.unnest($14::timestamptz[]))" \
	"                        AS x(user_id, action, reason, last_active_at, step, closes, deadline)), "
#define APPLY_RUN APPLY_C APPLY_NOTICES_SQL APPLY_RUN_SQL
/* on 0.1.0's schema, until ALTER EXTENSION UPDATE: no notices */
#define APPLY_RUN_LEGACY APPLY_C " opened AS (SELECT NULL::bigint AS user_id WHERE false), " APPLY_RUN_SQL

#define APPLY_CHUNK 10000
#define APPLY_COLS 7

/* the change set as the policy says (seatmgr_simulate passes its own T, W, N) */
void
sm_changes_args(int64 division_id, TimestampTz now, Datum *values, char *nulls)
{
	values[0] = Int64GetDatum(division_id);
	values[1] = TimestampTzGetDatum(now);
	values[2] = BoolGetDatum(false);
	values[3] = values[4] = values[5] = (Datum) 0;
	memcpy(nulls, "   nnn", SM_CHANGES_NARGS + 1);
}

static Oid	apply_types[7 + APPLY_COLS] = {INT8OID, TIMESTAMPTZOID, INT8OID, TEXTOID, BOOLOID, INT8OID, INT8OID,
	INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID, INT4ARRAYOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID};

/*
 * Computes and applies the change set of the division for run_id at time
 * now; the division and (when limited) its seat counter are locked by the
 * caller.  big: the domain has over SM_BIG_DOMAIN users, so the statements
 * run without nested loops, whose cost rests on estimates (t/plans.pl).
 * The change set is computed once, by one statement on one snapshot,
 * before anything is applied; a user appears in it once, so the chunks'
 * user_id ranges do not overlap, and they lock their licences in user_id
 * order, as one statement did (a user's second row, a step-6 notice
 * closing, comes right after the first: two chunks may share that one
 * user_id, harmlessly).  Returns the deactivations, seats given and
 * warnings (R14).
 */
void
sm_apply_run(int64 run_id, int64 division_id, TimestampTz now, bool limited, bool big,
			 int64 *deactivated, int64 *added, int64 *warned)
{
	static const Oid coltypes[APPLY_COLS] = {INT8OID, TEXTOID, TEXTOID, TIMESTAMPTZOID, INT4OID, TEXTOID, TIMESTAMPTZOID};
	SeatQuery  *q = big ? sm_for_schema(&q_changes_by_user_big, &q_changes_by_user_big_legacy)
		: sm_for_schema(&q_changes_by_user, &q_changes_by_user_legacy);
	const char *apply = sm_has_notices() ? APPLY_RUN : APPLY_RUN_LEGACY;
	Datum		v[7 + APPLY_COLS] = {Int64GetDatum(division_id), TimestampTzGetDatum(now), Int64GetDatum(run_id),
	CStringGetTextDatum(sm_actor()), BoolGetDatum(limited)};
	Datum		cv[SM_CHANGES_NARGS];
	char		cn[SM_CHANGES_NARGS + 1];
	int			level = sm_pin_settings(q);
	Tuplestorestate *changes;
	TupleDesc	desc;
	TupleTableSlot *slot;
	MemoryContext chunkcxt,
				oldcxt;
	bool		more = true;
	int64		done = 0;

	*deactivated = 0;
	*added = 0;
	*warned = 0;

	/*
	 * The change set, whole, into a tuplestore that spills past work_mem;
	 * its statement ends (and frees its hash tables) before the first chunk
	 * is applied.  A snapshot taken now, after the caller's locks.
	 */
	changes = tuplestore_begin_heap(false, false, work_mem);
	sm_changes_args(division_id, now, cv, cn);
	sm_exec_store(q, cv, cn, changes);
	sm_progress_phase("applying changes", tuplestore_tuple_count(changes));

	desc = CreateTemplateTupleDesc(APPLY_COLS);
	for (int i = 0; i < APPLY_COLS; i++)
		TupleDescInitEntry(desc, i + 1, NULL, coltypes[i], -1, 0);
	slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	chunkcxt = AllocSetContextCreate(CurrentMemoryContext, "seatmgr run chunk", ALLOCSET_DEFAULT_SIZES);
	while (more)
	{
		ArrayBuildState *cols[APPLY_COLS];
		int64		n = 0;
		int			rc;

		oldcxt = MemoryContextSwitchTo(chunkcxt);
		for (int i = 0; i < APPLY_COLS; i++)
			cols[i] = initArrayResult(coltypes[i], chunkcxt, false);
		while (n < APPLY_CHUNK && (more = tuplestore_gettupleslot(changes, true, false, slot)))
		{
			slot_getallattrs(slot);
			if (n == 0)
				v[5] = slot->tts_values[0];
			v[6] = slot->tts_values[0];
			for (int i = 0; i < APPLY_COLS; i++)
				accumArrayResult(cols[i], slot->tts_values[i], slot->tts_isnull[i], coltypes[i], chunkcxt);
			n++;
		}
		if (n > 0)
		{
			for (int i = 0; i < APPLY_COLS; i++)
				v[7 + i] = makeArrayResult(cols[i], chunkcxt);
			/* planned for each chunk with its own values: its size and range */
			rc = SPI_execute_with_args(apply, 7 + APPLY_COLS, apply_types, v, NULL, false, 0);
			if (rc < 0)
				elog(ERROR, "seatmgr: applying the change set failed: %s", SPI_result_code_string(rc));
			*deactivated += sm_get_int64(0, 1, NULL);
			*added += sm_get_int64(0, 2, NULL);
			*warned += sm_get_int64(0, 3, NULL);
			SPI_freetuptable(SPI_tuptable);
			done += n;
			sm_progress_done(done, *deactivated, *added, *warned);
		}
		/* a tuple read back from disk lives in chunkcxt: release it first */
		ExecClearTuple(slot);
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(chunkcxt);
	}
	MemoryContextDelete(chunkcxt);
	ExecDropSingleTupleTableSlot(slot);
	tuplestore_end(changes);
	sm_unpin_settings(level);
}
