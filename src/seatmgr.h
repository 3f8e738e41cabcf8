/*
 * seatmgr.h: declarations shared by the C files of seatmgr.
 *
 * util.c      prepared-plan cache, value helpers, the acting role
 * writer.c    every write of licences, sources, events and seat counters
 * row.c       reading a trigger's rows by column name
 * validate.c  the validation trigger of each model table (SPEC section 5)
 * rules.c     the rules trigger of each model table (R1-R6, R9)
 * legacy.c    0.1.0's two trigger functions, until ALTER EXTENSION UPDATE
 * functions.c SQL-callable functions: grant, remove, touch, explain
 * sweep.c     the sweep: seatmgr_run, seatmgr_sweep, seatmgr_run_export
 * progress.c  runs in progress in shared memory (seatmgr.progress)
 * guard.c     refuses writes to maintained tables and dropping live data
 * access.c    who may do what: seatmgr_allow, scopes, row-level security
 * worker.c    the launcher that cleans up after a crash and starts delivery workers
 * webhooks.c  the outbox of signed webhooks, its settings, seatmgr_redeliver
 * deliver.c   sending the outbox: libcurl, signatures, the delivery worker
 */
#ifndef SEATMGR_H
#define SEATMGR_H

#include "postgres.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/timestamp.h"

/*
 * Messages in other languages (po/, docs/translating.md).  Every C file
 * includes this header first, so ereport translates its format strings with
 * seatmgr's catalogue "seatmgr-15" (as plpgsql.h does for plpgsql), which
 * _PG_init binds (pg_bindtextdomain).  A word or a hint handed to a message
 * as an argument is translated with sm_(), and marked with gettext_noop()
 * where it is written so that `make update-po` finds it.  Without NLS both
 * are the identity.
 */
#undef TEXTDOMAIN
#define TEXTDOMAIN PG_TEXTDOMAIN("seatmgr")
#define sm_(msgid) dgettext(TEXTDOMAIN, msgid)

/*
 * A query prepared once per backend and kept (SPI_keepplan).  no_nestloop:
 * planned and run with enable_nestloop = off (the sweep of a large domain,
 * whose plans must not hang on estimates that stale statistics make tiny).
 * bounded: run with work_mem = SM_WORK_MEM whatever the session's (a query
 * over a whole division: its hash tables and sorts spill past that instead
 * of growing with the division); no_nestloop queries are bounded too.
 */
typedef struct SeatQuery
{
	const char *sql;
	int			nargs;
	Oid			argtypes[8];
	SPIPlanPtr	plan;
	bool		no_nestloop;
	bool		bounded;
} SeatQuery;

/*
 * the work_mem of bounded queries and of a run's result, with
 * hash_mem_multiplier = 1 (util.c): small enough that the hash tables of a
 * 100,000-user division already reach it, so a run's peak memory is the same
 * at 100,000 and 1,000,000 users (issue 8; docs/benchmarks.md)
 */
#define SM_WORK_MEM "1MB"

/* a domain with more users than this is swept with no_nestloop statements */
#define SM_BIG_DOMAIN 5000

extern int	sm_exec(SeatQuery *q, Datum *values, const char *nulls, bool read_only, long tcount);
extern int	sm_exec_latest(SeatQuery *q, Datum *values, const char *nulls);
struct ReturnSetInfo;
extern int	sm_exec_into(SeatQuery *q, Datum *values, const char *nulls, bool read_only,
						 struct ReturnSetInfo *rsinfo);
extern int	sm_exec_sql(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls);
extern int	sm_pin_settings(SeatQuery *q);
struct Tuplestorestate;
extern int	sm_exec_store(SeatQuery *q, Datum *values, const char *nulls, struct Tuplestorestate *store);
extern void sm_unpin_settings(int level);
extern int64 *sm_exec_ids(SeatQuery *q, Datum *values, uint64 *n);
extern Datum sm_get(int row, int col, bool *isnull);
extern int64 sm_get_int64(int row, int col, bool *isnull);
extern char *sm_get_text(int row, int col);
extern bool sm_get_bool(int row, int col);
extern char *sm_actor(void);
extern char *sm_replace_all(const char *s, const char *token, const char *value);
extern bool sm_has_notices(void);
extern SeatQuery *sm_for_schema(SeatQuery *q, SeatQuery *legacy);

