-- pgTAP: signed webhooks (SPEC section 7): R17 the outbox (deliveries in the
-- same transaction as the change, filters, payloads, restores), R18
-- seatmgr_redeliver, validation of webhooks (no message echoes a secret),
-- and who may see and manage webhooks and deliveries (R20).  Sending is
-- tested against a real receiver in t/webhooks.pl.
BEGIN;
CREATE EXTENSION seatmgr;
SELECT no_plan();

-- acme.com (1): Eng (1); other.com (2): Theirs (2)
INSERT INTO seatmgr.domains (name) VALUES ('acme.com'), ('other.com');
INSERT INTO seatmgr.divisions (domain_id, name, product) VALUES (1, 'Eng', 'asana'), (2, 'Theirs', 'default');
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'E'), (2, 2, 'T');
INSERT INTO seatmgr.users (domain_id, email, external_id) VALUES
  (1, 'ann@acme.com', 'ext-ann'), (1, 'bob@acme.com', NULL), (2, 'zed@other.com', NULL);
INSERT INTO seatmgr.team_members (team_id, user_id, added_at) VALUES (1, 1, '2024-01-01');

SELECT is((SELECT count(*) FROM seatmgr.deliveries), 0::bigint,
          'R17: without a webhook a license event creates no delivery');

-- 1: every domain, every event; 2: acme, granted only; 3: other.com; 4: disabled
INSERT INTO seatmgr.webhooks (domain_id, url, secret, event_types, enabled) VALUES
  (NULL, 'https://hooks.example.com/all', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', NULL, true),
  (1, 'http://127.0.0.1:9/acme', DEFAULT, '{license.granted}', true),
  (2, 'https://other.example.com/', DEFAULT, NULL, true),
  (1, 'https://off.example.com/', DEFAULT, NULL, false);

INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 2);
SELECT results_eq($$SELECT webhook_id, domain_id, event_type, status, attempts FROM seatmgr.deliveries ORDER BY webhook_id$$,
                  $$VALUES (1::bigint, 1::bigint, 'license.granted', 'pending', 0), (2, 1, 'license.granted', 'pending', 0)$$,
                  'R17: a grant creates one pending delivery per enabled webhook whose domain and event types match, in its domain');
SELECT is((SELECT count(*) FROM seatmgr.deliveries WHERE created_at = now()), 2::bigint,
          'R17: the deliveries are created in the transaction of the change');

SELECT is((SELECT payload FROM seatmgr.deliveries WHERE webhook_id = 1) - 'timestamp',
          jsonb_build_object('type', 'license.granted', 'data', jsonb_build_object(
            'event_id', (SELECT max(event_id) FROM seatmgr.license_events), 'user_id', 2, 'email', 'bob@acme.com',
            'external_id', NULL, 'domain', 'acme.com', 'division_id', 1, 'division', 'Eng', 'product', 'asana',
            'status', 'active', 'source_kind', 'team', 'source_ref', 1, 'run_id', NULL, 'actor', current_user)),
          'R17: the payload of license.granted holds every documented key (jsonb)');
SELECT ok((SELECT payload->>'timestamp' FROM seatmgr.deliveries WHERE webhook_id = 1) ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$',
          'R17: the payload''s timestamp is ISO 8601 in UTC');
SELECT ok((SELECT bool_and(message_id ~ '^msg_[0-9a-f]{16}[0-9a-f]+_[0-9a-f]+$') FROM seatmgr.deliveries),
          'R17: message_id is msg_ followed by a unique token');
SELECT is((SELECT count(DISTINCT message_id) FROM seatmgr.deliveries), 2::bigint, 'R17: every delivery has its own message_id');

SAVEPOINT undone;
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (2, 3);
SELECT is((SELECT count(*) FROM seatmgr.deliveries WHERE domain_id = 2), 2::bigint,
          'R17: an event of other.com goes to the webhook of every domain and to other.com''s');
