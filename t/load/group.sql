-- R3: joining or leaving the domain's group (which grants a division)
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
\if :u <= :U1
\set g 1
\else
\set g 2
\endif
\if random(1, 2) = 1
SELECT load.try('group_join', format('INSERT INTO seatmgr.group_members (group_id, user_id) VALUES (%s, %s)', :g, :u));
\else
SELECT load.try('group_leave', format('DELETE FROM seatmgr.group_members WHERE group_id = %s AND user_id = %s', :g, :u));
\endif
