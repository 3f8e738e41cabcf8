-- R1: a team invite (a duplicate is 23505; a free team gives nothing)
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
SELECT load.try('invite', format('INSERT INTO seatmgr.team_members (team_id, user_id) VALUES (%s, %s)', :t, :u));