ROLLBACK TO SAVEPOINT undone;
SELECT is((SELECT count(*) FROM seatmgr.deliveries WHERE domain_id = 2), 0::bigint,
          'R17: a rolled-back change leaves no delivery');

-- removal: status 'removed'; the acme webhook takes grants only
DELETE FROM seatmgr.team_members WHERE user_id = 2;
SELECT results_eq($$SELECT webhook_id, payload->'data'->>'status', payload->>'type' FROM seatmgr.deliveries WHERE event_type = 'license.removed'$$,
                  $$VALUES (1::bigint, 'removed', 'license.removed')$$,
                  'R17: license.removed carries status removed, and only to webhooks whose event types match');

-- a run: run.finished with the run's row of seatmgr.run_history
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after) VALUES (1, '30 days');
UPDATE seatmgr.users SET last_active_at = now() - interval '1 year' WHERE user_id = 1;
SELECT count(*) FROM seatmgr_run(1);
SELECT is((SELECT payload->'data' FROM seatmgr.deliveries WHERE event_type = 'run.finished'),
          (SELECT to_jsonb(h) FROM seatmgr.run_history h),
          'R17: run.finished carries the run''s row as in seatmgr.run_history');
SELECT results_eq($$SELECT event_type, payload->'data'->>'status', (payload->'data'->>'run_id')::bigint FROM seatmgr.deliveries
                     WHERE event_type = 'license.deactivated'$$,
                  $$VALUES ('license.deactivated', 'deactivated', (SELECT max(run_id) FROM seatmgr.runs))$$,
                  'R17: a run''s deactivation is delivered with the run''s id and status deactivated');

-- a run that warns (R14): license.warned carries the notice it opened
UPDATE seatmgr.policies SET notice_period = '7 days' WHERE division_id = 1;
INSERT INTO seatmgr.users (domain_id, email) VALUES (1, 'cy@acme.com');
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
  SELECT 1, user_id, '2024-01-01' FROM seatmgr.users WHERE email = 'cy@acme.com';
SELECT count(*) FROM seatmgr_run(1);
SELECT results_eq($$SELECT (d.payload->'data'->>'notice_id')::bigint, (d.payload->'data'->>'deadline')::timestamptz,
                           d.payload->'data'->>'status', (d.payload->'data'->>'run_id')::bigint
                      FROM seatmgr.deliveries d WHERE d.event_type = 'license.warned' AND d.webhook_id = 1$$,
                  $$SELECT n.notice_id, n.deadline, 'active', n.run_id FROM seatmgr.notices n
                     JOIN seatmgr.users u USING (user_id) WHERE u.email = 'cy@acme.com'$$,
                  'R17: license.warned carries the notice''s id and deadline, and status active (R14)');
SELECT ok((SELECT payload->'data'->>'deadline' FROM seatmgr.deliveries WHERE event_type = 'license.warned' AND webhook_id = 1)
            ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$',
          'R17: license.warned''s deadline is ISO 8601 in UTC');
SELECT is((SELECT (payload->'data'->>'users_warned')::int FROM seatmgr.deliveries
            WHERE event_type = 'run.finished' AND (payload->'data'->>'run_id')::bigint = (SELECT max(run_id) FROM seatmgr.runs)),
          1, 'R17: run.finished of a run that warned counts users_warned');

-- an undo is a run too (R16): it sends run.finished, and its seats given back
SELECT count(*) FROM seatmgr_undo_run((SELECT min(run_id) FROM seatmgr.runs));
SELECT results_eq($$SELECT payload->'data'->>'trigger', payload->'data'->>'status', (payload->'data'->>'users_added')::int
                      FROM seatmgr.deliveries WHERE event_type = 'run.finished' AND webhook_id = 1
                       AND (payload->'data'->>'run_id')::bigint = (SELECT max(run_id) FROM seatmgr.runs)$$,
                  $$VALUES ('undo', 'succeeded', 1)$$,
                  'R17: an undo run sends run.finished (trigger undo)');
