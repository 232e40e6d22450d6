"""The reader meets its accuracy target on the labelled evaluation set."""

from __future__ import annotations

from hipspine.nlp.evaluate import FIELDS, evaluate, load_examples


def test_eval_set_is_large_and_has_a_held_out_part() -> None:
    examples = load_examples()
    assert len(examples) >= 150
    assert sum(e.split == "heldout" for e in examples) >= 30
    assert len({e.id for e in examples}) == len(examples)


def test_f1_per_field_at_least_0_9_overall_and_0_8_held_out() -> None:
    scores = evaluate(load_examples())["scores"]
    for field in FIELDS:
        assert scores["all"][field]["f1"] >= 0.9, (field, scores["all"][field])
        assert scores["heldout"][field]["f1"] >= 0.8, (field, scores["heldout"][field])
