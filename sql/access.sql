------------------------------------------------------------------------------
-- Who may do what (0.2.0, SPEC section 8): seatmgr.access, seatmgr_allow,
-- seatmgr_disallow and the row-level security that scopes every role to its
-- domains or divisions (R20).  The Makefile appends this same text to the
-- install script and to the 0.1.0 -> 0.2.0 update; src/access.c has the why.
------------------------------------------------------------------------------

CREATE TABLE seatmgr.access (
    role        regrole NOT NULL,
    access      text NOT NULL,   -- 'app', 'reader' or 'admin': checked in C (access.c)
    domain_id   bigint REFERENCES seatmgr.domains ON DELETE CASCADE,
    division_id bigint REFERENCES seatmgr.divisions ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE UNIQUE INDEX access_key ON seatmgr.access (role, access, domain_id, division_id) NULLS NOT DISTINCT;
COMMENT ON TABLE seatmgr.access IS 'Who may do what: one row per seatmgr_allow (app, reader or admin; every domain, one domain, or one division and its domain)';
SELECT pg_catalog.pg_extension_config_dump('seatmgr.access', '');

CREATE FUNCTION seatmgr.access_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'seatmgr_access_changed' LANGUAGE C
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr.access_changed() IS 'Internal: every backend forgets the grants it cached when seatmgr.access changes';
REVOKE ALL ON FUNCTION seatmgr.access_changed() FROM PUBLIC;
CREATE TRIGGER seatmgr_access_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON seatmgr.access
    FOR EACH STATEMENT EXECUTE FUNCTION seatmgr.access_changed();

CREATE FUNCTION seatmgr_allow(role regrole, access text, domain_id bigint DEFAULT NULL, division_id bigint DEFAULT NULL)
    RETURNS void
    AS 'MODULE_PATHNAME', 'seatmgr_allow' LANGUAGE C SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr_allow(regrole, text, bigint, bigint) IS 'Gives an existing role app, reader or admin access to every domain, one domain or one division (R20); only the extension''s owner calls it';
CREATE FUNCTION seatmgr_disallow(role regrole, access text, domain_id bigint DEFAULT NULL, division_id bigint DEFAULT NULL)
    RETURNS void
    AS 'MODULE_PATHNAME', 'seatmgr_disallow' LANGUAGE C SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr_disallow(regrole, text, bigint, bigint) IS 'Takes back a grant of seatmgr_allow and the privileges no other grant of the role needs';
REVOKE ALL ON FUNCTION seatmgr_allow(regrole, text, bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION seatmgr_disallow(regrole, text, bigint, bigint) FROM PUBLIC;

-- The expressions of the policies, per row: no search_path to pin (no SQL),
-- executable by everyone (they tell a role only its own scope).
CREATE FUNCTION seatmgr.sees(domain_id bigint, division_id bigint) RETURNS boolean
    AS 'MODULE_PATHNAME', 'seatmgr_sees' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION seatmgr.sees(bigint, bigint) IS 'Internal (row-level security): whether the current role may see a row of that domain (NULL: the division''s) and division (NULL: a domain-level row)';
CREATE FUNCTION seatmgr.unscoped() RETURNS boolean
    AS 'MODULE_PATHNAME', 'seatmgr_unscoped' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION seatmgr.unscoped() IS 'Internal (row-level security): whether the current role sees every domain';

-- R20: one policy per table with rows of a domain or a division.  The
-- owner (seatmgr's own code) is not subject to them; a role without a grant
-- sees nothing.  New rows are checked by the same expressions, after the
-- validation trigger has refused an out-of-scope row with 42501 naming it.
DO $$
DECLARE
    t text;
    expr text;
BEGIN
    FOR t, expr IN VALUES
        ('domains',         'seatmgr.sees(domain_id, NULL)'),
        ('divisions',       'seatmgr.sees(domain_id, division_id)'),
        ('teams',           'seatmgr.sees(domain_id, division_id)'),
        ('users',           'seatmgr.sees(domain_id, NULL)'),
        ('groups',          'seatmgr.sees(domain_id, NULL)'),
        ('exclusions',      'seatmgr.sees(domain_id, NULL)'),
        ('team_members',    'seatmgr.unscoped() OR team_id IN (SELECT t.team_id FROM seatmgr.teams t)'),
        ('group_members',   'seatmgr.unscoped() OR group_id IN (SELECT g.group_id FROM seatmgr.groups g)'),
        ('shares',          'seatmgr.unscoped() OR CASE WHEN division_id IS NULL'
                            ' THEN sharer_id IN (SELECT u.user_id FROM seatmgr.users u)'
                            ' ELSE seatmgr.sees(NULL, division_id) END'),
        ('group_grants',    'seatmgr.sees(NULL, division_id)'),
        ('policies',        'seatmgr.sees(NULL, division_id)'),
        ('licenses',        'seatmgr.sees(NULL, division_id)'),
        ('license_sources', 'seatmgr.sees(NULL, division_id)'),
        ('license_events',  'seatmgr.sees(NULL, division_id)'),
        ('seat_counts',     'seatmgr.sees(NULL, division_id)'),
        ('runs',            'seatmgr.sees(NULL, division_id)'),
        ('run_changes',     'seatmgr.unscoped() OR run_id IN (SELECT r.run_id FROM seatmgr.runs r)'),
        ('notices',         'seatmgr.sees(domain_id, division_id)')
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE seatmgr.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format('CREATE POLICY seatmgr_scope ON seatmgr.%I USING (%s)', t, expr);
    END LOOP;
END
$$;

-- Views read their tables as the role that queries them, so the policies
-- apply to a BI tool reading a view as they do to the tables.
ALTER VIEW seatmgr.division_seats SET (security_invoker = true);
ALTER VIEW seatmgr.run_history SET (security_invoker = true);
ALTER VIEW seatmgr.next_runs SET (security_invoker = true);
ALTER VIEW seatmgr.billable_users SET (security_invoker = true);
ALTER VIEW seatmgr.idle_seats SET (security_invoker = true);
ALTER VIEW seatmgr.license_periods SET (security_invoker = true);

-- Runs and previews in progress in every database of the cluster, from
-- shared memory (src/progress.c), as pg_stat_progress_vacuum shows vacuums.
-- progress_rows() applies the scopes itself: a row of this database when
-- the caller's scope covers its division (R20), a row of another database
-- only for superusers and members of pg_read_all_stats; the division's name
-- only for rows of this database.
CREATE FUNCTION seatmgr.progress_rows(
        OUT pid integer, OUT datid oid, OUT run_id bigint, OUT division_id bigint,
        OUT preview boolean, OUT trigger text, OUT phase text, OUT started_at timestamptz,
        OUT licenses_total bigint, OUT licenses_done bigint,
        OUT changes_total bigint, OUT changes_done bigint,
        OUT users_deactivated bigint, OUT users_added bigint, OUT users_warned bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'seatmgr_progress' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION seatmgr.progress_rows() IS 'Internal: the shared-memory slots behind seatmgr.progress, those the caller may see';
REVOKE ALL ON FUNCTION seatmgr.progress_rows() FROM PUBLIC;
CREATE VIEW seatmgr.progress WITH (security_invoker = true) AS
SELECT p.pid, p.datid, db.datname, p.run_id, p.division_id, d.name AS division, p.preview, p.trigger,
       p.phase, p.started_at, p.licenses_total, p.licenses_done, p.changes_total, p.changes_done,
       p.users_deactivated, p.users_added, p.users_warned
  FROM seatmgr.progress_rows() p
  LEFT JOIN pg_catalog.pg_database db ON db.oid = p.datid
  LEFT JOIN seatmgr.divisions d ON d.division_id = p.division_id AND db.datname = pg_catalog.current_database();
-- Counts the licences the change set's statement examines, for
-- seatmgr.progress's licenses_done: a clause of its join of the division's
-- licences with their users (src/sql/changes.sql) that is always true, and whose support
-- function gives the planner selectivity 1 and no cost, so that the
-- statement's plans are those it has without it.  STABLE, not VOLATILE: a
-- volatile function would keep the planner from inlining a CTE that calls
-- it; PARALLEL SAFE: a parallel worker adds to its leader's count.
CREATE FUNCTION seatmgr._progress_tick_support(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'seatmgr_progress_tick_support' LANGUAGE C;
COMMENT ON FUNCTION seatmgr._progress_tick_support(internal) IS 'Internal: the planner support function of seatmgr._progress_tick (selectivity 1, no cost)';
REVOKE ALL ON FUNCTION seatmgr._progress_tick_support(internal) FROM PUBLIC;
CREATE FUNCTION seatmgr._progress_tick(license_user_id bigint, user_id bigint) RETURNS boolean
    AS 'MODULE_PATHNAME', 'seatmgr_progress_tick' LANGUAGE C STABLE PARALLEL SAFE
    SUPPORT seatmgr._progress_tick_support;
COMMENT ON FUNCTION seatmgr._progress_tick(bigint, bigint) IS 'Internal: true; counts the licences a run or preview examines for seatmgr.progress.licenses_done';
REVOKE ALL ON FUNCTION seatmgr._progress_tick(bigint, bigint) FROM PUBLIC;
COMMENT ON VIEW seatmgr.progress IS 'Runs and previews in progress right now in every database of the cluster, with phase and counts, read from shared memory like pg_stat_progress_vacuum (empty unless seatmgr is in shared_preload_libraries)';