SELECT is((SELECT count(*) FROM seatmgr.deliveries d JOIN seatmgr.users u ON u.user_id = (d.payload->'data'->>'user_id')::bigint
            WHERE d.event_type = 'license.reactivated' AND d.webhook_id = 1 AND u.email = 'ann@acme.com'),
          1::bigint, 'R17: the seat an undo gives back is delivered as license.reactivated');

-- a restore (a superuser with row_security off) creates no delivery: the dump has them
SELECT count(*) AS before FROM seatmgr.deliveries \gset
SET row_security = off;
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (1, 2);
RESET row_security;
SELECT is((SELECT count(*) FROM seatmgr.deliveries), :before::bigint, 'R17: a restore session creates no delivery');

-- disabled: nothing new; enabled again: its deliveries flow
UPDATE seatmgr.webhooks SET enabled = true WHERE webhook_id = 4;
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'E2');
INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (3, 2);
SELECT is((SELECT count(*) FROM seatmgr.deliveries WHERE webhook_id = 4), 1::bigint,
          'R17: an enabled webhook of the domain with every event type gets the event');

-- validation: 22023 naming the URL, never the secret
SELECT throws_ok($$INSERT INTO seatmgr.webhooks (url) VALUES ('ftp://files.example.com/')$$, '22023',
                 'webhook url "ftp://files.example.com/" is not an http or https URL', 'R17: a URL that is not http or https is refused, named');
SELECT throws_ok($$INSERT INTO seatmgr.webhooks (url) VALUES ('javascript:alert(1)')$$, '22023', NULL, 'R17: a javascript: URL is refused');
SELECT throws_ok($$INSERT INTO seatmgr.webhooks (url, secret) VALUES ('https://x.example.com/', 'whsec_c2hvcnQ=')$$, '22023',
                 'webhook secret is not "whsec_" followed by the base64 of 24 to 64 bytes',
                 'R17: a secret of fewer than 24 bytes is refused without echoing it');
SELECT throws_ok($$INSERT INTO seatmgr.webhooks (url, secret) VALUES ('https://x.example.com/', 'topsecret-value-not-whsec')$$, '22023',
                 'webhook secret is not "whsec_" followed by the base64 of 24 to 64 bytes',
                 'R17: a secret without whsec_ is refused without echoing it');
SELECT throws_ok($$INSERT INTO seatmgr.webhooks (url, secret) VALUES ('https://x.example.com/', 'whsec_' || repeat('QUFB', 30))$$, '22023',
                 'webhook secret is not "whsec_" followed by the base64 of 24 to 64 bytes', 'R17: a secret of more than 64 bytes is refused');
SELECT throws_ok($$INSERT INTO seatmgr.webhooks (url, event_types) VALUES ('https://x.example.com/', '{license.granted,license.nope}')$$, '22023',
                 'unknown webhook event type "license.nope"', 'R17: an unknown event type is refused, named');
SELECT throws_ok($$INSERT INTO seatmgr.webhooks (url) VALUES (NULL)$$, '23502', NULL, 'R17: a NULL url is refused (23502)');
SELECT throws_ok($$INSERT INTO seatmgr.webhooks (url, secret) VALUES ('https://x.example.com/', NULL)$$, '23502', NULL,
                 'R17: a NULL secret is refused (23502); leaving it out generates one');
SELECT throws_ok($$INSERT INTO seatmgr.webhooks (url, enabled) VALUES ('https://x.example.com/', NULL)$$, '23502', NULL,
                 'R17: a NULL enabled is refused (23502)');
SELECT throws_ok($$INSERT INTO seatmgr.webhooks (domain_id, url) VALUES (99, 'https://x.example.com/')$$, '23503',
                 'domain 99 does not exist', 'R17: an unknown domain is refused, named');
SELECT ok((SELECT secret ~ '^whsec_[A-Za-z0-9+/]{43}=$' AND length(decode(substr(secret, 7), 'base64')) = 32
             FROM seatmgr.webhooks WHERE webhook_id = 2),
          'R17: a secret not given is generated: whsec_ and the base64 of 32 random bytes');
