-- seatmgr: SaaS seat management inside PostgreSQL (the install script of the current version).
-- The Makefile copies it to sql/seatmgr--$(EXTVERSION).sql; every schema change here also goes into
-- the upgrade script sql/seatmgr--<previous>--<current>.sql.
-- Schema, constraints, indexes, comments and grants live here; the rules
-- (triggers, licences, seat limits, activity) are C functions in seatmgr.so.

\echo Use "CREATE EXTENSION seatmgr" to load this file. \quit

CREATE SCHEMA seatmgr;
COMMENT ON SCHEMA seatmgr IS 'seatmgr data: the organization model an application writes and the licences the extension maintains';

------------------------------------------------------------------------------
-- The model: tables an application writes
------------------------------------------------------------------------------

CREATE TABLE seatmgr.domains (
    domain_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE seatmgr.domains IS 'An organization / claimed e-mail domain; name is a DNS name stored lower-case';

CREATE TABLE seatmgr.divisions (
    division_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain_id   bigint NOT NULL REFERENCES seatmgr.domains ON DELETE CASCADE,
    name        text NOT NULL,
    product     text NOT NULL DEFAULT 'default',
    paid        boolean NOT NULL DEFAULT true,
    seat_limit  integer CHECK (seat_limit >= 0),
    seat_price  numeric CHECK (seat_price >= 0),
    on_full     text NOT NULL DEFAULT 'waitlist',   -- 'waitlist' or 'error': checked in C (validate.c)
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    UNIQUE (domain_id, division_id)
);
CREATE INDEX ON seatmgr.divisions (domain_id);
COMMENT ON TABLE seatmgr.divisions IS 'A billing account holding a subscription: seat_limit NULL means unlimited; on_full chooses waitlist or error (SQLSTATE 53400) when full';

CREATE TABLE seatmgr.teams (
    team_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain_id   bigint NOT NULL REFERENCES seatmgr.domains ON DELETE CASCADE,
    division_id bigint REFERENCES seatmgr.divisions ON DELETE SET NULL,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX ON seatmgr.teams (division_id);
CREATE INDEX ON seatmgr.teams (domain_id);
COMMENT ON TABLE seatmgr.teams IS 'A team: paid when its division is paid, free when it has no division or an unpaid one (R1)';

CREATE TABLE seatmgr.users (
    user_id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain_id          bigint NOT NULL REFERENCES seatmgr.domains ON DELETE CASCADE,
    email              text NOT NULL,
    is_admin           boolean NOT NULL DEFAULT false,
    is_service_account boolean NOT NULL DEFAULT false,
    last_active_at     timestamptz,
    external_id        text,
    created_at         timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE UNIQUE INDEX users_email_key ON seatmgr.users (pg_catalog.lower(email));
CREATE INDEX ON seatmgr.users (domain_id, last_active_at);
COMMENT ON TABLE seatmgr.users IS 'A person or service account of a domain; email is unique case-insensitively; last_active_at only moves forward through seatmgr_touch';

CREATE TABLE seatmgr.team_members (
    team_id    bigint NOT NULL REFERENCES seatmgr.teams ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES seatmgr.users ON DELETE CASCADE,
    added_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX ON seatmgr.team_members (user_id);
COMMENT ON TABLE seatmgr.team_members IS 'Team membership (an accepted team invite); a paid team gives a licence with source team:<team_id> (R1)';

CREATE TABLE seatmgr.shares (
    share_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    object_type  text NOT NULL,   -- project, project_template, portfolio, goal, dashboard: checked in C (validate.c)
    object_id    text NOT NULL,
    sharer_id    bigint NOT NULL REFERENCES seatmgr.users ON DELETE CASCADE,
    recipient_id bigint NOT NULL REFERENCES seatmgr.users ON DELETE CASCADE,
    division_id  bigint REFERENCES seatmgr.divisions ON DELETE CASCADE,
    shared_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CHECK (sharer_id <> recipient_id)
);
CREATE INDEX ON seatmgr.shares (recipient_id);
CREATE INDEX ON seatmgr.shares (sharer_id);
COMMENT ON TABLE seatmgr.shares IS 'An object shared by one user with another; a licensed sharer gives the recipient a licence with source share:<share_id> (R2)';

CREATE TABLE seatmgr.groups (
    group_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain_id  bigint NOT NULL REFERENCES seatmgr.domains ON DELETE CASCADE,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX ON seatmgr.groups (domain_id);
COMMENT ON TABLE seatmgr.groups IS 'An identity-provider group';

CREATE TABLE seatmgr.group_members (
    group_id   bigint NOT NULL REFERENCES seatmgr.groups ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES seatmgr.users ON DELETE CASCADE,
    added_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX ON seatmgr.group_members (user_id);
COMMENT ON TABLE seatmgr.group_members IS 'Group membership; each grant of the group gives a licence with source group:<group_id> (R3)';

CREATE TABLE seatmgr.group_grants (
    group_id    bigint NOT NULL REFERENCES seatmgr.groups ON DELETE CASCADE,
    division_id bigint NOT NULL REFERENCES seatmgr.divisions ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (group_id, division_id)
);
CREATE INDEX ON seatmgr.group_grants (division_id);
COMMENT ON TABLE seatmgr.group_grants IS 'The group gives its members a seat in that division (R3); grants into unpaid divisions give nothing';

CREATE TABLE seatmgr.exclusions (
    exclusion_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain_id    bigint NOT NULL REFERENCES seatmgr.domains ON DELETE CASCADE,
    user_id      bigint REFERENCES seatmgr.users ON DELETE CASCADE,
    group_id     bigint REFERENCES seatmgr.groups ON DELETE CASCADE,
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CHECK (pg_catalog.num_nonnulls(user_id, group_id) = 1)
);
CREATE INDEX ON seatmgr.exclusions (domain_id);
CREATE INDEX ON seatmgr.exclusions (user_id);
CREATE INDEX ON seatmgr.exclusions (group_id);
COMMENT ON TABLE seatmgr.exclusions IS 'Users and groups that automation never touches (exactly one of user_id, group_id)';

CREATE TABLE seatmgr.policies (
    division_id              bigint PRIMARY KEY REFERENCES seatmgr.divisions ON DELETE CASCADE,
    enabled                  boolean NOT NULL DEFAULT false,
    run_every                interval NOT NULL DEFAULT '1 day',
    grant_active_within      interval,
    revoke_inactive_after    interval,
    grant_scope              text NOT NULL DEFAULT 'domain',   -- 'domain' or 'division': checked in C (validate.c)
    protect_admins           boolean NOT NULL DEFAULT true,
    protect_service_accounts boolean NOT NULL DEFAULT true,
    notice_period            interval,
    next_run_at              timestamptz,
    created_at               timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX ON seatmgr.policies (next_run_at) WHERE enabled;
COMMENT ON TABLE seatmgr.policies IS 'Automatic seat management settings of one division; next_run_at is maintained (R11)';
COMMENT ON COLUMN seatmgr.policies.notice_period IS 'R14: when set, a run warns an inactive user (a notice with this deadline) before it takes the seat; NULL takes it at once';

------------------------------------------------------------------------------
-- Maintained by the extension: readable, never written by applications
------------------------------------------------------------------------------

CREATE TABLE seatmgr.licenses (
    user_id            bigint NOT NULL REFERENCES seatmgr.users ON DELETE CASCADE,
    division_id        bigint NOT NULL REFERENCES seatmgr.divisions ON DELETE CASCADE,
    status             text NOT NULL CHECK (status IN ('active', 'deactivated', 'waitlisted')),
    granted_at         timestamptz NOT NULL,
    deactivated_at     timestamptz,
    deactivated_by_run bigint,
    created_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (user_id, division_id)
);
CREATE INDEX licenses_division_status_idx ON seatmgr.licenses (division_id, status, granted_at);
COMMENT ON TABLE seatmgr.licenses IS 'One licence per user and division: active (a seat), deactivated (by a sweep) or waitlisted (division full)';

CREATE TABLE seatmgr.license_sources (
    user_id     bigint NOT NULL,
    division_id bigint NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('team', 'share', 'group', 'admin', 'auto')),
    ref_id      bigint,
    added_at    timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    FOREIGN KEY (user_id, division_id) REFERENCES seatmgr.licenses ON DELETE CASCADE,
    CHECK ((kind = 'admin') = (ref_id IS NULL))
);
CREATE UNIQUE INDEX license_sources_key ON seatmgr.license_sources (user_id, division_id, kind, ref_id) NULLS NOT DISTINCT;
CREATE INDEX license_sources_ref_idx ON seatmgr.license_sources (kind, ref_id);
COMMENT ON TABLE seatmgr.license_sources IS 'Why a licence exists: team, share, group, admin or auto (a sweep run); a licence without sources is removed (R5)';

-- The seat counter of each division: the row every activation in a limited
-- division updates, so concurrent grants serialize on it (R6).
CREATE TABLE seatmgr.seat_counts (
    division_id bigint PRIMARY KEY REFERENCES seatmgr.divisions ON DELETE CASCADE,
    active      bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE seatmgr.seat_counts IS 'Internal: active licences of each limited division, the lock that keeps R6 under concurrency';

CREATE TABLE seatmgr.runs (
    run_id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    division_id       bigint NOT NULL REFERENCES seatmgr.divisions ON DELETE CASCADE,
    trigger           text NOT NULL CHECK (trigger IN ('scheduled', 'manual', 'undo')),
    status            text NOT NULL CHECK (status IN ('in_progress', 'succeeded', 'failed')),
    started_at        timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    finished_at       timestamptz,
    users_added       integer NOT NULL DEFAULT 0,
    users_deactivated integer NOT NULL DEFAULT 0,
    error             text,
    created_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    users_warned      integer NOT NULL DEFAULT 0,
    undoes_run_id     bigint
);
CREATE INDEX ON seatmgr.runs (division_id, started_at);
CREATE INDEX ON seatmgr.runs (status) WHERE status = 'in_progress';
-- R16: a run is undone once
CREATE UNIQUE INDEX runs_undoes_run_id_key ON seatmgr.runs (undoes_run_id) WHERE undoes_run_id IS NOT NULL;
COMMENT ON COLUMN seatmgr.runs.undoes_run_id IS 'R16: for trigger undo, the run it undid';
COMMENT ON TABLE seatmgr.runs IS 'One row per real sweep run (R12)';

CREATE TABLE seatmgr.run_changes (
    run_id         bigint NOT NULL REFERENCES seatmgr.runs ON DELETE CASCADE,
    user_id        bigint NOT NULL,
    action         text NOT NULL CHECK (action IN ('added', 'deactivated', 'warned', 'skipped')),
    reason         text,
    last_active_at timestamptz,
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (run_id, user_id)
);
COMMENT ON TABLE seatmgr.run_changes IS 'One row per user a run added, deactivated or skipped (R12)';

CREATE TABLE seatmgr.license_events (
    event_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    user_id     bigint NOT NULL,
    division_id bigint NOT NULL,
    event       text NOT NULL CHECK (event IN ('granted', 'deactivated', 'reactivated', 'removed', 'waitlisted', 'warned')),
    source_kind text,
    source_ref  bigint,
    run_id      bigint,
    actor       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX ON seatmgr.license_events (user_id, division_id);
CREATE INDEX ON seatmgr.license_events (division_id, at);
COMMENT ON TABLE seatmgr.license_events IS 'Every licence change, from a trigger or a run, with the role that caused it (R12)';

------------------------------------------------------------------------------
-- Triggers: validation (BEFORE) and the licence rules (AFTER), all in C
------------------------------------------------------------------------------

-- One validation function (BEFORE) and one rules function (AFTER; BEFORE
-- DELETE for users, whose seats go back before the cascade) per table, named
-- after it, in C.  An application role needs no privilege on the tables a
-- row refers to (as with foreign keys), only on the table it writes: the
-- rules are SECURITY DEFINER, and the validation functions, which must know
-- the role writing to check its scope (R20), switch to their owner
-- themselves (src/access.c).  The same block is in the 0.1.0 -> 0.2.0 update.
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

CREATE FUNCTION seatmgr.members_added() RETURNS trigger
    AS 'MODULE_PATHNAME', 'seatmgr_members_added' LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr.members_added() IS 'Internal: R1 for the team memberships one statement inserts, set-based';
REVOKE ALL ON FUNCTION seatmgr.members_added() FROM PUBLIC;
CREATE TRIGGER seatmgr_rules_insert AFTER INSERT ON seatmgr.team_members
    REFERENCING NEW TABLE AS seatmgr_new_members
    FOR EACH STATEMENT EXECUTE FUNCTION seatmgr.members_added();

CREATE FUNCTION seatmgr.group_members_added() RETURNS trigger
    AS 'MODULE_PATHNAME', 'seatmgr_group_members_added' LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr.group_members_added() IS 'Internal: R3 for the group memberships one statement inserts, set-based';
REVOKE ALL ON FUNCTION seatmgr.group_members_added() FROM PUBLIC;
CREATE TRIGGER seatmgr_rules_insert AFTER INSERT ON seatmgr.group_members
    REFERENCING NEW TABLE AS seatmgr_new_group_members
    FOR EACH STATEMENT EXECUTE FUNCTION seatmgr.group_members_added();


------------------------------------------------------------------------------
-- Functions
------------------------------------------------------------------------------

CREATE FUNCTION seatmgr_grant_license(user_id bigint, division_id bigint) RETURNS text
    AS 'MODULE_PATHNAME', 'seatmgr_grant_license' LANGUAGE C SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr_grant_license(bigint, bigint) IS 'R4: gives the user a licence in the division with source admin; returns the licence status (active or waitlisted)';

CREATE FUNCTION seatmgr_remove_license(user_id bigint, division_id bigint) RETURNS void
    AS 'MODULE_PATHNAME', 'seatmgr_remove_license' LANGUAGE C SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr_remove_license(bigint, bigint) IS 'R4: removes every source of the licence and the user''s memberships of the division''s teams; refuses licences held through a group';

CREATE FUNCTION seatmgr_touch(user_id bigint, at timestamptz DEFAULT pg_catalog.now()) RETURNS void
    AS 'MODULE_PATHNAME', 'seatmgr_touch' LANGUAGE C SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr_touch(bigint, timestamptz) IS 'Records activity of one user; never moves last_active_at backwards';

CREATE FUNCTION seatmgr_touch(user_ids bigint[], at timestamptz DEFAULT pg_catalog.now()) RETURNS void
    AS 'MODULE_PATHNAME', 'seatmgr_touch_many' LANGUAGE C SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr_touch(bigint[], timestamptz) IS 'Records activity of many users in one statement; never moves last_active_at backwards';

CREATE FUNCTION seatmgr_explain(user_id bigint)
    RETURNS TABLE (division_id bigint, status text, sources text[], verdict text)
    AS 'MODULE_PATHNAME', 'seatmgr_explain' LANGUAGE C STABLE SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr_explain(bigint) IS 'Why the user holds each licence (its sources) and what the next run would do to it';

REVOKE ALL ON FUNCTION seatmgr_grant_license(bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION seatmgr_remove_license(bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION seatmgr_touch(bigint, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION seatmgr_touch(bigint[], timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION seatmgr_explain(bigint) FROM PUBLIC;

------------------------------------------------------------------------------
-- Views
------------------------------------------------------------------------------

CREATE VIEW seatmgr.division_seats AS
SELECT d.division_id,
       dom.name AS domain,
       d.name AS division,
       d.product,
       d.paid,
       d.seat_limit,
       COALESCE(c.active, 0) AS active,
       COALESCE(c.deactivated, 0) AS deactivated,
       COALESCE(c.waitlisted, 0) AS waitlisted,
       CASE WHEN d.seat_limit IS NOT NULL
            THEN pg_catalog.int8larger(d.seat_limit - COALESCE(c.active, 0), 0) END AS free_seats,
       d.seat_price,
       d.seat_price * COALESCE(c.active, 0) AS cost
  FROM seatmgr.divisions d
  JOIN seatmgr.domains dom USING (domain_id)
  LEFT JOIN (SELECT l.division_id,
                    pg_catalog.count(*) FILTER (WHERE l.status = 'active') AS active,
                    pg_catalog.count(*) FILTER (WHERE l.status = 'deactivated') AS deactivated,
                    pg_catalog.count(*) FILTER (WHERE l.status = 'waitlisted') AS waitlisted
               FROM seatmgr.licenses l
              GROUP BY l.division_id) c USING (division_id);
COMMENT ON VIEW seatmgr.division_seats IS 'Seats of each division: limit, active, deactivated, waitlisted, free seats (NULL when unlimited) and cost (active seats times seat_price)';

------------------------------------------------------------------------------
-- pg_dump keeps the data (and identity positions) of every table
------------------------------------------------------------------------------

DO $$
DECLARE
    t text;
    s text;
BEGIN
    FOREACH t IN ARRAY ARRAY['domains', 'divisions', 'teams', 'users', 'team_members', 'shares',
                             'groups', 'group_members', 'group_grants', 'exclusions', 'policies',
                             'licenses', 'license_sources', 'seat_counts', 'runs', 'run_changes',
                             'license_events'] LOOP
        PERFORM pg_catalog.pg_extension_config_dump(pg_catalog.format('seatmgr.%I', t)::regclass, '');
    END LOOP;
    FOR s IN SELECT pg_catalog.format('%I.%I', n.nspname, c.relname)
               FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'seatmgr' AND c.relkind = 'S' LOOP
        PERFORM pg_catalog.pg_extension_config_dump(s::regclass, '');
    END LOOP;
END
$$;

------------------------------------------------------------------------------
-- The sweep: automatic seat management (R7, R8, R10-R13)
------------------------------------------------------------------------------

CREATE FUNCTION seatmgr_run(division_id bigint DEFAULT NULL, preview boolean DEFAULT false)
    RETURNS TABLE (run_id bigint, division_id bigint, user_id bigint, email text,
                   action text, reason text, last_active_at timestamptz)
    AS 'MODULE_PATHNAME', 'seatmgr_run' LANGUAGE C VOLATILE SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr_run(bigint, boolean) IS 'Runs the policy of one division (NULL: every division with a policy) now; with preview => true returns the changes a real run would make and writes nothing (R10)';

-- No SET clause: a procedure with one cannot commit.  Its queries are
-- schema-qualified instead.
CREATE PROCEDURE seatmgr_sweep()
    AS 'MODULE_PATHNAME', 'seatmgr_sweep' LANGUAGE C;
COMMENT ON PROCEDURE seatmgr_sweep() IS 'Runs every enabled policy that is due, each division in its own transaction (R11); what pg_cron calls';

REVOKE ALL ON FUNCTION seatmgr_run(bigint, boolean) FROM PUBLIC;
REVOKE ALL ON PROCEDURE seatmgr_sweep() FROM PUBLIC;

-- SECURITY INVOKER, but with the path pinned: a superuser calling it in a
-- database whose owner planted functions or operators is not theirs (R21).
CREATE FUNCTION seatmgr_schedule(schedule text DEFAULT '*/10 * * * *') RETURNS bigint
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
COMMENT ON FUNCTION seatmgr_schedule(text) IS 'Creates or replaces the pg_cron job that calls seatmgr_sweep(); where pg_cron is not in this database, the error''s hint is the cron.schedule_in_database call to run there';

CREATE FUNCTION seatmgr_unschedule() RETURNS boolean
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
COMMENT ON FUNCTION seatmgr_unschedule() IS 'Removes the pg_cron job of seatmgr_schedule(); false when there is none';
REVOKE ALL ON FUNCTION seatmgr_schedule(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION seatmgr_unschedule() FROM PUBLIC;


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
