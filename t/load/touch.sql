-- activity: one user, or up to ten in one call; users whose id is a
-- multiple of 3 are never active, so the short policies keep taking seats
\set u random(1, :U)
\if random(1, 4) = 1
\set u random(1, :HOT)
\endif
\if :u % 3 = 0
\set u :u - 1
\endif
\if random(1, 5) = 1
SELECT load.try('touch_many', format('SELECT seatmgr_touch(ARRAY(SELECT g FROM generate_series(%s, %s) g WHERE g %% 3 <> 0)::bigint[])', :u, least(:u + 9, :U)));
\else
SELECT load.try('touch', format('SELECT seatmgr_touch(%s)', :u));
\endif
