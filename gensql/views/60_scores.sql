-- scores: one row per evaluation, with its score (or why there is none) and what was evaluated,
-- reached through lineage (evaluation -> essay -> draft; NULL past a broken link).
--   gen_id: the evaluation; parent_gen_id: the essay it names (as recorded, may dangle).
--   score: the score read from parsed.txt (0-9 scale); NULL when there is none.
--   score_error: why there is no score (parsed.txt missing, empty or unparseable); NULL with a score.
--   status: the evaluation's status (an evaluation without a score is 'parse_error' or worse).
--   evaluation_template_id, evaluation_model_id, replicate: of the evaluation.
--   essay_gen_id, essay_template_id, essay_model_id: of the evaluated essay.
--   draft_gen_id, draft_template_id, draft_model_id, combo_id: of the essay's draft (combo_id as in lineage).
--   created_at: of the evaluation.
--   logical_key: the logical evaluation (essay named, template, model, replicate) this attempt is of;
--     counted_scores() keeps one attempt per logical_key.
--   broken_link, broken_reason: the chain to the draft is broken (see lineage).
CREATE OR REPLACE VIEW scores AS
SELECT
    v.gen_id,
    v.parent_gen_id,
    v.score,
    v.score_error,
    v.status,
    v.template_id   AS evaluation_template_id,
    v.model_id      AS evaluation_model_id,
    v.replicate,
    l.essay_gen_id,
    l.essay_template_id,
    l.essay_model_id,
    l.draft_gen_id,
    l.draft_template_id,
    l.draft_model_id,
    l.combo_id,
    v.created_at,
    v.logical_key,
    l.broken_link,
    l.broken_reason
FROM _gens AS v
JOIN lineage AS l ON l.stage = v.stage AND l.gen_id = v.gen_id
WHERE v.stage = 'evaluation';
