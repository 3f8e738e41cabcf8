-- bench/floor_setup.sql: plain copies of seatmgr's tables, for the floors.
--
--   psql -f bench/floor_setup.sql      (after bench/generate.sql)
--
-- Schema "floor" gets one table per base table of schema seatmgr, made with
-- LIKE ... INCLUDING ALL (same columns, defaults, identities, CHECKs and
-- indexes), the same foreign keys between them, the same rows, and no
-- trigger at all: what a hand-written implementation would write into.
-- Everything the floors and the PL/pgSQL peer do happens here; nothing in
-- schema floor calls seatmgr.

\set ON_ERROR_STOP on
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS floor CASCADE;
CREATE SCHEMA floor;

DO $$
DECLARE
    t record;
    c record;
    cols text;
BEGIN
    FOR t IN SELECT k.relname FROM pg_class k
              WHERE k.relnamespace = 'seatmgr'::regnamespace AND k.relkind = 'r' ORDER BY k.relname
    LOOP
        EXECUTE format('CREATE TABLE floor.%I (LIKE seatmgr.%I INCLUDING ALL)', t.relname, t.relname);
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
          FROM pg_attribute a
         WHERE a.attrelid = format('seatmgr.%I', t.relname)::regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attgenerated = '';
        EXECUTE format('INSERT INTO floor.%I (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM seatmgr.%I',
                       t.relname, cols, cols, t.relname);
    END LOOP;
    -- identities continue where seatmgr's do
    FOR c IN SELECT a.attrelid::regclass AS tbl, a.attname,
                    pg_get_serial_sequence(a.attrelid::regclass::text, a.attname) AS seq
               FROM pg_attribute a JOIN pg_class k ON k.oid = a.attrelid
              WHERE k.relnamespace = 'floor'::regnamespace AND a.attidentity <> ''
    LOOP
        EXECUTE format('SELECT setval(%L, coalesce((SELECT max(%I) FROM %s), 0) + 1, false)',
                       c.seq, c.attname, c.tbl);
    END LOOP;
    -- the same foreign keys, between the copies
    FOR c IN SELECT k.conrelid::regclass AS tbl, k.conname, pg_get_constraintdef(k.oid) AS def
               FROM pg_constraint k
              WHERE k.contype = 'f' AND k.connamespace = 'seatmgr'::regnamespace
    LOOP
        EXECUTE format('ALTER TABLE floor.%I ADD CONSTRAINT %I %s',
                       (SELECT relname FROM pg_class WHERE oid = c.tbl), c.conname,
                       replace(c.def, 'REFERENCES seatmgr.', 'REFERENCES floor.'));
    END LOOP;
END
$$;

SELECT format('VACUUM (ANALYZE) floor.%I', relname) FROM pg_class
 WHERE relnamespace = 'floor'::regnamespace AND relkind = 'r' ORDER BY relname \gexec