extern void sm_check_time(const char *what, TimestampTz t, bool future_ok, const char *table,
						  const char *column);
extern void sm_check_interval(const char *what, Datum v, int nonpositive_code, const char *table);
extern void sm_require_arg(FunctionCallInfo fcinfo, int argno, const char *name);
extern bool sm_restoring(void);
extern bool sm_index_probe(const char *table, const char *index, int nkeys, const int64 *keys,
						   const char *const *fetch_cols, int64 *fetched, bool self);

/* access.c: the kinds of access (SPEC section 8) and the caller's scope */
#define SM_APP		1
#define SM_READER	2
#define SM_ADMIN	4
#define SM_ANY		(SM_APP | SM_READER | SM_ADMIN)

typedef struct SmCaller
{
	Oid			user;			/* the role that called seatmgr */
	Oid			owner;			/* the function's owner, whom seatmgr acts as */
	Oid			save_user;
	int			save_sec;
} SmCaller;

extern void sm_enter(FunctionCallInfo fcinfo, SmCaller *c);
extern void sm_leave(SmCaller *c);
extern bool sm_may(SmCaller *c, int kinds, int64 domain_id, int64 division_id, bool domain_wide);
extern bool sm_unscoped(SmCaller *c, int kinds);
extern void sm_require(SmCaller *c, int kinds, const char *what, int64 id, int64 domain_id,
					   int64 division_id, bool domain_wide);
extern bool sm_has_kind(SmCaller *c, int kinds);
extern void sm_deny(SmCaller *c, const char *what, int64 id, const char *hint) pg_attribute_noreturn();
extern void sm_deny_in(SmCaller *c, const char *what, int64 id, const char *hint, const char *table,
					   const char *column) pg_attribute_noreturn();

/*
 * An SQL function that checks its caller's scope: SECURITY INVOKER in SQL;
 * name(fcinfo, caller) runs as the function's owner (src/access.c).
 */
