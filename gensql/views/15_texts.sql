-- texts: one row per text file (prompt.txt, raw.txt, parsed.txt) of every generation, read by refresh
-- only when its directory changed (empty after `gensql refresh --no-texts`).
--   gen_id, stage, gen_dir: the generation (as in gens).
--   file: prompt | raw | parsed.
--   bytes: size in bytes; chars: Unicode code points after UTF-8 decoding (an invalid byte counts as
--     one replacement character); lines: newline characters, plus one for a last line without one.
--   sha256: hex SHA-256 of the exact bytes (NULL when the file could not be read: see scan_errors).
--   invalid_utf8: the bytes are not valid UTF-8 (search indexes them with replacement characters).
--   search_capped: longer than the search cap (1,000,000 characters): searchable up to the cap only.
CREATE OR REPLACE VIEW texts AS
SELECT gen_id, stage, gen_dir, file, bytes, chars, lines, sha256, invalid_utf8, search_capped FROM _texts;
