-- seatmgr 0.2.0: what people and BI tools read of runs (run_history,
-- next_runs, the CSV export, seatmgr_run_summary), created alike by the
-- install script and the 0.1.0 -> 0.2.0 update: the Makefile appends this
-- file to both, after sql/notices.sql (runs.users_warned) and before
-- sql/access.sql (security_invoker on the views).  The update drops 0.1.0's
-- versions first.

CREATE VIEW seatmgr.run_history AS
SELECT r.run_id,
       r.started_at AS run_date,
       r.division_id,
       d.name AS division,
       dm.name AS domain,
       r.trigger,
       r.status,
       r.users_added,
       r.users_deactivated,
       r.users_warned,
       r.finished_at - r.started_at AS duration,
       r.error,
       r.users_added - r.users_deactivated AS seat_change,
       CASE WHEN r.status <> 'failed' THEN (r.users_added - r.users_deactivated) * d.seat_price END AS monthly_cost_change
  FROM seatmgr.runs r
  JOIN seatmgr.divisions d ON d.division_id = r.division_id
  JOIN seatmgr.domains dm ON dm.domain_id = d.domain_id;
COMMENT ON VIEW seatmgr.run_history IS 'One row a run, for people and BI tools: date, division and its domain, trigger, status, users added, deactivated and warned, duration, seat_change (added - deactivated) and monthly_cost_change (seat_change * seat_price; NULL for a failed run or without a price)';

CREATE VIEW seatmgr.next_runs AS
SELECT p.division_id,
       d.name AS division,
       dm.name AS domain,
       p.enabled,
       p.run_every,
       p.grant_active_within,
       p.revoke_inactive_after,
       p.next_run_at AS estimated_next_run,
       (SELECT pg_catalog.max(r.started_at) FROM seatmgr.runs r WHERE r.division_id = p.division_id) AS last_run_at
  FROM seatmgr.policies p
  JOIN seatmgr.divisions d ON d.division_id = p.division_id
  JOIN seatmgr.domains dm ON dm.domain_id = d.domain_id;
COMMENT ON VIEW seatmgr.next_runs IS 'Each policy (its division and domain), whether it is enabled, and when its next scheduled run is due (the sweep that runs it is the first one at or after that time)';

-- The export is machine-readable whatever the session's settings (issue 12):
-- run_date is the run's UTC date, last_active_at ISO 8601 text in UTC.
CREATE FUNCTION seatmgr_run_export(run_id bigint)
    RETURNS TABLE (run_id bigint, run_date date, division text, email text,
                   action text, reason text, last_active_at text, domain text)
    AS 'MODULE_PATHNAME', 'seatmgr_run_export' LANGUAGE C STABLE SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr_run_export(bigint) IS 'The CSV export of one run: \copy (SELECT * FROM seatmgr_run_export(7)) TO ''run-7.csv'' CSV HEADER; run_date is the run''s date in UTC, last_active_at ISO 8601 in UTC (2026-06-23T04:05:10.292049Z) whatever DateStyle and TimeZone, domain the division''s domain';
REVOKE ALL ON FUNCTION seatmgr_run_export(bigint) FROM PUBLIC;

CREATE FUNCTION seatmgr_run_summary(run_id bigint,
        OUT run_id bigint, OUT division_id bigint, OUT domain text, OUT division text,
        OUT trigger text, OUT status text, OUT started_at timestamptz, OUT finished_at timestamptz,
        OUT deactivated bigint, OUT added bigint, OUT warned bigint, OUT skipped bigint, OUT error text)
    AS 'MODULE_PATHNAME', 'seatmgr_run_summary' LANGUAGE C STABLE SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr_run_summary(bigint) IS 'One run''s counts without its rows: its division and domain, trigger, status, times, and the users it deactivated, added, warned and skipped';
REVOKE ALL ON FUNCTION seatmgr_run_summary(bigint) FROM PUBLIC;
