-- seatmgr 0.1.0 -> 0.2.0.  Every schema change of 0.2.0, in the order it was made;
-- t/upgrade.t checks that 0.1.0 updated through this file equals a fresh 0.2.0.

\echo Use "ALTER EXTENSION seatmgr UPDATE TO '0.2.0'" to load this file. \quit
