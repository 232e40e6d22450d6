"""Shapes shared by every knowledge file: references and the evidence note on each entry."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

Verification = Literal["primary", "secondary", "unverified", "design_choice"]
"""How the figure was checked: against the primary paper or its abstract, against a review
or guideline quoting it, or not at all (then the engine flags every use of it); or it is no
published figure but a design choice, marked as one, whose effect on the published-case
benchmark `hipspine eval cases --ablate` measures."""


class KBModel(BaseModel):
    """Base of every knowledge-file model: unknown fields are curation errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Reference(KBModel):
    """One published source. `id` is the citekey other files use in `citation` fields."""

    id: str
    authors: str
    title: str
    journal: str | None = None
    year: int
    volume: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    url: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _locatable(self) -> Reference:
        if not (self.doi or self.pmid or self.pmcid or self.url):
            raise ValueError(f"reference {self.id!r} needs a doi, pmid, pmcid or url")
        return self

    def short(self) -> str:
        """'Suri 2010, JAMA, doi:...' style label for outputs."""
        first = self.authors.split(",")[0].split(" ")[0]
        if first.startswith("("):  # authors not captured
            first = "Anon."
        where = f", {self.journal}" if self.journal else ""
        ident = (f", doi:{self.doi}" if self.doi else f", PMID {self.pmid}" if self.pmid
                 else f", {self.pmcid}" if self.pmcid else f", {self.url}")
        return f"{first} {self.year}{where}{ident}"


class Evidence(KBModel):
    """The provenance every clinical entry carries."""

    citation: str
    verified: Verification
    strength: str | None = None  # e.g. "meta-analysis", "derivation study, not validated"
    note: str | None = None
