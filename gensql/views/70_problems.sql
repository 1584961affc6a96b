-- problems: one row per violated invariant of the store, with a kind and a readable detail.
--   kind, one of:
--     'unreadable_file'     a file refresh could not read or parse (scan_errors kinds invalid_json,
--                           empty_file, not_utf8, not_an_object, unreadable);
--     any other scan_errors kind as itself: 'missing_metadata' (a generation directory without
--                           metadata.json), 'bad_value' (a metadata value ignored), 'unexpected_entry',
--                           'bad_membership', 'internal', 'duplicate_id' (a docs/ document not indexed
--                           because a gens/ or another docs/ directory of the stage has its id),
--                           'bad_sqlite' (db/documents.sqlite unreadable: docs rows keep their file facts);
--     'parent_missing'      an essay or evaluation with no parent_gen_id, or whose parent_gen_id names
--                           no generation directory in any stage (a dangling link);
--     'parent_wrong_stage'  the parent exists, but not in the stage it must sit in (an essay's parent
--                           must be a draft, an evaluation's an essay);
--     'stage_mismatch'      `stage` inside the metadata (meta_stage) disagrees with the directory;
--     'gen_id_mismatch'     `gen_id` inside the metadata (meta_gen_id) disagrees with the directory;
--     'member_missing'      a cohort lists a generation whose directory does not exist (expected but
--                           never generated);
--     'status_inconsistent' what the metadata records contradicts the files present. Status is derived
--                           from the files, so these are the cases where the metadata claims a file
--                           the directory does not have: (a) the parser recorded success
--                           (parse_success true) but parsed.txt is missing; (b) a model call is
--                           recorded (is_model_call: raw metadata or token counts, not copy mode) and
--                           parsed.txt exists, but raw.txt does not. One row per violated rule. (A
--                           parser that recorded failure yet wrote parsed.txt is not one: parsers keep
--                           a fallback text, and status is parse_error as the metadata says.)
--   stage, gen_id: the generation concerned (for member_missing: the missing member; NULL for entries
--     that are no generation).
--   cohort_id: the cohort, for member_missing and bad_membership rows; else NULL.
--   path: the file or directory concerned, relative to the data root.
--   detail: what is wrong, in words.
CREATE OR REPLACE VIEW problems AS
SELECT
    CASE WHEN kind IN ('invalid_json', 'empty_file', 'not_utf8', 'not_an_object', 'unreadable')
         THEN 'unreadable_file' ELSE kind END                            AS kind,
    stage,
    gen_id,
    CASE WHEN kind = 'bad_membership' THEN split_part(path, '/', 2) END AS cohort_id,
    path,
    kind || ': ' || message                                              AS detail
FROM _scan_errors

UNION ALL
SELECT
    CASE link_status WHEN 'parent_wrong_stage' THEN 'parent_wrong_stage' ELSE 'parent_missing' END,
    stage,
    gen_id,
    NULL,
    gen_dir,
    CASE link_status
        WHEN 'no_parent' THEN 'no parent_gen_id recorded: an ' || stage || ' needs a parent ' || expected_parent_stage
            || CASE WHEN error_count > 0 THEN ' (its metadata could not be fully read: see scan_errors)' ELSE '' END
        WHEN 'parent_missing' THEN 'parent ' || parent_gen_id || ' not found in any stage (expected under '
            || expected_parent_stage || '/)'
        ELSE 'parent ' || parent_gen_id || ' is under ' || parent_stage || '/, not ' || expected_parent_stage || '/'
    END
FROM _links
WHERE link_status IN ('no_parent', 'parent_missing', 'parent_wrong_stage')

UNION ALL
SELECT 'stage_mismatch', stage, gen_id, NULL, gen_dir,
       'metadata says stage ' || meta_stage || ', the directory is under ' || stage || '/'
FROM _gens
WHERE meta_stage IS NOT NULL AND meta_stage <> stage

UNION ALL
SELECT 'gen_id_mismatch', stage, gen_id, NULL, gen_dir,
       'metadata says gen_id ' || meta_gen_id || ', the directory is ' || gen_id
FROM _gens
WHERE meta_gen_id IS NOT NULL AND meta_gen_id <> gen_id

UNION ALL
SELECT 'member_missing', m.stage, m.gen_id, m.cohort_id,
       'cohorts/' || m.cohort_id || '/membership.csv',
       'cohort ' || m.cohort_id || ' lists ' || m.stage || ' ' || m.gen_id || ' (line ' || m.line
           || ') but that generation directory does not exist'
           || coalesce(' (a directory of that name exists under ' || (
                  SELECT string_agg(g2.stage, ', ' ORDER BY g2.stage) FROM _gens AS g2 WHERE g2.gen_id = m.gen_id
              ) || '/)', '')
FROM _membership AS m
WHERE NOT EXISTS (SELECT 1 FROM _gens AS g WHERE g.stage = m.stage AND g.gen_id = m.gen_id)

UNION ALL
SELECT 'status_inconsistent', stage, gen_id, NULL, gen_dir, 'status ' || status || ': ' || rule
FROM (
    SELECT stage, gen_id, gen_dir, status, 'the parser recorded success but parsed.txt is missing' AS rule
    FROM _gens WHERE parse_success AND NOT has_parsed
    UNION ALL
    SELECT stage, gen_id, gen_dir, status, 'a model call is recorded and parsed.txt exists, but raw.txt is missing'
    FROM _gens WHERE is_model_call AND has_parsed AND NOT has_raw
);
