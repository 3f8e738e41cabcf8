-- bench/invite_one_seatmgr.sql: pgbench script, one team invite per
-- transaction through seatmgr's triggers (the pair is the next one of the
-- queue bench.q, as in bench/invite_one_bare.sql).
INSERT INTO seatmgr.team_members (team_id, user_id)
SELECT team_id, user_id FROM bench.q WHERE id = (SELECT nextval('bench.q_seq'));
