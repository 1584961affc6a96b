-- counted_scores(for_cohort := NULL, since_day := NULL, until_day := NULL): THE definition of which
-- score counts, read by `gensql report scores` / gensql.scores_report, the score_pivot named query and
-- notebook 03, so they all give one answer. One row per logical evaluation (gens.logical_key: essay
-- named, evaluation template, evaluation model, replicate) that has at least one attempt in range: its
-- newest attempt with a score, else (no attempt has a score) its newest attempt. Re-runs, retries and
-- cross-cohort duplicates are attempts of one product and count once.
-- Every column of the scores view, plus:
--   attempts: attempts of this logical evaluation considered (in range).
-- Only attempts that are members of cohort for_cohort (when given) and made on or after since_day /
-- on or before until_day (UTC days of created_at, inclusive; DATEs) are considered.
-- A consumer that groups by essay leaves out the rows whose essay_gen_id is NULL (the evaluated essay
-- cannot be reached through lineage, see the problems view) and says how many it left out.
-- Use: SELECT * FROM counted_scores() WHERE score IS NOT NULL AND essay_gen_id IS NOT NULL
CREATE OR REPLACE MACRO counted_scores(for_cohort := NULL, since_day := NULL, until_day := NULL) AS TABLE
SELECT * EXCLUDE (_rank)
FROM (
    SELECT
        s.*,
        count(*) OVER (PARTITION BY s.logical_key) AS attempts,
        row_number() OVER (
            PARTITION BY s.logical_key
            ORDER BY s.score IS NOT NULL DESC, s.created_at DESC NULLS LAST, s.gen_id DESC) AS _rank
    FROM scores AS s
    WHERE (for_cohort IS NULL OR EXISTS (
              SELECT 1 FROM _membership AS m
              WHERE m.cohort_id = for_cohort AND m.stage = 'evaluation' AND m.gen_id = s.gen_id))
      AND (since_day IS NULL OR (DATE '1970-01-01' + CAST(floor(epoch_us(s.created_at) / 86400000000.0) AS INTEGER)) >= since_day)
      AND (until_day IS NULL OR (DATE '1970-01-01' + CAST(floor(epoch_us(s.created_at) / 86400000000.0) AS INTEGER)) <= until_day)
)
WHERE _rank = 1;
