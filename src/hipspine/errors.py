"""One error family for hipspine.

Adapters map these to their own world in one place each: the CLI to exit codes
(`hipspine.cli`), the web layer to HTTP status codes (`hipspine.web`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


class HipspineError(Exception):
    """Base class of every error hipspine raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where, what was given, what is allowed."""

    field: str
    value: Any
    allowed: str
    message: str = ""

    def __str__(self) -> str:
        shown = _short_repr(self.value)
        text = f"{self.field}: got {shown}; allowed: {self.allowed}"
        return f"{text} ({self.message})" if self.message else text

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "value": _jsonable(self.value),
            "allowed": self.allowed,
            "message": self.message,
        }


@dataclass
class InputError(HipspineError):
    """Bad input from a user or client. CLI exit code 2; HTTP 422."""

    problems: list[Problem] = field(default_factory=list)
    what: str = "input"

    def __post_init__(self) -> None:
        super().__init__(str(self))

    @classmethod
    def single(cls, field: str, value: Any, allowed: str, message: str = "",
               what: str = "input") -> InputError:
        return cls([Problem(field, value, allowed, message)], what=what)

    def __str__(self) -> str:
        lines = [f"invalid {self.what}:"] + [f"  - {p}" for p in self.problems]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {"error": "invalid_input", "what": self.what,
                "problems": [p.as_dict() for p in self.problems]}


class ConflictError(InputError):
    """Input valid on its own that clashes with what is stored: a pseudonym already
    registered, or a record another writer stored meanwhile. Nothing was written. CLI exit
    code 2; HTTP 409."""

    def __str__(self) -> str:
        lines = [f"conflict: {self.what}:"] + [f"  - {p}" for p in self.problems]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "error": "conflict"}


class NotFoundError(HipspineError):
    """A named thing (patient, episode, instrument) does not exist. HTTP 404."""


class KnowledgeBaseError(HipspineError):
    """The knowledge base failed validation: a packaging or curation defect, not user input."""


class PermissionDeniedError(HipspineError):
    """The caller's role does not allow this. HTTP 403."""


def _short_repr(value: Any, limit: int = 80) -> str:
    try:
        text = repr(value)
    except ValueError:  # an integer too long to write out
        text = f"({type(value).__name__} too large to show)"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _jsonable(value: Any, depth: int = 0) -> Any:
    """`value` as it can be echoed in a JSON error body: finite numbers, short text without
    lone surrogates, and shallow containers; anything else as a short repr."""
    if value is None or isinstance(value, (bool, int)):
        return value if not isinstance(value, int) or abs(value) < 2**63 else _short_repr(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, str):
        text = value if len(value) <= 200 else value[:197] + "..."
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    if depth < 3 and isinstance(value, (list, tuple)):
        return [_jsonable(v, depth + 1) for v in value[:20]]
    if depth < 3 and isinstance(value, dict):
        return {str(_jsonable(str(k))): _jsonable(v, depth + 1)
                for k, v in list(value.items())[:20]}
    return _short_repr(value)
