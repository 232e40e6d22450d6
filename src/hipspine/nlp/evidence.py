"""What every reader reports beside the fields it fills: the statement, its ConText
modifiers and what (if anything) it filled."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class EvidenceItem(BaseModel):
    """One statement the reader used or set aside, with its ConText modifiers."""

    model_config = ConfigDict(frozen=True)

    field: str
    text: str
    negated: bool
    uncertain: bool
    historical: bool = False
    rule: str
    value: dict[str, object] = {}
    source: str | None = None
