-- R5: a share deleted (one the user received or gave)
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
SELECT load.try('unshare', format('DELETE FROM seatmgr.shares WHERE share_id IN (SELECT share_id FROM seatmgr.shares WHERE recipient_id = %s OR sharer_id = %s ORDER BY random() LIMIT 1)', :u, :u));
