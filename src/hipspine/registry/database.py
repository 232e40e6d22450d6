"""Where the registry lives and how to open it.

`HIPSPINE_DATABASE_URL` names the database (SQLite or `postgresql+psycopg://...`); without
it, a SQLite file in the user's data directory. SQLite connections run with WAL and foreign
keys on, so a killed process never leaves half a transaction and orphans are refused.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hipspine.errors import InputError

ENV_VAR = "HIPSPINE_DATABASE_URL"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def default_sqlite_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("hipspine")) / "registry.sqlite"


def database_url() -> str:
    """The registry URL: `HIPSPINE_DATABASE_URL`, else the default SQLite file."""
    url = os.environ.get(ENV_VAR, "").strip()
    if url:
        return url
    return f"sqlite:///{default_sqlite_path()}"


def _sqlite_file(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[1] if "///" in url else ""
    if path in ("", ":memory:"):
        return None
    return Path(path)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def get_engine(url: str | None = None, *, auto_migrate: bool = True) -> Engine:
    """An engine for the registry; a fresh (empty) database is migrated to head on first use."""
    url = url or database_url()
    if not url.startswith(("sqlite", "postgresql")):
        raise InputError.single(ENV_VAR, url, "sqlite:///PATH or postgresql+psycopg://...",
                                what="database URL")
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None:
        sqlite_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(url, future=True)
    except Exception as exc:  # bad driver name, malformed URL
        raise InputError.single(ENV_VAR, url, "a valid SQLAlchemy URL", str(exc),
                                what="database URL") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _on_sqlite_connect)
    if auto_migrate:
        try:
            fresh = not inspect(engine).has_table("alembic_version")
        except OperationalError as exc:
            raise InputError.single(ENV_VAR, engine.url.render_as_string(hide_password=True),
                                    "a reachable database", str(exc.orig).strip(),
                                    what="database URL") from None
        if fresh:  # a new, empty registry: create the schema on first use
            migrate(engine)
    return engine


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the registry schema to `revision` (default: the newest)."""
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Downgrade the registry schema (used by tests and by operators rolling back)."""
    from alembic import command

    command.downgrade(_alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


_SESSIONMAKERS: dict[int, sessionmaker[Session]] = {}


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit when the block ends, roll everything back on any error."""
    maker = _SESSIONMAKERS.get(id(engine))
    if maker is None:
        maker = sessionmaker(bind=engine, expire_on_commit=False)
        _SESSIONMAKERS[id(engine)] = maker
    session = maker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
