-- R5: a team leave (one of the user's teams)
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
SELECT load.try('leave', format('DELETE FROM seatmgr.team_members WHERE (team_id, user_id) IN (SELECT team_id, user_id FROM seatmgr.team_members WHERE user_id = %s ORDER BY random() LIMIT 1)', :u));
