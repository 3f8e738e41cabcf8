-- R17, run.finished: the deliveries of one finished run ($1), its row as in
-- seatmgr.run_history, one per enabled webhook whose domain and event types
-- match.  Called when a run ends, succeeded or failed (src/sweep.c), and by
-- any other kind of run (an undo) through sm_run_finished.  Compiled into
-- the library as RUN_FINISHED_SQL (src/webhooks.c).
INSERT INTO seatmgr.deliveries (domain_id, webhook_id, message_id, event_type, payload)
SELECT v.domain_id, w.webhook_id,
       'msg_' || pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', ''),
       'run.finished',
       pg_catalog.jsonb_build_object('type', 'run.finished', 'timestamp', pg_catalog.clock_timestamp(),
                                     'data', pg_catalog.to_jsonb(h))
  FROM seatmgr.run_history h
  JOIN seatmgr.divisions v ON v.division_id = h.division_id
  JOIN seatmgr.webhooks w
    ON w.enabled
   AND (w.domain_id IS NULL OR w.domain_id = v.domain_id)
   AND (w.event_types IS NULL OR 'run.finished' = ANY (w.event_types))
 WHERE h.run_id = $1
