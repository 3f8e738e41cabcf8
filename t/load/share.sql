-- R2: a share between two users of one domain, with or without a division
\if random(1, 4) = 1
\set lo :U1 + 1
\set hi :U
\set dlo :D1 + 1
\set dhi :D
\else
\set lo 1
\set hi :U1
\set dlo 1
\set dhi :D1
\endif
\set s random(:lo, :hi)
\if random(1, 4) = 1
\set s random(:lo, :lo + :HOT)
\endif
\set r random(:lo, :hi)
\set o random(1, 100000)
\set dd random(:dlo, :dhi)
\if random(1, 4) = 1
SELECT load.try('share', format('INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id, division_id) VALUES (%L, %L, %s, %s, %s)', 'project', 'o' || :o, :s, :r, :dd));
\else
SELECT load.try('share', format('INSERT INTO seatmgr.shares (object_type, object_id, sharer_id, recipient_id) VALUES (%L, %L, %s, %s)', 'goal', 'o' || :o, :s, :r));
\endif
