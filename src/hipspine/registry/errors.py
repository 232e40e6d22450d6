"""The registry's conflict error: valid input that clashes with what another writer stored."""

from __future__ import annotations

from hipspine.errors import InputError


class WriteConflictError(InputError):
    """Input that is valid on its own but clashes with the registry: a pseudonym already
    registered, or a record another writer stored while this write ran. Nothing was written.

    An `InputError`, so the CLI exits 2 and names each clash (field, value, what is
    allowed); the web layer answers such clashes with its own `ConflictError` (HTTP 409).
    """

    def __str__(self) -> str:
        lines = [f"conflict: {self.what}:"] + [f"  - {p}" for p in self.problems]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "error": "conflict"}
