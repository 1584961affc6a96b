-- token_usage: one row per model call: generations with is_model_call (copy-mode generations and
-- generations that never called a model are excluded: they are not model spend). Ready to GROUP BY
-- model_id / template_id / stage / day.
--   gen_id, stage, model_id, template_id, run_id, origin_cohort_id, status, finish_reason, truncated:
--     as in gens.
--   created_at: when the call produced its output (gens.created_at); day: its UTC calendar date.
--   prompt_tokens, completion_tokens, total_tokens: as the provider reported them (NULL when not
--     recorded; prompt tokens usually were not: the pipeline's own client recorded only completion
--     tokens and max_tokens). Unknown is not zero: sum() over calls that recorded none is NULL, and
--     count(prompt_tokens) etc. say how many calls a sum covers; never coalesce a count to 0.
--   max_tokens: the requested completion cap (a limit, not a count).
--   usage_recorded: some token count was recorded for this call.
--   prompt_bytes: size of prompt.txt in bytes (known even when tokens are not).
--   prompt_tokens_estimate: an ESTIMATE, not a count: round(prompt_bytes / 4) (about 4 bytes per token
--     for English text); NULL without prompt.txt.
--   raw_bytes: size of raw.txt in bytes.
--   duration_s: wall time of the call in seconds (NULL when not recorded).
CREATE OR REPLACE VIEW token_usage AS
SELECT
    gen_id,
    stage,
    model_id,
    template_id,
    created_at,
    CAST(timezone('UTC', created_at) AS DATE)                          AS day,
    prompt_tokens,
    completion_tokens,
    total_tokens,
    max_tokens,
    (prompt_tokens IS NOT NULL OR completion_tokens IS NOT NULL OR total_tokens IS NOT NULL) AS usage_recorded,
    prompt_bytes,
    CAST(round(prompt_bytes / 4.0) AS BIGINT)                          AS prompt_tokens_estimate,
    raw_bytes,
    duration_s,
    finish_reason,
    truncated,
    status,
    run_id,
    origin_cohort_id
FROM _gens
WHERE is_model_call;
