"""The formats hipspine reads and writes (Pydantic v2)."""

from __future__ import annotations

from typing import Any

from hipspine.models.assessment import ASSESSMENT_FORMAT, Assessment
from hipspine.models.case import CASE_FORMAT, Case
from hipspine.models.validation import parse_model


def parse_case(data: Any) -> Case:
    """Validate a case (dict or JSON text); raise `InputError` naming each bad field.

    >>> parse_case({"format": "hipspine.case/1", "age": 70}).age
    70
    """
    return parse_model(Case, data, what="case")


__all__ = ["ASSESSMENT_FORMAT", "CASE_FORMAT", "Assessment", "Case", "parse_case", "parse_model"]
