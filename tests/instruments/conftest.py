from __future__ import annotations

from typing import Any

import pytest

from hipspine.instruments import InstrumentKnowledge, load_instrument_knowledge
from hipspine.models import Case, parse_case


@pytest.fixture(scope="session")
def kb() -> InstrumentKnowledge:
    return load_instrument_knowledge()


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """{'exam.faber_positive': True} -> {'exam': {'faber_positive': True}}."""
    out: dict[str, Any] = {}
    for path, value in flat.items():
        node = out
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def make_case(data: dict[str, Any]) -> Case:
    return parse_case({"format": "hipspine.case/1", **data})
