-- Scores per essay by evaluation model x evaluation template: mean, min, max and n over replicates (one score per logical evaluation, chosen by counted_scores(): the same rule and numbers as `gensql report scores --long`; products never scored counted in n_unscored).
SELECT
    essay_gen_id,
    combo_id,
    draft_template_id,
    essay_template_id,
    essay_model_id,
    evaluation_model_id,
    evaluation_template_id,
    round(avg(score), 3)          AS mean_score,
    min(score)                    AS min_score,
    max(score)                    AS max_score,
    count(score)                  AS n,
    count(*) - count(score)       AS n_unscored
FROM counted_scores()
WHERE essay_gen_id IS NOT NULL
GROUP BY ALL
ORDER BY essay_gen_id, evaluation_model_id, evaluation_template_id;
