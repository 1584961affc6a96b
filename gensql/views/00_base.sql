-- gens: one row per generation directory of the current snapshot, typed (see the README schema):
--   gens/<stage>/<gen_id>/ and the documents of seed 000's docs/ store (store_root says which).
--   Every column of the index table; `meta` is the merged metadata as DuckDB JSON.
CREATE OR REPLACE VIEW gens AS
SELECT * REPLACE (meta::JSON AS meta) FROM _gens;

-- scan_errors: one row per file or entry refresh could not use.
--   path (relative to the data root), stage, gen_id (NULL for entries that are no generation),
--   file (file name), kind (invalid_json, empty_file, not_utf8, not_an_object, missing_metadata,
--   bad_value, unreadable, unexpected_entry, bad_membership, duplicate_id (a docs/ document whose id a
--   gens/ directory or another docs/ directory of the stage already has: not indexed), bad_sqlite
--   (db/documents.sqlite could not be read)), message (what was wrong).
CREATE OR REPLACE VIEW scan_errors AS
SELECT path, stage, gen_id, file, kind, message FROM _scan_errors;
