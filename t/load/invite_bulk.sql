-- R1 in bulk: ten users of one domain invited to one of its teams in one statement
\if random(1, 4) = 1
\set u random(:U1 + 1, :U - 9)
\set t random(:T1 + 1, :T)
\else
\set u random(1, :U1 - 9)
\set t random(1, :T1)
\endif
SELECT load.try('invite_bulk', format('INSERT INTO seatmgr.team_members (team_id, user_id) SELECT %s, g FROM generate_series(%s, %s) g ON CONFLICT DO NOTHING', :t, :u, :u + 9));