#define SM_SCOPED_FUNCTION(name) \
	static Datum name(FunctionCallInfo fcinfo, SmCaller *c); \
	PG_FUNCTION_INFO_V1(seatmgr_##name); \
	Datum \
	seatmgr_##name(PG_FUNCTION_ARGS) \
	{ \
		SmCaller	c; \
		Datum		result; \
		sm_enter(fcinfo, &c); \
		result = name(fcinfo, &c); \
		sm_leave(&c); \
		return result; \
	}

/*
 * ereport helpers for the errors every entry point shares, and the error
 * fields (SCHEMA, TABLE, COLUMN, CONSTRAINT NAME) of errors about a row of
 * a seatmgr table named without an open Relation (util.c).
 */
extern void sm_error_missing(const char *what, int64 id) pg_attribute_noreturn();
extern void sm_error_missing_in(const char *what, int64 id, const char *table,
								const char *column) pg_attribute_noreturn();
extern int	sm_errrow(const char *table, const char *column, const char *constraint);
extern int	sm_errtable(const char *table);
extern int	sm_errcolumn(const char *table, const char *column);
extern int	sm_errobject(const char *what, const char *table, const char *column);

/* row.c: the rows a trigger is given */
typedef struct Row
{
	HeapTuple	tuple;
	TupleDesc	desc;
} Row;

struct TriggerData;
extern void sm_trigger_rows(struct TriggerData *trig, Row *n, Row *o);
extern Datum sm_col(Row *r, const char *name, bool *isnull);
extern int64 sm_col_int64(Row *r, const char *name, bool *isnull);
extern char *sm_col_text(Row *r, const char *name);
extern bool sm_col_bool(Row *r, const char *name);
extern bool sm_col_changed(Row *o, Row *n, const char *name);

/* validate.c and rules.c, for legacy.c */
extern Datum sm_validate_by_name(FunctionCallInfo fcinfo, const char *table);
extern Datum sm_rules_by_name(FunctionCallInfo fcinfo, const char *table);

/* Licence source kinds */
#define SRC_TEAM	"team"
#define SRC_SHARE	"share"
#define SRC_GROUP	"group"
#define SRC_ADMIN	"admin"
#define SRC_AUTO	"auto"

/* writer.c */
typedef struct Division
{
	int64		division_id;
	int64		domain_id;
	bool		paid;
	bool		limited;
	int64		seat_limit;
	bool		on_full_error;
	char	   *name;
} Division;

/* the columns sm_division_from_result reads, from divisions aliased d */
#define SM_DIVISION_COLUMNS \
	"d.division_id, d.domain_id, d.paid, d.seat_limit, d.on_full = 'error', d.name"

extern bool sm_load_division(int64 division_id, Division *d);
extern void sm_division_from_result(int col, Division *d);
extern const char *sm_add_source_to(int64 user_id, Division *d, const char *kind,
									int64 ref_id, bool has_ref, TimestampTz added_at);
extern const char *sm_add_source(int64 user_id, int64 division_id, const char *kind,
								 int64 ref_id, bool has_ref, TimestampTz added_at);
extern void sm_drop_source(int64 user_id, int64 division_id, const char *kind,
						   int64 ref_id, bool has_ref);
extern void sm_drop_source_by_ref(int64 user_id, const char *kind, int64 ref_id);
extern void sm_remove_license(int64 user_id, int64 division_id, const char *kind);
extern void sm_seat_limit_changed(int64 division_id);
extern void sm_log_event(int64 user_id, int64 division_id, const char *event,
						 const char *source_kind, int64 source_ref, bool has_ref);
extern void sm_grant_new_sources(struct TriggerData *trig, bool groups);
extern void sm_remove_division_licenses(int64 division_id);
extern void sm_apply_run(int64 run_id, int64 division_id, TimestampTz now, bool limited, bool big,
						 int64 *deactivated, int64 *added, int64 *warned);
extern bool sm_release_license(int64 user_id, int64 division_id);

/*
 * The parameters of the change set (src/sql/changes.sql): division, time,
 * and whether $4-$6 (T, W, N) replace the policy's thresholds.
 */
#define SM_CHANGES_NARGS 6
#define SM_CHANGES_TYPES INT8OID, TIMESTAMPTZOID, BOOLOID, INTERVALOID, INTERVALOID, INTERVALOID
extern void sm_changes_args(int64 division_id, TimestampTz now, Datum *values, char *nulls);

/* seatmgr.c: seatmgr.log_run_summary, an elevel or 0 (off) */
extern int	sm_log_run_summary;

/* sweep.c */
extern int64 sm_fail_interrupted_runs(void);
extern bool sm_planned_change(int64 division_id, int64 user_id, char **action, char **reason, char **closes);
extern bool sm_domain_is_big(int64 division_id);
extern void sm_run_lock(int64 division_id);
extern void sm_touch_user(int64 user_id, TimestampTz at);

/* progress.c */
extern void sm_progress_init(void);
extern void sm_progress_start(int64 run_id, int64 division_id, const char *trigger, const char *phase);
extern void sm_progress_phase(const char *phase, int64 changes_total);
extern void sm_progress_licenses(int64 division_id);
extern void sm_progress_done(int64 changes_done, int64 deactivated, int64 added, int64 warned);
extern void sm_progress_end(void);

/* guard.c */
extern void sm_guard_init(void);

/* worker.c */
extern char *sm_database_names;
extern void sm_launcher_init(void);
extern void sm_register_launcher(void);
extern bool sm_serves_database(const char *dbname);

/* webhooks.c */
extern int	sm_webhook_timeout;
extern int	sm_webhook_max_attempts;
extern int	sm_webhook_retry_delay;
extern void sm_webhooks_init(void);
extern void sm_run_finished(int64 run_id);
extern void sm_webhooks_wake_at_commit(void);
extern int	sm_webhook_key(const char *secret, uint8 *key, int keysize);

/* deliver.c: at most this many databases have a delivery worker */
#define SM_DELIVERY_SLOTS 32
struct BackgroundWorkerHandle;
extern void sm_delivery_init(void);
extern void sm_delivery_prime(void);
extern void sm_delivery_wake(void);
extern void sm_delivery_databases_changed(const char *newval, void *extra);
extern void sm_delivery_request_at_startup(void);
extern int64 sm_deliveries_pending(void);
extern void sm_delivery_launch(struct BackgroundWorkerHandle **handles, TimestampTz *started);

#endif							/* SEATMGR_H */
