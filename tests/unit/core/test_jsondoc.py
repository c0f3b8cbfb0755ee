"""JSON documents are written whatever integers they hold, the same as orjson writes the rest."""

from __future__ import annotations

import json

import orjson
import pytest

from claude_top.core.jsondoc import dumps
from claude_top.engine.engine import Engine
from claude_top.engine.store import G_IN
from claude_top.views.summary import summary_dict
from loggen import T0, line


@pytest.mark.parametrize("indent", [False, True])
def test_a_document_orjson_can_write_is_orjson_s(indent: bool) -> None:
    doc = {"a": [1, 2.5, None, "é"], "b": {"c": float("inf")}}
    option = orjson.OPT_INDENT_2 if indent else None
    assert dumps(doc, indent=indent) == orjson.dumps(doc, option=option)


@pytest.mark.parametrize("indent", [False, True])
def test_integers_past_64_bits_are_written_exactly(indent: bool) -> None:
    doc = {"big": 2**70, "neg": -(2**65), "nan": float("nan"), "name": "café"}
    assert json.loads(dumps(doc, indent=indent)) == {**doc, "nan": None}


def test_a_summary_whose_sums_pass_64_bits_is_written() -> None:
    engine = Engine()
    engine.ingest_lines([line(T0), line(T0 + 120)])  # two minutes: two rows
    for tier in engine.groups.tiers:  # as if four billion lines at the limit had been read
        for bucket in tier.buckets.values():
            for row in bucket.values():
                row[G_IN] = 2**64
    doc = summary_dict(engine.query(), engine.lines, {})
    assert json.loads(dumps(doc))["total"]["total_input_tokens"] == 2**65
