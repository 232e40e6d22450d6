"""The audit trail's one writer: who did what to which resource, in the caller's transaction.

Every write path (web requests, CLI import, export and synth) records its event through
`record_audit` inside the same transaction as the data it concerns, so a write that fails
or is killed leaves neither its rows nor its audit event. `detail` holds counts and internal
ids only, never a pseudonym or any other patient identifier.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy.orm import Session

from hipspine.registry.tables import AuditEvent

CLI_ROLE = "cli"
_ACTOR_LENGTH = 64  # audit_events.actor
_ROLE_LENGTH = 16  # audit_events.role


@dataclass(frozen=True)
class AuditActor:
    """Who is acting: a web user (`username`, role) or a local process (`cli:<os user>`)."""

    name: str | None
    role: str | None


def cli_actor() -> AuditActor:
    """The operating-system user running the command line, as `cli:<user>` (role `cli`)."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name (e.g. a container without a passwd entry)
        user = "unknown"
    return AuditActor(f"cli:{user}"[:_ACTOR_LENGTH], CLI_ROLE)


def record_audit(target: Session | Connection, actor: AuditActor | None, action: str,
                 resource_type: str | None = None, resource_id: int | str | None = None,
                 detail: dict[str, Any] | None = None) -> None:
    """Add one audit event to the transaction of `target` (an ORM session or a Core
    connection); it is written, or not, with that transaction's other changes."""
    values = {
        "actor": actor.name[:_ACTOR_LENGTH] if actor and actor.name else None,
        "role": actor.role[:_ROLE_LENGTH] if actor and actor.role else None,
        "action": action, "resource_type": resource_type,
        "resource_id": None if resource_id is None else str(resource_id),
        "detail": detail,
    }
    if isinstance(target, Session):
        target.add(AuditEvent(**values))
    else:
        target.execute(insert(AuditEvent), [values])


__all__ = ["CLI_ROLE", "AuditActor", "cli_actor", "record_audit"]
