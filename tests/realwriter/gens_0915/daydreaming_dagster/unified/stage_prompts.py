# Copied from github.com/zby/DayDreamingDayDreaming at 974def230b3e050a323297e14a0a5745878c1332,
# path src/daydreaming_dagster/unified/stage_prompts.py. Edits: absolute daydreaming_dagster imports point at this fixture package. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
from __future__ import annotations

from typing import Optional

from .stage_core import Stage, render_template
from realwriter.gens_0915.daydreaming_dagster.config.paths import Paths
from .stage_policy import (
    get_stage_spec,
    read_membership_fields,
    resolve_generator_mode,
)


def prompt_asset(context, stage: Stage, *, content_combinations=None) -> str:
    gen_id = context.partition_key
    from realwriter.gens_0915.daydreaming_dagster.assets._helpers import (
        load_parent_parsed_text,
        build_prompt_metadata,
    )
    paths = Paths.from_context(context)
    data_root = paths.data_root
    spec = get_stage_spec(stage)
    # DI-first: use injected membership service when available; otherwise create one on the fly
    svc = getattr(getattr(context, "resources", object()), "membership_service", None)
    if not (svc and hasattr(svc, "require_row")):
        from realwriter.gens_0915.daydreaming_dagster.resources.membership_service import MembershipServiceResource
        svc = MembershipServiceResource()
    row, _cohort = svc.require_row(data_root, stage, str(gen_id), require_columns=spec.prompt_fields)
    mf = read_membership_fields(row)
    mode = resolve_generator_mode(kind=stage, data_root=data_root, template_id=mf.template_id)

    if mode == "copy":
        extras = {}
        if spec.parent_stage is not None:
            extras["parent_gen_id"] = str(mf.parent_gen_id or "")
        if stage == "draft":
            extras["combo_id"] = str(mf.combo_id or "")
        context.add_output_metadata(
            build_prompt_metadata(
                context,
                stage=stage,
                gen_id=str(gen_id),
                template_id=mf.template_id,
                mode=mode,
                parent_gen_id=str(mf.parent_gen_id or "") if stage != "draft" else None,
                prompt_text=None,
                extras=extras,
            )
        )
        return "COPY_MODE: no prompt needed"

    values, extras, parent_gen_id = spec.build_prompt_values(context, str(gen_id), mf, content_combinations)

    prompt = render_template(stage, mf.template_id, values)
    context.add_output_metadata(
        build_prompt_metadata(
            context,
            stage=stage,
            gen_id=str(gen_id),
            template_id=mf.template_id,
            mode="llm",
            parent_gen_id=str(parent_gen_id) if parent_gen_id else None,
            prompt_text=prompt,
            extras=extras,
        )
    )
    return prompt


__all__ = ["prompt_asset"]
