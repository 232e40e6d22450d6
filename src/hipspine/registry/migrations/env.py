"""Alembic environment: the connection comes from `hipspine.registry.database`, not an ini file.

`migrate` and `downgrade` pass a connection already inside `write_transaction` (the write
lock held, and on SQLite the driver's own transaction handling off), so every migration
step, DDL and the recorded revision alike, commits together or not at all.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from hipspine.registry.tables import Base

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():  # inside the caller's transaction: no commit here
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # alembic driven by hand with only an engine
    from hipspine.registry.database import write_transaction

    with write_transaction(config.attributes["engine"]) as conn:
        _run(conn)
