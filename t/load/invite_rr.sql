-- R1 and R6 under REPEATABLE READ: a grant that cannot be checked safely is 40001
\set u random(1, :U)
\if random(1, 4) = 1
\set u random(1, :HOT)
\endif
\if :u <= :U1
\set t random(1, :T1)
\set d random(1, :D1)
\else
\set t random(:T1 + 1, :T)
\set d random(:D1 + 1, :D)
\endif
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT load.try('invite_rr', format('INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (%s, %s)', :t, :u));
COMMIT;
