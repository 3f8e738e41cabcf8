-- The floor of any outbox of seatmgr.deliveries, in plain SQL that never
-- calls seatmgr: one delivery row per user of bench/webhooks.sh's database,
-- as the outbox writes it for a license.granted event (the payload's keys
-- built by jsonb_build_object).  Columns: domain_id, webhook_id, message_id,
-- event_type, payload, status, attempts, next_attempt_at, created_at.
-- Used by bench/webhooks.sh and bench/outbox_instructions.sh.
SELECT u.domain_id, 1::bigint AS webhook_id, 'msg_0123456789abcdef' || to_hex(u.user_id) || '_1' AS message_id,
       'license.granted'::text AS event_type,
       jsonb_build_object('type', 'license.granted', 'timestamp', now(),
         'data', jsonb_build_object('event_id', u.user_id, 'user_id', u.user_id, 'email', u.email,
           'external_id', u.external_id, 'domain', 'acme.com', 'division_id', 1, 'division', 'Eng',
           'product', NULL, 'status', 'active', 'source_kind', 'team', 'source_ref', 1, 'run_id', NULL,
           'actor', current_user)) AS payload,
       'pending'::text AS status, 0 AS attempts, now() AS next_attempt_at, now() AS created_at
  FROM seatmgr.users u
