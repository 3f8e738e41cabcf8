-- seatmgr 0.1.0 -> 0.2.0.  Every schema change of 0.2.0, in the order it was made;
-- The Makefile appends sql/money.sql and sql/access.sql (as it does to the install script) to make
-- sql/seatmgr--0.1.0--0.2.0.sql; t/upgrade.pl checks that 0.1.0 updated through
-- it equals a fresh 0.2.0.

\echo Use "ALTER EXTENSION seatmgr UPDATE TO '0.2.0'" to load this file. \quit

-- Issue 7: NULL arguments are refused with 22004 instead of returning NULL
ALTER FUNCTION seatmgr_grant_license(bigint, bigint) CALLED ON NULL INPUT;
ALTER FUNCTION seatmgr_remove_license(bigint, bigint) CALLED ON NULL INPUT;
ALTER FUNCTION seatmgr_explain(bigint) CALLED ON NULL INPUT;

-- they check the caller's scope (R20) and switch to their owner themselves
ALTER FUNCTION seatmgr_grant_license(bigint, bigint) SECURITY INVOKER;
ALTER FUNCTION seatmgr_remove_license(bigint, bigint) SECURITY INVOKER;
ALTER FUNCTION seatmgr_touch(bigint, timestamptz) SECURITY INVOKER;
ALTER FUNCTION seatmgr_touch(bigint[], timestamptz) SECURITY INVOKER;
ALTER FUNCTION seatmgr_explain(bigint) SECURITY INVOKER;
ALTER FUNCTION seatmgr_run(bigint, boolean) SECURITY INVOKER;

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
                  HINT = pg_catalog.format('In database %s (cron.database_name), once CREATE EXTENSION pg_cron has been run there, run: SELECT cron.schedule_in_database(%L, %L, %L, %L);',
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
                  HINT = pg_catalog.format('In database %s (cron.database_name), once CREATE EXTENSION pg_cron has been run there, run: SELECT cron.unschedule(%L);',
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
-- 0.2.0's progress view has other columns (sql/access.sql creates it and its function)
DROP VIEW seatmgr.progress;
DROP FUNCTION seatmgr.progress_rows();

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

-- Issue 10: notices (R14), answers (R15), undo (R16), seatmgr_simulate
ALTER TABLE seatmgr.policies ADD COLUMN notice_period interval;
COMMENT ON COLUMN seatmgr.policies.notice_period IS 'R14: when set, a run warns an inactive user (a notice with this deadline) before it takes the seat; NULL takes it at once';
ALTER TABLE seatmgr.runs DROP CONSTRAINT runs_trigger_check;
ALTER TABLE seatmgr.runs ADD CONSTRAINT runs_trigger_check CHECK (trigger IN ('scheduled', 'manual', 'undo'));
ALTER TABLE seatmgr.runs ADD COLUMN users_warned integer NOT NULL DEFAULT 0;
ALTER TABLE seatmgr.runs ADD COLUMN undoes_run_id bigint;
-- R16: a run is undone once
CREATE UNIQUE INDEX runs_undoes_run_id_key ON seatmgr.runs (undoes_run_id) WHERE undoes_run_id IS NOT NULL;
COMMENT ON COLUMN seatmgr.runs.undoes_run_id IS 'R16: for trigger undo, the run it undid';
ALTER TABLE seatmgr.run_changes DROP CONSTRAINT run_changes_action_check;
ALTER TABLE seatmgr.run_changes ADD CONSTRAINT run_changes_action_check CHECK (action IN ('added', 'deactivated', 'warned', 'skipped'));
ALTER TABLE seatmgr.license_events DROP CONSTRAINT license_events_event_check;
ALTER TABLE seatmgr.license_events ADD CONSTRAINT license_events_event_check
    CHECK (event IN ('granted', 'deactivated', 'reactivated', 'removed', 'waitlisted', 'warned'));

-- Issue 10: run_history gains users_warned (where SPEC lists it, before
-- duration: CREATE OR REPLACE VIEW can only append), seat_change and
-- monthly_cost_change; issue 12: and domain, after division
DROP VIEW seatmgr.run_history;
DROP VIEW seatmgr.next_runs;
DROP FUNCTION seatmgr_run_export(bigint);
-- ... created again, with seatmgr_run_summary, by sql/runs.sql (appended)