SELECT isnt((SELECT secret FROM seatmgr.webhooks WHERE webhook_id = 2), (SELECT secret FROM seatmgr.webhooks WHERE webhook_id = 3),
            'R17: generated secrets differ');

-- R18: seatmgr_redeliver
SELECT min(delivery_id) AS d2 FROM seatmgr.deliveries WHERE webhook_id = 2 \gset
UPDATE seatmgr.deliveries SET status = 'delivered', attempts = 1, delivered_at = now() WHERE delivery_id = :d2;
UPDATE seatmgr.deliveries SET status = 'failed', attempts = 8, last_error = 'HTTP status 500' WHERE webhook_id = 4;
SELECT message_id AS msg FROM seatmgr.deliveries WHERE delivery_id = :d2 \gset
SELECT lives_ok(format('SELECT seatmgr_redeliver(%s)', :d2),
                'R18: seatmgr_redeliver of a delivered delivery');
SELECT results_eq(format('SELECT status, attempts, message_id, delivered_at FROM seatmgr.deliveries WHERE delivery_id = %s', :d2),
                  format($$VALUES ('pending', 0, %L, NULL::timestamptz)$$, :'msg'),
                  'R18: it is pending again, attempts reset, with the same message_id (webhook-id)');
SELECT results_eq(format('SELECT count(*) FROM seatmgr.deliveries WHERE message_id = %L', :'msg'), $$VALUES (1::bigint)$$,
                  'R18: redelivering creates no new delivery');
SELECT lives_ok($$SELECT seatmgr_redeliver((SELECT min(delivery_id) FROM seatmgr.deliveries WHERE webhook_id = 4))$$,
                'R18: seatmgr_redeliver of a failed delivery');
SELECT is((SELECT status FROM seatmgr.deliveries WHERE delivery_id = (SELECT min(delivery_id) FROM seatmgr.deliveries WHERE webhook_id = 4)),
          'pending', 'R18: a failed delivery is pending again');
UPDATE seatmgr.deliveries SET attempts = 3 WHERE delivery_id = :d2;
SELECT lives_ok(format('SELECT seatmgr_redeliver(%s)', :d2),
                'R18: seatmgr_redeliver of a pending delivery is no error');
SELECT is((SELECT attempts FROM seatmgr.deliveries WHERE delivery_id = :d2), 3,
          'R18: ... and changes nothing (a NOTICE says so)');
SELECT throws_ok($$SELECT seatmgr_redeliver(999)$$, '42704', 'delivery 999 does not exist', 'R18: an unknown delivery is refused, named');
SELECT throws_ok($$SELECT seatmgr_redeliver(NULL)$$, '22004', 'delivery_id must not be NULL', 'R18: a NULL delivery_id is refused');

-- R20: who sees and manages webhooks and deliveries
CREATE ROLE seatmgr_t_hook_app;  CREATE ROLE seatmgr_t_hook_reader; CREATE ROLE seatmgr_t_hook_admin_all;
CREATE ROLE seatmgr_t_hook_admin_acme; CREATE ROLE seatmgr_t_hook_admin_eng;
SELECT seatmgr_allow('seatmgr_t_hook_app', 'app');
SELECT seatmgr_allow('seatmgr_t_hook_reader', 'reader', domain_id => 1);
SELECT seatmgr_allow('seatmgr_t_hook_admin_all', 'admin');
SELECT seatmgr_allow('seatmgr_t_hook_admin_acme', 'admin', domain_id => 1);
SELECT seatmgr_allow('seatmgr_t_hook_admin_eng', 'admin', division_id => 1);

SET ROLE seatmgr_t_hook_app;
SELECT throws_ok($$SELECT url FROM seatmgr.webhooks$$, '42501', NULL, 'R20: app reads no webhook');
SELECT throws_ok($$SELECT count(*) FROM seatmgr.deliveries$$, '42501', NULL, 'R20: app reads no delivery');
RESET ROLE;

