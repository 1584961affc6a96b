-- Generations, model calls and tokens by stage and model, with status counts.
SELECT
    stage,
    model_id,                                         -- NULL (no model: a copied or parsed product), as in reports
    count(*)                                          AS generations,
    count(*) FILTER (WHERE is_model_call)             AS model_calls,
    count(*) FILTER (WHERE status = 'ok')             AS ok,
    count(*) FILTER (WHERE status <> 'ok')            AS not_ok,
    sum(completion_tokens)                            AS completion_tokens,
    sum(prompt_bytes)                                 AS prompt_bytes
FROM gens
GROUP BY 1, 2
ORDER BY array_position(['draft', 'essay', 'evaluation'], stage), model_id NULLS LAST;
