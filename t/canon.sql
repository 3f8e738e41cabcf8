-- t/canon.sql: canonical text of a seatmgr database, shared by the tests in t/
-- (t/restore.pl, t/upgrade.pl).  Two parts, chosen with the psql variable part:
--
--   psql -X -At -v part=data    -f t/canon.sql
--       every row of every table in schema seatmgr (all columns, as the row's
--       text, ordered bytewise), each table headed by its row count, then the
--       position (last_value, is_called) of every sequence in schema seatmgr.
--       Two databases that print the same text hold the same organization.
--
--   psql -X -At -v part=catalog -f t/canon.sql
--       a description of every object that belongs to the extension
--       (pg_depend deptype 'e'): tables with their columns (sorted by name, so
--       that a column added by an upgrade script compares equal to the same
--       column of a fresh install), constraints, indexes, triggers, row-level
--       security and policies, ACLs and comments; functions and procedures
--       (pg_get_functiondef, proacl, prosecdef, proconfig); views
--       (pg_get_viewdef); sequences; schemas; event triggers; initial
--       privileges (pg_init_privs); the tables and conditions registered
--       with pg_extension_config_dump.  An upgraded install and a fresh one
--       must print the same text.
--
-- Nothing is created or changed in the database.
\set ON_ERROR_STOP on
SELECT :'part' = 'data' AS canon_data, :'part' = 'catalog' AS canon_catalog \gset

\if :canon_data