SET ROLE seatmgr_t_hook_reader;
SELECT throws_ok($$SELECT secret FROM seatmgr.webhooks$$, '42501', 'permission denied for table webhooks',
                 'R20: a reader never reads a webhook''s secret');
SELECT results_eq($$SELECT webhook_id FROM seatmgr.webhooks ORDER BY 1$$, $$VALUES (2::bigint), (4)$$,
                  'R20: a reader of acme sees acme''s webhooks (not the secret), not those of every domain or of other.com');
SELECT results_eq($$SELECT DISTINCT webhook_id FROM seatmgr.deliveries ORDER BY 1$$, $$VALUES (2::bigint), (4)$$,
                  'R20: a reader of acme sees the deliveries of acme''s webhooks only');
SELECT throws_ok($$INSERT INTO seatmgr.webhooks (domain_id, url) VALUES (1, 'https://x.example.com/')$$, '42501', NULL,
                 'R20: a reader creates no webhook');
RESET ROLE;

SET ROLE seatmgr_t_hook_admin_acme;
SELECT results_eq($$SELECT webhook_id, secret IS NOT NULL FROM seatmgr.webhooks ORDER BY 1$$, $$VALUES (2::bigint, true), (4, true)$$,
                  'R20: an admin of acme manages acme''s webhooks, secrets included, and sees no other');
SELECT lives_ok($$INSERT INTO seatmgr.webhooks (domain_id, url) VALUES (1, 'https://acme.example.com/hook')$$,
                'R20: an admin of acme creates a webhook of acme');
SELECT throws_like($$INSERT INTO seatmgr.webhooks (domain_id, url) VALUES (2, 'https://x.example.com/')$$,
                   'permission denied for domain 2', 'R20: ... not one of another domain (42501 naming it)');
SELECT throws_like($$INSERT INTO seatmgr.webhooks (domain_id, url) VALUES (NULL, 'https://x.example.com/')$$,
                   'permission denied for webhook %', 'R20: ... nor one of every domain');
SELECT is((SELECT count(*) FROM seatmgr.deliveries WHERE webhook_id = 1), 0::bigint,
          'R20: an admin of acme does not see the deliveries of a webhook of every domain');
SET LOCAL client_min_messages = warning;
SELECT lives_ok(format('SELECT seatmgr_redeliver(%s)', :d2),
                'R20: an admin of acme redelivers a delivery of acme');
RESET client_min_messages;
SELECT throws_ok($$UPDATE seatmgr.deliveries SET status = 'delivered'$$, '42501', NULL,
                 'R20: nobody but seatmgr writes deliveries');
SELECT throws_ok($$CALL seatmgr_deliver()$$, '42501', 'permission denied for procedure seatmgr_deliver',
                 'R19: a scoped admin does not deliver every domain''s webhooks');
RESET ROLE;
SELECT min(delivery_id) AS everyones FROM seatmgr.deliveries WHERE webhook_id = 1 \gset
SET ROLE seatmgr_t_hook_admin_acme;
SELECT throws_ok(format('SELECT seatmgr_redeliver(%s)', :everyones), '42501', format('permission denied for delivery %s', :everyones),
                 'R20: a scoped admin may not redeliver a delivery of a webhook of every domain (42501 naming it)');
RESET ROLE;

SET ROLE seatmgr_t_hook_admin_eng;
SELECT throws_like($$INSERT INTO seatmgr.webhooks (domain_id, url) VALUES (1, 'https://x.example.com/')$$,
                   'permission denied for domain 1', 'R20: a division-scoped admin creates no webhook');
RESET ROLE;

SET ROLE seatmgr_t_hook_admin_all;
SELECT lives_ok($$INSERT INTO seatmgr.webhooks (domain_id, url) VALUES (NULL, 'https://all.example.com/')$$,
                'R20: an unscoped admin creates a webhook of every domain');
