-- R4: an admin grant (53400 when the division is full and on_full = 'error',
-- 55000 into the unpaid division)
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
SELECT load.try('grant', format('SELECT seatmgr_grant_license(%s, %s)', :u, :d));
