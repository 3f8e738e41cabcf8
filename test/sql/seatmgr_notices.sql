-- seatmgr_notices: notices before a seat is taken (R14), answers (R15),
-- undo (R16) and seatmgr_simulate, with the exact output a person reads:
-- a preview with warned rows, the notices, seatmgr_explain's verdicts, an
-- undo's rows, a what-if, and every error message.  Times that depend on
-- the clock are not shown (deadlines are replaced by <deadline>).
CREATE EXTENSION seatmgr;

INSERT INTO seatmgr.domains (name) VALUES ('acme.com');
INSERT INTO seatmgr.divisions (domain_id, name, seat_limit, seat_price) VALUES (1, 'Enterprise', 4, 12.50);
INSERT INTO seatmgr.teams (domain_id, division_id, name) VALUES (1, 1, 'Team A');
INSERT INTO seatmgr.users (domain_id, email, last_active_at) VALUES
  (1, 'sam@acme.com', '2025-01-10'), (1, 'jo@acme.com', '2025-02-20'),
  (1, 'ann@acme.com', now() - interval '2 days'), (1, 'bob@acme.com', now() - interval '1 day');
INSERT INTO seatmgr.team_members (team_id, user_id, added_at)
SELECT 1, user_id, '2024-06-01' FROM seatmgr.users ORDER BY user_id;
INSERT INTO seatmgr.policies (division_id, revoke_inactive_after, notice_period)
VALUES (1, '90 days', '14 days');

-- R14: a preview shows the warnings a run would write; the seats stay
SELECT * FROM seatmgr_explain(1);
SELECT email, action, reason FROM seatmgr_run(1, preview => true);
SELECT email, action, reason FROM seatmgr_run(1);
SELECT n.notice_id, u.email, n.run_id, n.deadline - n.issued_at AS notice, n.answer, n.outcome
  FROM seatmgr.notices n JOIN seatmgr.users u USING (user_id) ORDER BY n.notice_id;
SELECT u.email, e.event, e.run_id FROM seatmgr.license_events e JOIN seatmgr.users u USING (user_id)
 WHERE e.event = 'warned' ORDER BY e.event_id;
SELECT status, count(*) FROM seatmgr.licenses GROUP BY status;
SELECT division_id, status, regexp_replace(verdict, '\d{4}-\d\d-\d\d \d\d:\d\d', '<deadline>') AS verdict
  FROM seatmgr_explain(1);

-- while the notices run, a run reports nothing about them
SELECT email, action, reason FROM seatmgr_run(1, preview => true);

-- what-if: the policy as it is, without notices, and a tighter one
SELECT * FROM seatmgr_simulate(1, '90 days', NULL, '14 days');
SELECT * FROM seatmgr_simulate(1, '90 days', NULL);
SELECT * FROM seatmgr_simulate(1, '1 hour', '30 days');

-- R15: Jo keeps the seat; the notice is closed 'kept'
SELECT seatmgr_answer_notice(2, 'keep');
SELECT notice_id, answer, outcome FROM seatmgr.notices ORDER BY notice_id;

-- the deadline passes: the next run deactivates Sam
UPDATE seatmgr.notices SET deadline = now() - interval '1 minute' WHERE notice_id = 1;
SELECT division_id, status, regexp_replace(verdict, '\d{4}-\d\d-\d\d \d\d:\d\d', '<deadline>') AS verdict
  FROM seatmgr_explain(1);
SELECT email, action, reason FROM seatmgr_run(1);
SELECT notice_id, answer, outcome FROM seatmgr.notices ORDER BY notice_id;
SELECT run_id, trigger, status, users_added, users_deactivated, users_warned, undoes_run_id
  FROM seatmgr.runs ORDER BY run_id;

-- R16: the run is undone: Sam's seat comes back, as a run of its own
SELECT run_id, email, action, reason FROM seatmgr_undo_run(2);
SELECT u.email, l.status, l.deactivated_by_run FROM seatmgr.licenses l JOIN seatmgr.users u USING (user_id)
 ORDER BY l.user_id;
SELECT run_id, trigger, status, users_added, users_deactivated, users_warned, undoes_run_id
  FROM seatmgr.runs ORDER BY run_id;

-- the errors a person reads
SELECT seatmgr_answer_notice(2, 'keep');
SELECT seatmgr_answer_notice(2, 'later');
SELECT seatmgr_answer_notice(99, 'keep');
SELECT seatmgr_answer_notice(NULL, 'keep');
SELECT * FROM seatmgr_undo_run(2);
SELECT * FROM seatmgr_undo_run(3);
SELECT * FROM seatmgr_undo_run(99);
SELECT * FROM seatmgr_simulate(1, '0 days', NULL);
SELECT * FROM seatmgr_simulate(1, NULL, '101 years');
UPDATE seatmgr.policies SET notice_period = '-1 day';

SET seatmgr.allow_drop_with_licenses = on;
DROP EXTENSION seatmgr;
