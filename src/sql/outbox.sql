-- R17: the deliveries of the license events one INSERT statement wrote (the
-- transition table seatmgr_new_events), one per event and enabled webhook
-- whose domain and event types match, set-based, in the same transaction.
-- The payload is built as jsonb (SPEC section 7); timestamps are rendered in
-- UTC (the caller sets TimeZone).  A delivery's domain is the webhook's, or
-- the event's for a webhook of every domain.  Compiled into the library as
-- OUTBOX_SQL (src/webhooks.c).
INSERT INTO seatmgr.deliveries (domain_id, webhook_id, message_id, event_type, payload)
SELECT e.domain_id, w.webhook_id,
       -- unique by construction: one delivery per event and webhook; the
       -- statement's random prefix (one gen_random_uuid, not one per row:
       -- that was a third of the outbox's cost) keeps ids of two databases apart
       'msg_' || (SELECT pg_catalog.substr(pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', ''), 1, 16))
              || pg_catalog.to_hex(e.event_id) || '_' || pg_catalog.to_hex(w.webhook_id),
       e.type,
       pg_catalog.jsonb_build_object('type', e.type, 'timestamp', e.at, 'data', e.data)
  FROM (SELECT v.domain_id, ev.event_id, 'license.' || ev.event AS type, ev.at,
               pg_catalog.jsonb_build_object(
                   'event_id', ev.event_id,
                   'user_id', ev.user_id,
                   'email', u.email,
                   'external_id', u.external_id,
                   'domain', dm.name,
                   'division_id', ev.division_id,
                   'division', v.name,
                   'product', v.product,
                   'status', CASE ev.event WHEN 'granted' THEN 'active' WHEN 'reactivated' THEN 'active'
                                           WHEN 'warned' THEN 'active' WHEN 'removed' THEN 'removed'
                                           ELSE ev.event END,
                   'source_kind', ev.source_kind,
                   'source_ref', ev.source_ref,
                   'run_id', ev.run_id,
                   'actor', ev.actor)
               || CASE WHEN ev.event = 'warned' THEN
                      -- the notice the run opened with this event, still open at the end
                      -- of the run's statement (R14; notices_open_key)
                      coalesce((SELECT pg_catalog.jsonb_build_object('notice_id', n.notice_id, 'deadline', n.deadline)
                                  FROM seatmgr.notices n
                                 WHERE n.domain_id = v.domain_id AND n.division_id = ev.division_id
                                   AND n.user_id = ev.user_id AND n.closed_at IS NULL
                                   AND n.run_id = ev.run_id),
                               pg_catalog.jsonb_build_object('notice_id', NULL::bigint, 'deadline', NULL::timestamptz))
                  ELSE '{}'::jsonb END AS data
          FROM seatmgr_new_events ev
          JOIN seatmgr.divisions v ON v.division_id = ev.division_id
          JOIN seatmgr.domains dm ON dm.domain_id = v.domain_id
          LEFT JOIN seatmgr.users u ON u.user_id = ev.user_id) e
  JOIN seatmgr.webhooks w
    ON w.enabled
   AND (w.domain_id IS NULL OR w.domain_id = e.domain_id)
   AND (w.event_types IS NULL OR e.type = ANY (w.event_types))
