-- R7, R8, R13: a real manual run of a division with a policy (55P03 while
-- another run of it is in progress)
\set k random(1, 6)
\set d case when :k = 5 then 6 when :k = 6 then 7 else :k end
SELECT load.try('run', format('SELECT count(*) FROM seatmgr_run(%s)', :d));
