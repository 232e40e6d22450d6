"""The assessment knowledge base: every entry cited, every LR in range, every field real."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from hipspine.assess.knowledge import (
    LR_SANITY_MAX,
    Condition,
    Likelihood,
    load_assessment_knowledge,
)
from hipspine.kb import load_references
from hipspine.models.case import Case


def _conditions(kb: Any) -> list[Condition]:
    found: list[Condition] = []

    def walk(node: Any) -> None:
        if isinstance(node, Condition):
            found.append(node)
        elif isinstance(node, BaseModel):
            for name in type(node).model_fields:
                walk(getattr(node, name))
        elif isinstance(node, (list, tuple)):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for item in node.values():
                walk(item)

    walk(kb)
    return found


def _field_exists(path: str) -> bool:
    model: Any = Case
    for part in path.split("."):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return False
        info = model.model_fields.get(part)
        if info is None:  # a derived view on the model (e.g. imaging.lesion_kinds,
            # history.relief_after.<treatment type>) is a property of the case model
            return isinstance(getattr(model, part, None), property)
        model = _inner(info.annotation)
    return True


def _inner(annotation: Any) -> Any:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        hit = _inner(arg)
        if hit is not None:
            return hit
    return None


def test_every_entry_is_cited_and_resolves() -> None:
    kb = load_assessment_knowledge()
    refs = load_references()
    cited = ([p.citation for p in kb.sources.priors]
             + [lk.citation for f in kb.findings.findings for lk in f.likelihoods]
             + [r.citation for r in kb.rules.red_flags]
             + [kb.rules.verdict.citation, kb.rules.offierski_macnab.citation])
    assert all(c and c in refs for c in cited)


def test_every_likelihood_ratio_is_in_range() -> None:
    for f in load_assessment_knowledge().findings.findings:
        for lk in f.likelihoods:
            lr_pos, lr_neg = lk.effective()
            assert lr_pos is not None or lr_neg is not None, f.id
            for lr in (lr_pos, lr_neg):
                assert lr is None or 0 < lr <= LR_SANITY_MAX, (f.id, lr)


def test_every_field_a_finding_refers_to_exists_in_the_case_model() -> None:
    missing = [c.field for c in _conditions(load_assessment_knowledge())
               if not _field_exists(c.field)]
    assert missing == []


@pytest.mark.parametrize("bad", [
    {"source": "hip", "lr_positive": 0, "citation": "x", "verified": "primary"},
    {"source": "hip", "lr_positive": 250, "citation": "x", "verified": "primary"},
    {"source": "hip", "citation": "x", "verified": "primary"},
    {"source": "hip", "lr_positive": 2, "sensitivity": 0.5, "specificity": 0.5,
     "citation": "x", "verified": "primary"},
])
def test_out_of_range_or_missing_lrs_are_rejected(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Likelihood.model_validate(bad)


def test_derived_lrs_follow_the_formula() -> None:
    lk = Likelihood(source="hip", sensitivity=0.9, specificity=0.8, citation="x",
                    verified="primary")
    lr_pos, lr_neg = lk.effective()
    assert lr_pos == pytest.approx(0.9 / 0.2)
    assert lr_neg == pytest.approx(0.1 / 0.8)


def test_every_source_has_a_fallback_prior() -> None:
    kb = load_assessment_knowledge()
    for src in kb.sources.sources:
        assert any(p.source == src.id and p.settings is None and not p.when
                   and p.age_min is None and p.age_max is None for p in kb.sources.priors)
