-- R17: what the deliveries of the license events one INSERT statement wrote
-- (the transition table seatmgr_new_events) are made of, one row per event:
-- the event, its user, division and domain, and for a warned event the
-- notice the run opened with it, still open at the end of the run's
-- statement (R14; notices_open_key).  src/webhooks.c matches the events with
-- the enabled webhooks, builds the payloads (SPEC section 7) and writes the
-- deliveries from these rows.  Compiled into the library as OUTBOX_SQL.
SELECT ev.event_id, ev.at, ev.user_id, u.email, u.external_id, dm.name, ev.division_id,
       v.name, v.product, ev.event, ev.source_kind, ev.source_ref, ev.run_id, ev.actor,
       v.domain_id, n.notice_id, n.deadline
  FROM seatmgr_new_events ev
  JOIN seatmgr.divisions v ON v.division_id = ev.division_id
  JOIN seatmgr.domains dm ON dm.domain_id = v.domain_id
  LEFT JOIN seatmgr.users u ON u.user_id = ev.user_id
  LEFT JOIN LATERAL (SELECT n.notice_id, n.deadline
                       FROM seatmgr.notices n
                      WHERE ev.event = 'warned'
                        AND n.domain_id = v.domain_id AND n.division_id = ev.division_id
                        AND n.user_id = ev.user_id AND n.closed_at IS NULL
                        AND n.run_id = ev.run_id) n ON true
