"""Fuzz test: whatever values a generation's metadata holds, refresh completes with one row per directory.

Hypothesis writes the three JSON files of a few generation directories with arbitrary JSON (huge and
negative integers, floats, nested objects where numbers are expected, odd strings, non-objects) and
sometimes raw bytes; refresh must never raise and must write exactly one ``gens`` row per directory.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import gensql
from gensql.fields import FIELDS

pytestmark = pytest.mark.slow  # a refresh per generated store

#: The keys the field table reads (top-level part of each source), plus a few it does not.
KEYS = sorted(
    {(s if isinstance(s, str) else s.key).split(".")[0] for f in FIELDS for s in f.sources}
    | {"extra", "stage", "gen_id"}
)

numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**63, 2**64 - 1, -(2**63) - 1, 2**62 + 1, 2**53 + 1, -1, 0]),
    st.floats(allow_nan=True, allow_infinity=False),
    st.sampled_from([1e30, -1e30, 1e308, 5e-324, 0.5]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    numbers,
    st.text(max_size=12),
    st.sampled_from(
        ["lots", "inf", "-inf", "Infinity", "NaN", "1e999", "18446744073709551616", " 12 ", "true", "null"]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "prompt_tokens",
                    "completion_tokens",
                    "total_tokens",
                    "input_tokens",
                    "output_tokens",
                    "max_tokens",
                    "x",
                ]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=8,
)
documents = st.one_of(st.dictionaries(st.sampled_from(KEYS), values, max_size=8), values)
file_contents = st.one_of(documents.map(lambda d: json.dumps(d, allow_nan=True).encode()), st.binary(max_size=40))
generation = st.fixed_dictionaries(
    {},
    optional={
        "metadata.json": file_contents,
        "raw_metadata.json": file_contents,
        "parsed_metadata.json": file_contents,
        "parsed.txt": st.one_of(
            st.binary(max_size=20), st.sampled_from([b"7", b"SCORE: 99999999999999999999", b"1e999", b"-0"])
        ),
        "raw.txt": st.binary(max_size=10),
    },
)
stores = st.lists(st.tuples(st.sampled_from(["draft", "essay", "evaluation"]), generation), min_size=1, max_size=4)


@settings(max_examples=examples(0.4))
@given(stores)
def test_refresh_always_completes_with_one_row_per_generation_directory(gens):
    base = Path(tempfile.mkdtemp(prefix="gensql-fuzz-"))
    try:
        root = base / "data"
        expected = set()
        for i, (stage, files) in enumerate(gens):
            gen_dir = root / "gens" / stage / f"g{i}"
            gen_dir.mkdir(parents=True)
            for name, content in files.items():
                (gen_dir / name).write_bytes(content)
            expected.add((stage, f"g{i}"))
        result = gensql.refresh(root, jobs=1)
        assert result.generations == len(gens)
        con = gensql.connect(root)
        try:
            got = con.sql("SELECT stage, gen_id FROM gens").fetchall()
            assert sorted(got) == sorted(expected)
            assert con.sql("SELECT count(*) FROM scan_errors WHERE kind = 'internal'").fetchall() == [(0,)]
        finally:
            con.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)
