"""One error family for hipspine.

Adapters map these to their own world in one place each: the CLI to exit codes
(`hipspine.cli`), the web layer to HTTP status codes (`hipspine.web`).
"""

from __future__ import annotations

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


class NotFoundError(HipspineError):
    """A named thing (patient, episode, instrument) does not exist. HTTP 404."""


class KnowledgeBaseError(HipspineError):
    """The knowledge base failed validation: a packaging or curation defect, not user input."""


class PermissionDeniedError(HipspineError):
    """The caller's role does not allow this. HTTP 403."""


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return _short_repr(value)
