-- R4: an admin removal, of one of the user's licenses when there is one
-- (42704 without a license, 2BP01 for one held through a group)
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
SELECT load.try('remove', format('SELECT seatmgr_remove_license(%s, %s)', :u,
       coalesce((SELECT division_id FROM seatmgr.licenses WHERE user_id = :u ORDER BY random() LIMIT 1), :d)));
