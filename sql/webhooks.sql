------------------------------------------------------------------------------
-- Signed webhooks (0.2.0, SPEC section 7): seatmgr.webhooks, the outbox
-- seatmgr.deliveries, seatmgr_redeliver and CALL seatmgr_deliver().  The
-- Makefile appends this same text, after sql/access.sql, to the install
-- script and to the 0.1.0 -> 0.2.0 update; src/webhooks.c and
-- src/deliver.c have the why, README.md (Webhooks) the how.
------------------------------------------------------------------------------

CREATE FUNCTION seatmgr.new_webhook_secret() RETURNS text
    AS 'MODULE_PATHNAME', 'seatmgr_new_webhook_secret' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION seatmgr.new_webhook_secret() IS 'A new webhook secret: whsec_ and the base64 of 32 bytes from pg_strong_random';

CREATE TABLE seatmgr.webhooks (
    webhook_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain_id   bigint REFERENCES seatmgr.domains ON DELETE CASCADE,
    url         text NOT NULL,
    secret      text NOT NULL DEFAULT seatmgr.new_webhook_secret(),
    event_types text[],
    enabled     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX ON seatmgr.webhooks (domain_id);
COMMENT ON TABLE seatmgr.webhooks IS 'Where to send what (R17): a URL, its signing secret, the event types (NULL: all) of one domain (NULL: every domain)';

-- The outbox.  No foreign keys: a committed event is delivered even when
-- its domain is deleted afterwards, and a bulk invite pays no foreign key
-- check per delivery (a quarter of the outbox's cost, docs/benchmarks.md);
-- deleting a webhook deletes its deliveries (seatmgr.webhooks_changed).
CREATE TABLE seatmgr.deliveries (
    domain_id       bigint NOT NULL,
    delivery_id     bigint GENERATED ALWAYS AS IDENTITY,
    webhook_id      bigint NOT NULL,
    message_id      text NOT NULL,
    event_type      text NOT NULL,
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    last_attempt_at timestamptz,
    last_status     integer,
    last_error      text,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (domain_id, delivery_id),
    UNIQUE (domain_id, message_id)
);
CREATE INDEX deliveries_id_idx ON seatmgr.deliveries (delivery_id);
CREATE INDEX deliveries_pending_idx ON seatmgr.deliveries (next_attempt_at) WHERE status = 'pending';
COMMENT ON TABLE seatmgr.deliveries IS 'The outbox of webhooks and its history (R17, R18): one row per event and matching webhook, pending until delivered or failed';

SELECT pg_catalog.pg_extension_config_dump('seatmgr.webhooks', '');
SELECT pg_catalog.pg_extension_config_dump('seatmgr.deliveries', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('seatmgr.webhooks', 'webhook_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('seatmgr.deliveries', 'delivery_id')::regclass, '');

CREATE FUNCTION seatmgr.validate_webhooks() RETURNS trigger
    AS 'MODULE_PATHNAME', 'seatmgr_validate_webhooks' LANGUAGE C
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr.validate_webhooks() IS 'Internal: rejects bad rows of seatmgr.webhooks with a message that names the bad value, never the secret (SPEC section 5)';
REVOKE ALL ON FUNCTION seatmgr.validate_webhooks() FROM PUBLIC;
CREATE TRIGGER seatmgr_validate BEFORE INSERT OR UPDATE ON seatmgr.webhooks
    FOR EACH ROW EXECUTE FUNCTION seatmgr.validate_webhooks();

CREATE FUNCTION seatmgr.webhooks_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'seatmgr_webhooks_changed' LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr.webhooks_changed() IS 'Internal: every backend forgets whether the database has an enabled webhook; deleted webhooks take their deliveries; the delivery worker wakes for a webhook enabled again';
REVOKE ALL ON FUNCTION seatmgr.webhooks_changed() FROM PUBLIC;
CREATE TRIGGER seatmgr_webhooks_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON seatmgr.webhooks
    FOR EACH STATEMENT EXECUTE FUNCTION seatmgr.webhooks_changed();

-- R17: the license events one statement inserts become deliveries in the
-- same transaction, set-based (nothing at all when no webhook is enabled)
CREATE FUNCTION seatmgr.events_to_outbox() RETURNS trigger
    AS 'MODULE_PATHNAME', 'seatmgr_events_to_outbox' LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr.events_to_outbox() IS 'Internal: one pending delivery per license event and matching enabled webhook (R17)';
REVOKE ALL ON FUNCTION seatmgr.events_to_outbox() FROM PUBLIC;
CREATE TRIGGER seatmgr_outbox AFTER INSERT ON seatmgr.license_events
    REFERENCING NEW TABLE AS seatmgr_new_events
    FOR EACH STATEMENT EXECUTE FUNCTION seatmgr.events_to_outbox();

CREATE TRIGGER seatmgr_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON seatmgr.deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION seatmgr.guard_maintained();

CREATE FUNCTION seatmgr_redeliver(delivery_id bigint) RETURNS void
    AS 'MODULE_PATHNAME', 'seatmgr_redeliver' LANGUAGE C VOLATILE SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION seatmgr_redeliver(bigint) IS 'Makes a delivered or failed delivery pending again, with the same message_id (webhook-id) and its attempts reset (R18)';
REVOKE ALL ON FUNCTION seatmgr_redeliver(bigint) FROM PUBLIC;

CREATE PROCEDURE seatmgr_deliver()
    AS 'MODULE_PATHNAME', 'seatmgr_deliver' LANGUAGE C SECURITY INVOKER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON PROCEDURE seatmgr_deliver() IS 'One delivery pass in this session: sends the pending deliveries that are due (R19; for servers without seatmgr in shared_preload_libraries, or from pg_cron)';
REVOKE ALL ON PROCEDURE seatmgr_deliver() FROM PUBLIC;

-- R20: webhooks of every domain, and their deliveries, are seen by unscoped
-- roles only; a domain's by the roles that see the domain.
ALTER TABLE seatmgr.webhooks ENABLE ROW LEVEL SECURITY;
CREATE POLICY seatmgr_scope ON seatmgr.webhooks
    USING (CASE WHEN domain_id IS NULL THEN seatmgr.unscoped() ELSE seatmgr.sees(domain_id, NULL) END);
ALTER TABLE seatmgr.deliveries ENABLE ROW LEVEL SECURITY;
CREATE POLICY seatmgr_scope ON seatmgr.deliveries
    USING (seatmgr.unscoped()
           OR (seatmgr.sees(domain_id, NULL)
               AND webhook_id IN (SELECT w.webhook_id FROM seatmgr.webhooks w WHERE w.domain_id IS NOT NULL)));
