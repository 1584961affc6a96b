-- documents: one row per generation, with exactly the columns of the `documents` table of seed
-- 000_4b878bc531465b49 (the earlier SQLite index design), so queries written for it run unchanged.
-- Paths are relative to the data root, like gens.gen_dir.
--   doc_id: the generation id (gens.gen_id: the directory name).
--   logical_key_id: id of the logical product; attempts of one product share it (gens.logical_key).
--   stage: draft | essay | evaluation (the directory's stage).
--   task_id: the original pipeline task id, when the metadata recorded one (older eras); else NULL.
--   parent_doc_id: gens.parent_gen_id (essay -> draft, evaluation -> essay; may dangle).
--   template_id, model_id, run_id: as in gens.
--   prompt_path: '<gen_dir>/prompt.txt' when prompt.txt exists, else NULL.
--   prompt_hash: hex SHA-256 of prompt.txt's bytes (texts.sha256); NULL when absent or refreshed with --no-texts.
--   parser: gens.parser_name.
--   status: ok | truncated | parse_error | gen_error | skipped (gens.status).
--   usage_prompt_tokens, usage_completion_tokens, usage_max_tokens: gens.prompt_tokens,
--     completion_tokens, max_tokens (max_tokens is the requested cap, not a count).
--   created_at: gens.created_at (raw.txt's mtime, else the next best file's; no JSON has a time).
--   doc_dir: gens.gen_dir.
--   raw_chars, parsed_chars: characters (Unicode code points) of raw.txt / parsed.txt, as seed 000
--     means them (gens.raw_chars / parsed_chars); NULL when absent or refreshed with --no-texts.
--   raw_sha256, parsed_sha256: hex SHA-256 of raw.txt / parsed.txt (texts.sha256), NULL likewise.
--   meta_small: a small JSON object of facts that have no column here: mode, replicate, combo_id,
--     origin_cohort_id, function, finish_reason, truncated, duration_s, total_tokens, score,
--     score_error (the full merged metadata is gens.meta).
--   lineage_prev_doc_id: the previous attempt of the same logical product (same logical_key_id), by
--     created_at then doc_id; NULL for the first attempt.
CREATE OR REPLACE VIEW documents AS
SELECT
    gen_id                                                   AS doc_id,
    logical_key                                              AS logical_key_id,
    stage,
    task_id,
    parent_gen_id                                            AS parent_doc_id,
    template_id,
    model_id,
    run_id,
    CASE WHEN has_prompt THEN gen_dir || '/prompt.txt' END   AS prompt_path,
    t.prompt_sha256                                          AS prompt_hash,
    parser_name                                              AS parser,
    status,
    prompt_tokens                                            AS usage_prompt_tokens,
    completion_tokens                                        AS usage_completion_tokens,
    max_tokens                                               AS usage_max_tokens,
    created_at,
    gen_dir                                                  AS doc_dir,
    raw_chars,
    parsed_chars,
    t.raw_sha256,
    t.parsed_sha256,
    json_object(
        'mode', mode, 'replicate', replicate, 'combo_id', combo_id, 'origin_cohort_id', origin_cohort_id,
        'function', "function", 'finish_reason', finish_reason, 'truncated', truncated,
        'duration_s', duration_s, 'total_tokens', total_tokens, 'score', score, 'score_error', score_error
    )                                                        AS meta_small,
    lag(gen_id) OVER (PARTITION BY stage, logical_key ORDER BY created_at NULLS FIRST, gen_id) AS lineage_prev_doc_id
FROM _gens
LEFT JOIN (
    SELECT stage, gen_id,
           max(sha256) FILTER (WHERE file = 'prompt') AS prompt_sha256,
           max(sha256) FILTER (WHERE file = 'raw')    AS raw_sha256,
           max(sha256) FILTER (WHERE file = 'parsed') AS parsed_sha256
    FROM _texts GROUP BY stage, gen_id
) t USING (stage, gen_id);
