"""Hypothesis strategies for JSON that Python's decoder accepts but a careful service must
refuse: NaN, Infinity, numbers too large to store, lone surrogates, duplicate keys and
nesting deep enough to exhaust a recursive reader. Shared by the CLI, API and CDS tests so
every entry point is held to the same JSON policy (`hipspine.models.validation`).

    @given(hostile_documents(cases))
    def test_x(doc: Hostile) -> None:
        ...  # doc.text is the JSON text; doc.field the path a good error names
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st


@dataclass(frozen=True)
class Hostile:
    text: str      # the whole JSON document
    field: str     # dotted path of the hostile value, as an error should name it
    kind: str


# (kind, raw JSON token): each is accepted by json.loads and refused by the policy
TOKENS = [
    ("nan", "NaN"), ("infinity", "Infinity"), ("minus_infinity", "-Infinity"),
    ("overflow", "1e999"), ("huge_int", "1" + "0" * 30), ("long_int", "9" * 5000),
    ("surrogate", '"\\ud800"'), ("low_surrogate", '"ab\\udfffcd"'), ("nul", '"a\\u0000b"'),
    ("deep", "[" * 70 + "]" * 70), ("very_deep", "[" * 100_000 + "]" * 100_000),
]
KINDS = [k for k, _ in TOKENS] + ["duplicate_key"]
FIELDS = ["age", "exam.hip_internal_rotation_deg", "symptoms.duration_months", "notes",
          "tests.abi", "history.prior_treatments"]


def place(doc: dict[str, Any], path: str, value: Any) -> None:
    """Set `value` at the dotted `path` of `doc`, making the objects on the way."""
    node = doc
    *parents, leaf = path.split(".")
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[leaf] = value


@st.composite
def hostile_documents(draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]],
                      fields: list[str] | None = None) -> Hostile:
    """A document from `base` with one hostile value (or a duplicated key) at a field."""
    doc = json.loads(json.dumps(draw(base)))
    field = draw(st.sampled_from(fields or FIELDS))
    kind = draw(st.sampled_from(KINDS))
    marker = "__HOSTILE__"
    place(doc, field, marker)
    text = json.dumps(doc)
    if kind == "duplicate_key":
        leaf = field.rsplit(".", 1)[-1]
        text = text.replace(f'"{leaf}": "{marker}"', f'"{leaf}": 1, "{leaf}": 2', 1)
    else:
        token = dict(TOKENS)[kind]
        text = text.replace(f'"{marker}"', token, 1)
    return Hostile(text, field, kind)
