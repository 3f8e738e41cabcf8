-- seatmgr 0.1.0 -> 0.2.0.  Every schema change of 0.2.0, in the order it was made;
-- The Makefile appends sql/access.sql (as it does to the install script) to make
-- sql/seatmgr--0.1.0--0.2.0.sql; t/upgrade.t checks that 0.1.0 updated through
-- it equals a fresh 0.2.0.

\echo Use "ALTER EXTENSION seatmgr UPDATE TO '0.2.0'" to load this file. \quit

-- Issue 7: NULL arguments are refused with 22004 instead of returning NULL
ALTER FUNCTION seatmgr_grant_license(bigint, bigint) CALLED ON NULL INPUT;
ALTER FUNCTION seatmgr_remove_license(bigint, bigint) CALLED ON NULL INPUT;
ALTER FUNCTION seatmgr_explain(bigint) CALLED ON NULL INPUT;
ALTER FUNCTION seatmgr_run_export(bigint) CALLED ON NULL INPUT;

-- they check the caller's scope (R20) and switch to their owner themselves
ALTER FUNCTION seatmgr_grant_license(bigint, bigint) SECURITY INVOKER;
ALTER FUNCTION seatmgr_remove_license(bigint, bigint) SECURITY INVOKER;
ALTER FUNCTION seatmgr_touch(bigint, timestamptz) SECURITY INVOKER;
ALTER FUNCTION seatmgr_touch(bigint[], timestamptz) SECURITY INVOKER;
ALTER FUNCTION seatmgr_explain(bigint) SECURITY INVOKER;
ALTER FUNCTION seatmgr_run(bigint, boolean) SECURITY INVOKER;
ALTER FUNCTION seatmgr_run_export(bigint) SECURITY INVOKER;

-- Issue 7: scheduling with a pinned search_path, not executable by PUBLIC
-- SECURITY INVOKER, but with the path pinned: a superuser calling it in a
-- database whose owner planted functions or operators is not theirs (R21).
CREATE OR REPLACE FUNCTION seatmgr_schedule(schedule text DEFAULT '*/10 * * * *') RETURNS bigint
    LANGUAGE plpgsql SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job_name text := 'seatmgr_sweep:' OPERATOR(pg_catalog.||) pg_catalog.current_database();
    command  text := 'CALL @extschema@.seatmgr_sweep()';
    job_id   bigint;
BEGIN
    IF schedule IS NULL THEN
        RAISE EXCEPTION 'schedule must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Use a cron schedule such as ''*/10 * * * *''.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', pg_catalog.current_database()
            USING ERRCODE = 'undefined_object',
                  HINT = pg_catalog.format('In database %s, where pg_cron lives (cron.database_name), run: SELECT cron.schedule_in_database(%L, %L, %L, %L);',
                                           pg_catalog.quote_ident(COALESCE(pg_catalog.current_setting('cron.database_name', true), 'postgres')),
                                           job_name, schedule, command, pg_catalog.current_database());
    END IF;
    EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job_id USING job_name, schedule, command;
    RETURN job_id;
END
$$;
CREATE OR REPLACE FUNCTION seatmgr_unschedule() RETURNS boolean
    LANGUAGE plpgsql SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job_name text := 'seatmgr_sweep:' OPERATOR(pg_catalog.||) pg_catalog.current_database();
    found    boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', pg_catalog.current_database()
            USING ERRCODE = 'undefined_object',
                  HINT = pg_catalog.format('In database %s, where pg_cron lives (cron.database_name), run: SELECT cron.unschedule(%L);',
                                           pg_catalog.quote_ident(COALESCE(pg_catalog.current_setting('cron.database_name', true), 'postgres')),
                                           job_name);
    END IF;
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM cron.job WHERE jobname = $1 AND username = current_user)'
        INTO found USING job_name;
    IF found THEN
        EXECUTE 'SELECT cron.unschedule($1)' USING job_name;
    END IF;
    RETURN found;
