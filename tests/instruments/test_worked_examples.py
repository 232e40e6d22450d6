"""Every worked example in every instrument definition file, against the scorer."""

from __future__ import annotations

import pytest
from tests.instruments.conftest import make_case

from hipspine.instruments import (
    evaluate,
    load_instrument_knowledge,
    score_self_report,
)

KB = load_instrument_knowledge()
EXAMPLES = [(d.id, ex) for d in KB.instruments for ex in d.examples]


def test_every_instrument_has_examples_covering_both_verdicts() -> None:
    for defn in KB.instruments:
        verdicts = {ex.positive for ex in defn.examples}
        assert {True, False} <= verdicts, f"{defn.id} needs a positive and a negative example"


@pytest.mark.parametrize(("instrument_id", "example"), EXAMPLES,
                         ids=[f"{i}:{ex.name}" for i, ex in EXAMPLES])
def test_worked_example(instrument_id: str, example) -> None:  # type: ignore[no-untyped-def]
    defn = KB.get(instrument_id)
    if defn.subject == "case":
        result = evaluate(instrument_id, make_case(example.input), KB)
    else:
        result = score_self_report(instrument_id, example.input, KB, audience="clinician")
    assert result.score == example.score
    assert result.positive is example.positive
    if example.missing_items is not None:
        assert result.missing_items == example.missing_items
    assert result.citation and result.interpretation
    assert result.preliminary is defn.preliminary
