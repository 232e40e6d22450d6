"""The reader meets its accuracy target on the labelled evaluation set."""

from __future__ import annotations

from hipspine.nlp.evaluate import FIELDS, evaluate, load_examples
from hipspine.nlp.knowledge import load_nlp_knowledge


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


def test_red_flag_alarms_on_their_labelled_set() -> None:
    """An 80-text set (40 report, 40 note) written by an author who had not seen the rules;
    every alarm field appears in it."""
    from hipspine.nlp.evaluate import evaluate_alarms, load_alarm_examples

    examples = load_alarm_examples()
    assert len(examples) >= 80 and {e.texts for e in examples} == {"reports", "notes"}
    result = evaluate_alarms(examples)
    fields = {f.field for f in load_nlp_knowledge().alarms.findings
              if f.field != "imaging.lesions"}  # lesions: their own set, test_lesions
    assert set(result["scores"]) == fields
    for field, row in result["scores"].items():
        assert row["f1"] >= 0.8, (field, row)
