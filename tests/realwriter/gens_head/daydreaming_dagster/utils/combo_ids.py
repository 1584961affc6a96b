# Copied from github.com/zby/DayDreamingDayDreaming at 284970808d0d94fbf67ad56d8778aec8f9bf68bb,
# path src/daydreaming_dagster/utils/combo_ids.py. Edits: absolute daydreaming_dagster imports point at this fixture package. Framework imports (dagster, openai, tenacity, ratelimit)
# resolve to the stubs of tests/realwriter/legacy_stubs while the era is imported.
from __future__ import annotations
from datetime import datetime
from pathlib import Path
from typing import List

import pandas as pd

from .errors import DDError, Err


class ComboIDManager:
    """Manage the global append-only mapping of combo IDs to their components.

    The mapping is normalized: one row per concept per combo.
    """

    def __init__(self, mappings_path: str = "data/combo_mappings.csv"):
        self.mappings_path = Path(mappings_path)

    def get_or_create_combo_id(
        self, concept_ids: List[str], description_level: str, k_max: int
    ) -> str:
        """Return a stable combo ID, writing to the mapping if it's new.

        Collision safety: If an existing combo_id is found with different
        parameters or concept set, raise a ValueError so callers can react.
        """
        # Generate ID using the model's canonical function (kept close to the data model)
        from realwriter.gens_head.daydreaming_dagster.models.content_combination import (
            generate_combo_id as _gen_combo_id,
        )

        combo_id = _gen_combo_id(concept_ids, description_level, k_max)

        if self.mappings_path.exists():
            try:
                existing_mappings = pd.read_csv(self.mappings_path)
            except FileNotFoundError as exc:
                raise DDError(Err.DATA_MISSING, ctx={"path": str(self.mappings_path)}) from exc
            except pd.errors.ParserError as exc:
                raise DDError(Err.PARSER_FAILURE, ctx={"path": str(self.mappings_path)}) from exc
            existing_combo = existing_mappings[existing_mappings["combo_id"] == combo_id]
            if not existing_combo.empty:
                # Validate that existing rows match current parameters
                # Compare description_level and k_max (consistent across rows)
                sample_row = existing_combo.iloc[0]
                same_params = (
                    str(sample_row["description_level"]) == str(description_level)
                    and int(sample_row["k_max"]) == int(k_max)
                )

                # Compare concept sets
                existing_concepts = set(existing_combo["concept_id"].astype(str).tolist())
                requested_concepts = set(map(str, concept_ids))
                same_concepts = existing_concepts == requested_concepts

                if same_params and same_concepts:
                    return combo_id

                raise DDError(
                    Err.INVALID_CONFIG,
                    ctx={
                        "combo_id": combo_id,
                        "reason": "combo_collision",
                        "existing_concepts": sorted(existing_concepts),
                        "requested_concepts": sorted(requested_concepts),
                    },
                )

        # Append new mapping rows (one per concept)
        new_rows = []
        for concept_id in sorted(concept_ids):
            new_rows.append(
                {
                    "combo_id": combo_id,
                    "version": "v1",
                    "concept_id": concept_id,
                    "description_level": description_level,
                    "k_max": int(k_max),
                    "created_at": datetime.now().isoformat(timespec="seconds"),
                }
            )

        new_df = pd.DataFrame(new_rows)

        if self.mappings_path.exists():
            try:
                existing_df = pd.read_csv(self.mappings_path)
            except FileNotFoundError as exc:
                raise DDError(Err.DATA_MISSING, ctx={"path": str(self.mappings_path)}) from exc
            except pd.errors.ParserError as exc:
                raise DDError(Err.PARSER_FAILURE, ctx={"path": str(self.mappings_path)}) from exc
            combined_df = pd.concat([existing_df, new_df], ignore_index=True)
        else:
            combined_df = new_df
            self.mappings_path.parent.mkdir(parents=True, exist_ok=True)

        try:
            combined_df.to_csv(self.mappings_path, index=False)
        except OSError as exc:
            raise DDError(Err.IO_ERROR, ctx={"path": str(self.mappings_path)}) from exc
        return combo_id

    def load_mappings(self) -> pd.DataFrame:
        if self.mappings_path.exists():
            try:
                return pd.read_csv(self.mappings_path)
            except FileNotFoundError as exc:
                raise DDError(Err.DATA_MISSING, ctx={"path": str(self.mappings_path)}) from exc
            except pd.errors.ParserError as exc:
                raise DDError(Err.PARSER_FAILURE, ctx={"path": str(self.mappings_path)}) from exc
        return pd.DataFrame(
            columns=[
                "combo_id",
                "version",
                "concept_id",
                "description_level",
                "k_max",
                "created_at",
            ]
        )