END
$$;
REVOKE ALL ON FUNCTION seatmgr_schedule(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION seatmgr_unschedule() FROM PUBLIC;
REVOKE ALL ON FUNCTION seatmgr.progress_rows() FROM PUBLIC;

------------------------------------------------------------------------------
-- Guards (0.2.0): deleted divisions, maintained tables, DROP EXTENSION
------------------------------------------------------------------------------

CREATE FUNCTION seatmgr.division_deleted() RETURNS trigger
    AS 'MODULE_PATHNAME', 'seatmgr_division_deleted' LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr.division_deleted() IS 'Internal: a deleted division (or domain) removes its licenses with a removed event each';
REVOKE ALL ON FUNCTION seatmgr.division_deleted() FROM PUBLIC;
CREATE TRIGGER seatmgr_removed BEFORE DELETE ON seatmgr.divisions
    FOR EACH ROW EXECUTE FUNCTION seatmgr.division_deleted();

CREATE FUNCTION seatmgr.guard_maintained() RETURNS trigger
    AS 'MODULE_PATHNAME', 'seatmgr_guard_maintained' LANGUAGE C
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr.guard_maintained() IS 'Internal: only seatmgr (or a superuser, as a restore does) writes the tables it maintains';
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['licenses', 'license_sources', 'license_events', 'seat_counts', 'runs', 'run_changes'] LOOP
        EXECUTE pg_catalog.format(
            'CREATE TRIGGER seatmgr_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON seatmgr.%I
             FOR EACH STATEMENT EXECUTE FUNCTION seatmgr.guard_maintained()', t);
    END LOOP;
END
$$;

CREATE FUNCTION seatmgr.guard_drop() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'seatmgr_guard_drop' LANGUAGE C
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr.guard_drop() IS 'Internal: refuses DROP EXTENSION seatmgr while licenses exist unless seatmgr.allow_drop_with_licenses is on';
REVOKE ALL ON FUNCTION seatmgr.guard_drop() FROM PUBLIC;
CREATE EVENT TRIGGER seatmgr_guard_drop ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION')
    EXECUTE FUNCTION seatmgr.guard_drop();

-- Issue 8: one validation and one rules function per table instead of two
-- functions that told the tables apart by name
-- One validation function (BEFORE) and one rules function (AFTER; BEFORE
-- DELETE for users, whose seats go back before the cascade) per table, named
-- after it, in C.  SECURITY DEFINER: an application role needs no privilege
-- on the tables a row refers to (as with foreign keys), only on the table it
-- writes.  The same block is in the 0.1.0 -> 0.2.0 update.
DO $$
DECLARE
    t text;
    events text;
BEGIN
    FOREACH t IN ARRAY ARRAY['domains', 'divisions', 'teams', 'users', 'team_members', 'shares',
                             'groups', 'group_members', 'group_grants', 'exclusions', 'policies'] LOOP
        EXECUTE pg_catalog.format(
            'CREATE FUNCTION seatmgr.%I() RETURNS trigger AS %L, %L LANGUAGE C
             SET search_path = pg_catalog, pg_temp', 'validate_' || t, 'MODULE_PATHNAME', 'seatmgr_validate_' || t);
        EXECUTE pg_catalog.format('COMMENT ON FUNCTION seatmgr.%I() IS %L', 'validate_' || t,
            'Internal: rejects bad rows of seatmgr.' || t || ' with a message that names the bad value (SPEC section 5)');
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION seatmgr.%I() FROM PUBLIC', 'validate_' || t);
        EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS seatmgr_validate ON seatmgr.%I', t);
        EXECUTE pg_catalog.format(
            'CREATE TRIGGER seatmgr_validate BEFORE INSERT OR UPDATE ON seatmgr.%I
             FOR EACH ROW EXECUTE FUNCTION seatmgr.%I()', t, 'validate_' || t);
    END LOOP;
    -- team invites and group memberships arrive in bulk: a statement's new
    -- rows are granted together (seatmgr.members_added,
    -- seatmgr.group_members_added), changes and removals row by row
    FOR t, events IN VALUES ('divisions', 'AFTER INSERT OR UPDATE OR DELETE'), ('teams', 'AFTER INSERT OR UPDATE OR DELETE'),
                            ('shares', 'AFTER INSERT OR UPDATE OR DELETE'), ('group_members', 'AFTER UPDATE OR DELETE'),
                            ('group_grants', 'AFTER INSERT OR UPDATE OR DELETE'), ('team_members', 'AFTER UPDATE OR DELETE'),
                            ('users', 'BEFORE DELETE') LOOP
        EXECUTE pg_catalog.format(
            'CREATE FUNCTION seatmgr.%I() RETURNS trigger AS %L, %L LANGUAGE C SECURITY DEFINER
             SET search_path = pg_catalog, pg_temp', 'rules_' || t, 'MODULE_PATHNAME', 'seatmgr_rules_' || t);
        EXECUTE pg_catalog.format('COMMENT ON FUNCTION seatmgr.%I() IS %L', 'rules_' || t,
            'Internal: the licence rules (R1-R6, R9) when seatmgr.' || t || ' changes');
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION seatmgr.%I() FROM PUBLIC', 'rules_' || t);
        EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS seatmgr_rules ON seatmgr.%I', t);
        EXECUTE pg_catalog.format('CREATE TRIGGER seatmgr_rules %s ON seatmgr.%I
             FOR EACH ROW EXECUTE FUNCTION seatmgr.%I()', events, t, 'rules_' || t);
    END LOOP;
END
$$;

DROP FUNCTION seatmgr.validate_row();
DROP FUNCTION seatmgr.model_change();

CREATE FUNCTION seatmgr.group_members_added() RETURNS trigger
    AS 'MODULE_PATHNAME', 'seatmgr_group_members_added' LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr.group_members_added() IS 'Internal: R3 for the group memberships one statement inserts, set-based';
REVOKE ALL ON FUNCTION seatmgr.group_members_added() FROM PUBLIC;
CREATE TRIGGER seatmgr_rules_insert AFTER INSERT ON seatmgr.group_members
    REFERENCING NEW TABLE AS seatmgr_new_group_members
    FOR EACH STATEMENT EXECUTE FUNCTION seatmgr.group_members_added();

-- Issue 8: each list of allowed values in one place: the validation
-- triggers check them in C, with a message naming the value
ALTER TABLE seatmgr.divisions DROP CONSTRAINT divisions_on_full_check;
ALTER TABLE seatmgr.shares DROP CONSTRAINT shares_object_type_check;
ALTER TABLE seatmgr.policies DROP CONSTRAINT policies_grant_scope_check;

-- Issue 10: run_history gains seat_change and monthly_cost_change
CREATE OR REPLACE VIEW seatmgr.run_history AS
SELECT r.run_id,
       r.started_at AS run_date,
       r.division_id,
       d.name AS division,
       r.trigger,
       r.status,
       r.users_added,
       r.users_deactivated,
       r.finished_at - r.started_at AS duration,
       r.error,
       r.users_added - r.users_deactivated AS seat_change,
       CASE WHEN r.status <> 'failed' THEN (r.users_added - r.users_deactivated) * d.seat_price END AS monthly_cost_change
  FROM seatmgr.runs r
  JOIN seatmgr.divisions d ON d.division_id = r.division_id;
COMMENT ON VIEW seatmgr.run_history IS 'One row a run, for people and BI tools: date, division, trigger, status, users added and deactivated, duration, seat_change (added - deactivated) and monthly_cost_change (seat_change * seat_price; NULL for a failed run or without a price)';

------------------------------------------------------------------------------
-- Money and time (0.2.0, issue 10): what seats were in use when, and what
-- they cost, read from seatmgr.license_events (docs/money.md)
------------------------------------------------------------------------------

-- The one place that turns events into the spans a licence held a seat.
-- granted and reactivated give the seat; deactivated, removed and waitlisted
-- take it (a licence deactivated or removed while waitlisted held none, so
-- those change nothing); other events (warned) do not touch the seat.  Only
-- changes of state count, in the order (at, event_id): a span starts at the
-- event that gives a seat to a licence without one and ends at the next event
-- that takes it (ended_at NULL: still active).  upto (NULL: no bound) reads
-- only the events up to that moment, division_ids (NULL: all) only those
-- divisions.  A SQL-standard body, bound when created, never through a
-- caller's search_path, and inlined, so a view's filter on user_id or
-- division_id reaches the scan.  seatmgr_seats_at, seatmgr_cost and
-- seatmgr.license_periods all read it.
CREATE FUNCTION seatmgr.license_spans(upto timestamptz, division_ids bigint[])
    RETURNS TABLE (user_id bigint, division_id bigint, started_at timestamptz, ended_at timestamptz)
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT t.user_id, t.division_id, t.at, t.ended_at
      FROM (SELECT c.user_id, c.division_id, c.at, c.seat,
                   pg_catalog.lead(c.at) OVER (PARTITION BY c.division_id, c.user_id
                                              ORDER BY c.at, c.event_id) AS ended_at
              FROM (SELECT e.user_id, e.division_id, e.at, e.event_id, e.seat,
                           pg_catalog.lag(e.seat, 1, false) OVER (PARTITION BY e.division_id, e.user_id
                                                                 ORDER BY e.at, e.event_id) AS had_seat
                      FROM (SELECT x.user_id, x.division_id, x.at, x.event_id,
                                   x.event OPERATOR(pg_catalog.=) ANY ('{granted,reactivated}'::text[]) AS seat
                              FROM seatmgr.license_events x
                             WHERE x.event OPERATOR(pg_catalog.=) ANY ('{granted,reactivated,deactivated,removed,waitlisted}'::text[])
                               AND (upto IS NULL OR x.at OPERATOR(pg_catalog.<=) upto)
                               AND (division_ids IS NULL OR x.division_id OPERATOR(pg_catalog.=) ANY (division_ids))) e) c
             WHERE c.seat OPERATOR(pg_catalog.<>) c.had_seat) t
     WHERE t.seat AND (t.ended_at IS NULL OR t.ended_at OPERATOR(pg_catalog.>) t.at);
END;
COMMENT ON FUNCTION seatmgr.license_spans(timestamptz, bigint[]) IS 'Internal: the spans each licence held a seat, from seatmgr.license_events up to upto (NULL: all) in divisions division_ids (NULL: all); ended_at NULL while active';
-- seatmgr.license_periods calls it as the role that reads the view (row-level security applies)
REVOKE ALL ON FUNCTION seatmgr.license_spans(timestamptz, bigint[]) FROM PUBLIC;

-- the span logic above, walked in (division, user, at, event_id) order by an
-- index-only scan (docs/benchmarks.md)
CREATE INDEX license_events_span_idx ON seatmgr.license_events (division_id, user_id, at, event_id) INCLUDE (event);

CREATE FUNCTION seatmgr_seats_at(at timestamptz)
    RETURNS TABLE (division_id bigint, active bigint)
    AS 'MODULE_PATHNAME', 'seatmgr_seats_at' LANGUAGE C STABLE SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr_seats_at(timestamptz) IS 'Seats in use at any past moment, per division of the caller''s scope, from seatmgr.license_events (true-ups)';

CREATE FUNCTION seatmgr_cost(from_at timestamptz, to_at timestamptz)
    RETURNS TABLE (division_id bigint, division text, seat_days numeric, cost numeric)
    AS 'MODULE_PATHNAME', 'seatmgr_cost' LANGUAGE C STABLE SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr_cost(timestamptz, timestamptz) IS 'What each paid division''s seats cost from from_at to least(to_at, now()): seat-time from seatmgr.license_events, seat_price per seat per 30 days, prorated to the second (cost NULL without a price)';

REVOKE ALL ON FUNCTION seatmgr_seats_at(timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION seatmgr_cost(timestamptz, timestamptz) FROM PUBLIC;

CREATE VIEW seatmgr.billable_users AS
SELECT u.domain_id,
       dom.name AS domain,
       u.user_id,
       u.email,
       pg_catalog.count(*) AS licenses,
       pg_catalog.sum(d.seat_price) AS monthly_cost
  FROM seatmgr.licenses l
  JOIN seatmgr.divisions d ON d.division_id = l.division_id
  JOIN seatmgr.users u ON u.user_id = l.user_id
  JOIN seatmgr.domains dom ON dom.domain_id = u.domain_id
 WHERE l.status = 'active' AND d.paid
 GROUP BY u.domain_id, dom.name, u.user_id, u.email;
COMMENT ON VIEW seatmgr.billable_users IS 'Billable users as Atlassian counts them: one row per user holding at least one active licence in a paid division of the domain, however many divisions or products; licenses counts those licences, monthly_cost sums their seat_price (NULL when none has a price)';

CREATE VIEW seatmgr.idle_seats AS
SELECT u.domain_id,
       l.user_id,
       u.email,
       l.division_id,
       d.name AS division,
       GREATEST(u.last_active_at, l.granted_at) AS last_activity,
       pg_catalog.now() - GREATEST(u.last_active_at, l.granted_at) AS idle_for,
       COALESCE(p.revoke_inactive_after, '90 days'::interval) AS idle_after,
       d.seat_price
  FROM seatmgr.licenses l
  JOIN seatmgr.divisions d ON d.division_id = l.division_id
  JOIN seatmgr.users u ON u.user_id = l.user_id
  LEFT JOIN seatmgr.policies p ON p.division_id = l.division_id
 WHERE l.status = 'active'
   AND GREATEST(u.last_active_at, l.granted_at)
       < pg_catalog.now() - COALESCE(p.revoke_inactive_after, '90 days'::interval);
COMMENT ON VIEW seatmgr.idle_seats IS 'Active licences whose last activity (the later of last_active_at and granted_at, as R7) is older than idle_after: the division''s revoke_inactive_after, or 90 days without a policy or that setting; seat_price is what each still costs per 30 days';

CREATE VIEW seatmgr.license_periods AS
SELECT s.user_id, s.division_id, pg_catalog.tstzrange(s.started_at, s.ended_at) AS period
  FROM seatmgr.license_spans(NULL, NULL) s;
COMMENT ON VIEW seatmgr.license_periods IS 'One row per span a licence held a seat, from seatmgr.license_events; period is open-ended while the licence is active ("was this user ever licensed, and when")';
