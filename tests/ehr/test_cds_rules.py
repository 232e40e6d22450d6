"""The card rules (knowledge/ehr/cards.yaml) as pure logic: at most one card per group, each
fired rule's conditions hold, and nothing fires without hip or spine evidence."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from hipspine.ehr.cds.cards import SUMMARY_LIMIT, fired_rules, load_card_rules
from hipspine.ehr.fhir_in import CodedFinding
from hipspine.ehr.valuesets import HIP_CATEGORIES, SPINE_CATEGORIES

RULES = load_card_rules().rules
CATEGORIES = sorted(HIP_CATEGORIES | SPINE_CATEGORIES | {"comorbidity", "vascular",
                                                         "trochanteric"})


class _Verdict:
    def __init__(self, verdict: str) -> None:
        self.verdict = verdict


def _finding(category: str, active: bool) -> CodedFinding:
    return CodedFinding(category=category, valueset=category, resource="Condition/x",
                        display=category, date=None, laterality=None, active=active)


@given(st.lists(st.tuples(st.sampled_from(CATEGORIES), st.booleans()), max_size=6),
       st.sampled_from(["hip", "spine", "both", "other", "indeterminate"]))
def test_rules_fire_only_on_their_conditions(coded: list[tuple[str, bool]], verdict: str) -> None:
    findings = [_finding(c, a) for c, a in coded]
    assessment: Any = _Verdict(verdict)
    fired = fired_rules(RULES, findings, assessment)
    assert len({r.group for r in fired}) == len(fired)
    active = {c for c, a in coded if a}
    for rule in fired:
        assert active & set(rule.care)
        assert active & set(rule.evidence_categories) or verdict in rule.evidence_verdicts
        assert not active & set(rule.unless)
    if not active & (HIP_CATEGORIES | SPINE_CATEGORIES):
        assert fired == []


def test_every_summary_is_under_the_spec_limit() -> None:
    assert all(len(rule.summary) < SUMMARY_LIMIT for rule in RULES)
    assert {r.indicator for r in RULES} <= {"info", "warning", "critical"}
