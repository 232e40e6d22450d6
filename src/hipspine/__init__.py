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

from hipspine.errors import HipspineError, InputError, KnowledgeBaseError, NotFoundError
from hipspine.models import Assessment, Case, parse_case
from hipspine.version import ENGINE_VERSION

__all__ = [
    "ENGINE_VERSION",
    "Assessment",
    "Case",
    "HipspineError",
    "InputError",
    "KnowledgeBaseError",
    "NotFoundError",
    "parse_case",
]
