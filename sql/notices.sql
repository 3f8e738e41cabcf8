-- seatmgr 0.2.0: notices (R14), answers (R15), undo (R16) and what-if,
-- created alike by the install script and the 0.1.0 -> 0.2.0 update: the
-- Makefile appends this file to both (after sql/seatmgr.sql or the update,
-- before sql/money.sql and sql/access.sql, whose policies cover
-- seatmgr.notices).  The columns they add to existing tables
-- (policies.notice_period, runs.users_warned, runs.undoes_run_id) are in
-- each script: CREATE TABLE in one, ALTER TABLE in the other.

-- R14: a notice before a run takes a seat.  domain_id leads its keys
-- (SPEC section 6); at most one open notice per licence (notices_open_key,
-- which also finds the notice a warned event's webhook payload names: it is
-- open when the outbox reads it).  Closing a notice writes its new version
-- into the primary key and notices_notice_id_idx only (a partial index's
-- predicate column makes every closing a non-HOT update), so the table has
-- no other index: closing 140,000 notices in a run is most of what notices
-- add to it (bench/bench.sh, notices).  No foreign key: a notice outlives its licence (outcome
-- 'license gone'), a deleted division's notices go with its licences
-- (seatmgr.division_deleted), and a run that warns 100,000 people checks no
-- key 100,000 times (bench/bench.sh, notices).
CREATE TABLE seatmgr.notices (
    domain_id   bigint NOT NULL,
    notice_id   bigint GENERATED ALWAYS AS IDENTITY,
    user_id     bigint NOT NULL,
    division_id bigint NOT NULL,
    run_id      bigint NOT NULL,
    issued_at   timestamptz NOT NULL,
    deadline    timestamptz NOT NULL,
    answer      text CHECK (answer IN ('keep', 'release')),
    answered_at timestamptz,
    closed_at   timestamptz,
    outcome     text CHECK (outcome IN ('kept', 'released', 'active again', 'deactivated', 'license gone', 'withdrawn')),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (domain_id, notice_id),
    CHECK ((closed_at IS NULL) = (outcome IS NULL))
);
CREATE UNIQUE INDEX notices_open_key ON seatmgr.notices (domain_id, division_id, user_id) WHERE closed_at IS NULL;
CREATE INDEX notices_notice_id_idx ON seatmgr.notices (notice_id);
COMMENT ON TABLE seatmgr.notices IS 'R14: the notice a run gives before it takes a seat: deadline, the answer (R15) and the outcome (NULL while open)';
SELECT pg_catalog.pg_extension_config_dump('seatmgr.notices', '');
SELECT pg_catalog.pg_extension_config_dump('seatmgr.notices_notice_id_seq', '');
CREATE TRIGGER seatmgr_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON seatmgr.notices
    FOR EACH STATEMENT EXECUTE FUNCTION seatmgr.guard_maintained();

------------------------------------------------------------------------------
-- Notices, undo and what-if (0.2.0): R14, R15, R16, seatmgr_simulate
------------------------------------------------------------------------------

CREATE FUNCTION seatmgr_answer_notice(notice_id bigint, answer text) RETURNS text
    AS 'MODULE_PATHNAME', 'seatmgr_answer_notice' LANGUAGE C VOLATILE SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr_answer_notice(bigint, text) IS 'R15: keep (records activity now, closes the notice kept) or release (deactivates the licence at once, closes it released); returns the outcome';

CREATE FUNCTION seatmgr_undo_run(run_id bigint)
    RETURNS TABLE (run_id bigint, division_id bigint, user_id bigint, email text,
                   action text, reason text, last_active_at timestamptz)
    AS 'MODULE_PATHNAME', 'seatmgr_undo_run' LANGUAGE C VOLATILE SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr_undo_run(bigint) IS 'R16: gives back the seats a succeeded run took (a run of its own, trigger undo); returns its rows like seatmgr_run';

CREATE FUNCTION seatmgr_simulate(division_id bigint, revoke_inactive_after interval, grant_active_within interval,
                                 notice_period interval DEFAULT NULL)
    RETURNS TABLE (action text, reason text, users bigint, monthly_cost_change numeric)
    AS 'MODULE_PATHNAME', 'seatmgr_simulate' LANGUAGE C STABLE SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr_simulate(bigint, interval, interval, interval) IS 'What a run would do now under other thresholds (NULL switches a step off), summed, with the monthly cost change; writes nothing';

REVOKE ALL ON FUNCTION seatmgr_answer_notice(bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION seatmgr_undo_run(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION seatmgr_simulate(bigint, interval, interval, interval) FROM PUBLIC;
