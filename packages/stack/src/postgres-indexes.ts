/**
 * FerretDB v1 on PostgreSQL stores each collection as a table of `_jsonb` documents and turns a MongoDB index on
 * `field` into a btree index on `(_jsonb -> 'field')`. Its queries filter with `(_jsonb -> $1) @> $2` (containment,
 * with the field name as a parameter), which a btree cannot serve: every query was a sequential scan, even on
 * `_id`, and its cost grew with the collection (see shared/notes/ferretdb-v1.md).
 *
 * Two changes make those same queries index lookups, with no change to FerretDB or to the services' code:
 *  - a GIN index (which serves `@>`; without a pending list, so lookups stay fast while rows arrive) beside every btree index FerretDB makes, on the same expression. An event
 *    trigger adds it as FerretDB creates its own (a new collection's `_id` index, every `createIndex`), and
 *    `INSTALL_GIN_TWINS` adds the missing ones of a cluster made before;
 *  - `plan_cache_mode = force_custom_plan` (a server setting, see postgres.ts): FerretDB runs prepared statements,
 *    and a generic plan of `_jsonb -> $1` matches no index expression; a custom plan, made with the field name in
 *    place, does.
 * On real MongoDB the same queries use the indexes the services declare; nothing here is needed there.
 */

/** Runs with psql in the `ferretdb` database at every start; idempotent. */
export const INSTALL_GIN_TWINS = String.raw`
CREATE OR REPLACE FUNCTION tracemart_gin_twins(idx oid) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  def text;
  tbl oid;
  field text;
BEGIN
  SELECT pg_get_indexdef(i.indexrelid), i.indrelid INTO def, tbl FROM pg_index i WHERE i.indexrelid = idx;
  -- Only FerretDB's own btree indexes; the GIN indexes made here fire this trigger too and are skipped.
  IF def IS NULL OR position('USING btree' IN def) = 0 THEN RETURN; END IF;
  FOR field IN SELECT (regexp_matches(def, '\(_jsonb -> ''([^'']+)''::text\)', 'g'))[1] LOOP
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb -> %L)) WITH (fastupdate = off)',
      left((SELECT relname FROM pg_class WHERE oid = tbl), 40) || '_' || left(md5(field), 12) || '_gin',
      tbl::regclass, field);
  END LOOP;
END
$fn$;

CREATE OR REPLACE FUNCTION tracemart_gin_twins_on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
DECLARE
  command record;
BEGIN
  FOR command IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE INDEX' LOOP
    PERFORM tracemart_gin_twins(command.objid);
  END LOOP;
END
$fn$;

DROP EVENT TRIGGER IF EXISTS tracemart_gin_twins;
CREATE EVENT TRIGGER tracemart_gin_twins ON ddl_command_end WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION tracemart_gin_twins_on_ddl();

-- Indexes made before this was installed (an existing .data cluster).
SELECT count(tracemart_gin_twins(i.indexrelid)) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
WHERE am.amname = 'btree' AND pg_get_indexdef(i.indexrelid) LIKE '%(_jsonb -> %';
`;
