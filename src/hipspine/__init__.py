"""hipspine: decision support and outcomes research for hip-spine syndrome.

The clinical core is pure and light: importing `hipspine` pulls in no web, database or
analytics library. Typical use::

    import hipspine
    kb = hipspine.load_knowledge()
    case = hipspine.parse_case(open("case.json").read())
    result = hipspine.assess(case, kb)
    print(result.verdict)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hipspine.errors import HipspineError, InputError, KnowledgeBaseError, NotFoundError
from hipspine.models import Assessment, Case, parse_case
from hipspine.version import ENGINE_VERSION

if TYPE_CHECKING:
    from hipspine.assess.knowledge import AssessmentKnowledge


def load_knowledge() -> AssessmentKnowledge:
    """The packaged assessment knowledge base, validated at first load and cached."""
    from hipspine.assess.api import load_knowledge as _load

    return _load()


def assess(case: Case | dict[str, Any] | str, kb: AssessmentKnowledge | None = None, *,
           read_texts: bool = True, evidence: str | None = None) -> Assessment:
    """Assess one case (a `Case`, dict or JSON text): verdict, sources, reasons, next tests.

    `evidence`: which likelihood ratios count ("verified" by default, "primary" or "all")."""
    from hipspine.assess.api import assess as _assess

    return _assess(case, kb, read_texts=read_texts, evidence=evidence)

__all__ = [
    "ENGINE_VERSION",
    "Assessment",
    "Case",
    "HipspineError",
    "InputError",
    "KnowledgeBaseError",
    "NotFoundError",
    "assess",
    "load_knowledge",
    "parse_case",
]