SELECT format('SELECT %L || '' rows: '' || count(*) FROM seatmgr.%I', c.relname, c.relname),
       format('SELECT %L || '': '' || t::text FROM seatmgr.%I t ORDER BY t::text COLLATE "C"', c.relname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'seatmgr' AND c.relkind IN ('r', 'p')
 ORDER BY c.relname COLLATE "C"
\gexec

SELECT format('SELECT %L || '': '' || last_value || '' '' || is_called FROM seatmgr.%I', 'sequence ' || c.relname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'seatmgr' AND c.relkind = 'S'
 ORDER BY c.relname COLLATE "C"
\gexec

\elif :canon_catalog

WITH ext AS (
    SELECT oid FROM pg_extension WHERE extname = 'seatmgr'
), members AS (
    SELECT d.classid, d.objid, o.type, o.identity
      FROM pg_depend d, ext, LATERAL pg_identify_object(d.classid, d.objid, 0) o
     WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
), rels AS (
    SELECT c.oid, m.identity, c.relkind
      FROM members m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
), lines(k, line) AS (
    -- every member, by its kind and name
    SELECT m.identity || ' 0', 'member ' || m.type || ' ' || m.identity FROM members m
    -- relations: kind, persistence, options, ACL, row-level security, comment
    UNION ALL
    SELECT r.identity || ' 1',
           format('relation %s: relkind=%s persistence=%s options=%s acl=%s rowsecurity=%s forcerowsecurity=%s comment=%s',
                  r.identity, c.relkind, c.relpersistence, c.reloptions, c.relacl,
                  c.relrowsecurity, c.relforcerowsecurity, obj_description(c.oid, 'pg_class'))
      FROM rels r JOIN pg_class c ON c.oid = r.oid
    -- columns, by name: type, not null, default, identity, generated, collation, ACL, comment
    UNION ALL
    SELECT r.identity || ' 2 ' || a.attname,
           format('column %s.%s: %s notnull=%s default=%s identity=%s generated=%s collation=%s acl=%s comment=%s',
                  r.identity, quote_ident(a.attname), format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated,
                  CASE WHEN a.attcollation <> 0 THEN a.attcollation::regcollation::text END,
                  a.attacl, col_description(a.attrelid, a.attnum))
      FROM rels r
      JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
     WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f')
    -- constraints, by name
    UNION ALL
    SELECT r.identity || ' 3 ' || co.conname,
           format('constraint %s on %s: %s deferrable=%s deferred=%s validated=%s comment=%s',
                  quote_ident(co.conname), r.identity, pg_get_constraintdef(co.oid),
                  co.condeferrable, co.condeferred, co.convalidated, obj_description(co.oid, 'pg_constraint'))
      FROM rels r JOIN pg_constraint co ON co.conrelid = r.oid
    -- indexes (the name is part of the definition)
    UNION ALL
    SELECT r.identity || ' 4 ' || ic.relname,
           format('index %s clustered=%s comment=%s', pg_get_indexdef(i.indexrelid), i.indisclustered,
                  obj_description(i.indexrelid, 'pg_class'))
      FROM rels r JOIN pg_index i ON i.indrelid = r.oid JOIN pg_class ic ON ic.oid = i.indexrelid
    -- triggers (not the internal ones of foreign keys)
    UNION ALL
    SELECT r.identity || ' 5 ' || tg.tgname,
           format('trigger %s enabled=%s comment=%s', pg_get_triggerdef(tg.oid), tg.tgenabled,
                  obj_description(tg.oid, 'pg_trigger'))
      FROM rels r JOIN pg_trigger tg ON tg.tgrelid = r.oid AND NOT tg.tgisinternal
    -- row-level security policies
    UNION ALL
    SELECT r.identity || ' 6 ' || p.policyname,
           format('policy %s on %s: %s %s to %s using (%s) with check (%s)', quote_ident(p.policyname), r.identity,
                  p.permissive, p.cmd, p.roles, p.qual, p.with_check)
      FROM rels r JOIN pg_class c ON c.oid = r.oid JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_policies p ON p.schemaname = n.nspname AND p.tablename = c.relname
    -- views
    UNION ALL
    SELECT r.identity || ' 7',
           format('view %s options=%s:%s', r.identity, c.reloptions,
                  regexp_replace(E'\n' || pg_get_viewdef(r.oid, true), E'\n', E'\n  ' || r.identity || ' | ', 'g'))
      FROM rels r JOIN pg_class c ON c.oid = r.oid WHERE r.relkind IN ('v', 'm')
    -- sequences
    UNION ALL
    SELECT r.identity || ' 8',
           format('sequence %s: %s start=%s increment=%s min=%s max=%s cache=%s cycle=%s',
                  r.identity, s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle)
      FROM rels r JOIN pg_sequence s ON s.seqrelid = r.oid
    -- functions and procedures
    UNION ALL
    SELECT m.identity || ' 1',
           format('routine %s: kind=%s secdef=%s config=%s acl=%s comment=%s%s%s',
                  m.identity, p.prokind, p.prosecdef, p.proconfig, p.proacl, obj_description(p.oid, 'pg_proc'),
                  E'\n', CASE WHEN p.prokind IN ('f', 'p', 'w')
                               THEN regexp_replace(rtrim(pg_get_functiondef(p.oid), E'\n'), '^', '  ' || m.identity || ' | ', 'gn') END)
      FROM members m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
    -- schemas
    UNION ALL
    SELECT m.identity || ' 1',
           format('schema %s: owner=%s acl=%s comment=%s', m.identity, n.nspowner::regrole, n.nspacl,
                  obj_description(n.oid, 'pg_namespace'))
      FROM members m JOIN pg_namespace n ON m.classid = 'pg_namespace'::regclass AND n.oid = m.objid
    -- types (other than the row types of tables, which are not members)
    UNION ALL
    SELECT m.identity || ' 1',
           format('type %s: typtype=%s acl=%s comment=%s', m.identity, t.typtype, t.typacl, obj_description(t.oid, 'pg_type'))
      FROM members m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
    -- event triggers
    UNION ALL
    SELECT m.identity || ' 1',
           format('event trigger %s: on %s execute %s enabled=%s tags=%s comment=%s', quote_ident(e.evtname), e.evtevent,
                  e.evtfoid::regprocedure, e.evtenabled, e.evttags, obj_description(e.oid, 'pg_event_trigger'))
      FROM members m JOIN pg_event_trigger e ON m.classid = 'pg_event_trigger'::regclass AND e.oid = m.objid
    -- initial privileges, which pg_dump compares with the current ones
    UNION ALL
    SELECT m.identity || ' 9 ' || ip.objsubid,
           format('init privs %s column %s: %s %s', m.identity, ip.objsubid, ip.privtype, ip.initprivs)
      FROM members m JOIN pg_init_privs ip ON ip.classoid = m.classid AND ip.objoid = m.objid
    -- the tables pg_dump dumps the data of, with their conditions
    UNION ALL
    SELECT 'zz config ' || cfg.tab::regclass::text,
           format('config dump %s: condition %L', cfg.tab::regclass, cfg.cond)
      FROM pg_extension e,
           LATERAL unnest(e.extconfig, e.extcondition) AS cfg(tab, cond)
     WHERE e.extname = 'seatmgr'
    -- the extension itself
    UNION ALL
    SELECT 'zz extension',
           format('extension seatmgr: schema=%s relocatable=%s', e.extnamespace::regnamespace, e.extrelocatable)
      FROM pg_extension e WHERE e.extname = 'seatmgr'
)
SELECT line FROM lines ORDER BY k COLLATE "C", line COLLATE "C";

\else
\warn 'usage: psql -v part=data|catalog -f t/canon.sql'
SELECT 1/0 AS bad_part;
\endif
