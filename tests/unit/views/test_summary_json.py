"""``summary --format json`` written in pieces is, byte for byte, the document written whole."""

from __future__ import annotations

import orjson
import pytest

from claude_top.core.jsondoc import dumps
from claude_top.engine.engine import Engine
from claude_top.views.summary import summary_dict, summary_json
from loggen import random_calls

WINDOW = {"start": None, "end": None, "tz": "UTC", "day": None}


@pytest.mark.parametrize("by", ["feature", "model", "user"])
@pytest.mark.parametrize("n", [0, 1, 400])
def test_the_pieces_join_to_the_whole_document(by: str, n: int) -> None:
    engine = Engine()
    engine.ingest_lines([orjson.dumps(c) for c in random_calls(n)])
    s = engine.query(by=by)
    more = (
        (engine.streaming(by=by), engine.app_costs(by=by), engine.server_tools(by=by))
        if by != "user"
        else ()
    )
    whole = dumps(summary_dict(s, engine.lines, WINDOW, *more))
    assert b"".join(summary_json(s, engine.lines, WINDOW, *more)) == whole
