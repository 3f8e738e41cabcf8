------------------------------------------------------------------------------
-- Money and time (0.2.0, issue 10): what seats were in use when, and what
-- they cost, read from seatmgr.license_events (docs/money.md).  The Makefile
-- appends this same text, before sql/access.sql, to the install script and to
-- the 0.1.0 -> 0.2.0 update.
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