SELECT is((SELECT count(*) FROM seatmgr.deliveries WHERE webhook_id = 1) > 0, true,
          'R20: an unscoped admin sees the deliveries of a webhook of every domain');
SELECT lives_ok($$DELETE FROM seatmgr.webhooks WHERE webhook_id = 1$$, 'R20: an unscoped admin deletes a webhook');
RESET ROLE;
SELECT is((SELECT count(*) FROM seatmgr.deliveries WHERE webhook_id = 1), 0::bigint,
          'R17: a deleted webhook takes its deliveries with it');
SELECT ok((SELECT count(*) FROM seatmgr.deliveries) > 0, '... and only its own');

-- the outbox builds payloads in C (src/webhooks.c): each is the documented
-- shape as SQL builds it (jsonb_build_object, timestamps rendered in UTC),
-- equal as jsonb and as text whatever the session's TimeZone; a statement
-- of 4,400 deliveries goes through several batches
SET TimeZone = 'Asia/Kolkata';
INSERT INTO seatmgr.users (domain_id, email, external_id)
  SELECT 1, 'bulk' || i || '@acme.com', CASE WHEN i % 2 = 0 THEN 'ext-' || i END FROM generate_series(1, 1100) i;
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'Bulk');
SELECT count(*) AS before FROM seatmgr.deliveries \gset
INSERT INTO seatmgr.team_members (team_id, user_id)
  SELECT t.team_id, u.user_id FROM seatmgr.users u, seatmgr.teams t WHERE u.email LIKE 'bulk%' AND t.name = 'Bulk';
SELECT is((SELECT count(*) FROM seatmgr.webhooks WHERE enabled AND (domain_id IS NULL OR domain_id = 1)
             AND (event_types IS NULL OR 'license.granted' = ANY (event_types))), 4::bigint, '... four webhooks match');
SELECT is((SELECT count(*) FROM seatmgr.deliveries) - :before, 4400::bigint,
          'R17: one bulk invite of 1,100 users: one delivery per event and matching webhook (4 each), several batches');
SELECT is((SELECT count(DISTINCT message_id) FROM seatmgr.deliveries), (SELECT count(*) FROM seatmgr.deliveries),
          'R17: every delivery of a bulk invite has its own message_id');
SELECT ok((SELECT bool_and(payload->>'timestamp' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$') FROM seatmgr.deliveries),
          'R17: timestamps are rendered in UTC whatever the session''s TimeZone');
SET TimeZone = 'UTC';
SELECT is((SELECT count(*) FROM seatmgr.deliveries d JOIN seatmgr.license_events ev
             ON ev.event_id = (d.payload->'data'->>'event_id')::bigint
           JOIN seatmgr.divisions v ON v.division_id = ev.division_id
           JOIN seatmgr.domains dm ON dm.domain_id = v.domain_id
           LEFT JOIN seatmgr.users u ON u.user_id = ev.user_id
          WHERE ev.event <> 'warned'
            AND d.payload::text IS NOT DISTINCT FROM jsonb_build_object(
                  'type', 'license.' || ev.event, 'timestamp', ev.at, 'data', jsonb_build_object(
                  'event_id', ev.event_id, 'user_id', ev.user_id, 'email', u.email, 'external_id', u.external_id,
                  'domain', dm.name, 'division_id', ev.division_id, 'division', v.name, 'product', v.product,
                  'status', CASE ev.event WHEN 'granted' THEN 'active' WHEN 'reactivated' THEN 'active' ELSE ev.event END,
                  'source_kind', ev.source_kind, 'source_ref', ev.source_ref, 'run_id', ev.run_id, 'actor', ev.actor))::text),
          (SELECT count(*) FROM seatmgr.deliveries WHERE event_type LIKE 'license.%' AND event_type <> 'license.warned'),
          'R17: every license payload is byte for byte the documented shape built by SQL (jsonb, UTC timestamps)');
RESET TimeZone;

SELECT * FROM finish();
ROLLBACK;
