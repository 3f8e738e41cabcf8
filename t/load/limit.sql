-- R6: the seat limit of a limited division set near its active licenses
-- (23514 when below them); now and then lifted, then set again
\set k random(1, 4)
\set d case when :k = 1 then 1 when :k = 2 then 2 when :k = 3 then 3 else 6 end
\set delta random(-3, 25)
\if random(1, 20) = 1
SELECT load.try('limit', format('UPDATE seatmgr.divisions SET seat_limit = NULL WHERE division_id = %s', :d));
\else
SELECT load.try('limit', format('UPDATE seatmgr.divisions SET seat_limit = %s WHERE division_id = %s',
       greatest(0, (SELECT count(*) FROM seatmgr.licenses WHERE division_id = :d AND status = 'active') + :delta), :d));
\endif
