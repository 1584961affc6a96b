-- Generations whose raw or parsed text is byte-identical to another generation's (a cached or replayed response): one row per text, grouped by its sha256
-- Left out, because identity is expected there and says nothing: empty texts, evaluations' parsed
-- texts (a score line such as 7.0), and copy-mode generations (their text is their parent's by design).
-- $file: 'raw', 'parsed' or 'any' (both).
SELECT
    t.sha256,
    t.file,
    count(*) OVER (PARTITION BY t.file, t.sha256) AS copies,
    t.stage,
    t.gen_id,
    g.model_id,
    g.template_id,
    g.status,
    g.created_at,
    t.bytes
FROM texts t
JOIN gens g USING (stage, gen_id)
WHERE t.file IN ('raw', 'parsed')
  AND ($file = 'any' OR t.file = $file)
  AND t.bytes > 0
  AND NOT (t.stage = 'evaluation' AND t.file = 'parsed')
  AND g.mode IS DISTINCT FROM 'copy'
  AND t.sha256 IS NOT NULL
QUALIFY copies > 1
ORDER BY copies DESC, t.file, t.sha256, g.created_at, t.gen_id;
