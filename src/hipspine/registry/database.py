"""Where the registry lives and how to open it.

`HIPSPINE_DATABASE_URL` names the database (SQLite or `postgresql+psycopg://...`); without
it, a SQLite file in the user's data directory. SQLite connections run with WAL and foreign
keys on, so a killed process never leaves half a transaction and orphans are refused.

Bulk writers (migrations, `registry import`, `synth`) run in `write_transaction`: one
transaction that holds the registry's write lock from its first statement to its commit
(SQLite `BEGIN IMMEDIATE`; a PostgreSQL advisory lock), so a kill leaves nothing of it and
two of them never interleave: the second waits, then sees what the first committed. A
migration is such a transaction too, DDL included, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from hipspine.errors import ConflictError, InputError, Problem

ENV_VAR = "HIPSPINE_DATABASE_URL"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# The PostgreSQL advisory lock every bulk writer holds (the bytes of "hipspine" as a bigint).
WRITE_LOCK_KEY = int.from_bytes(b"hipspine", "big") & (2**63 - 1)
BUSY_TIMEOUT_MS = 30_000


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
    # Outside any transaction (a fresh connection): PRAGMA foreign_keys and journal_mode
    # have no effect inside one. The busy timeout first, so that switching a new file to
    # WAL waits for another process doing the same instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _on_exclusive_sqlite_connect(dbapi_connection: Any, record: Any) -> None:
    """SQLAlchemy's documented recipe for real SQLite transactions: pysqlite's own
    transaction handling off (it would run DDL outside any transaction, and begin one only
    at the first INSERT), and BEGIN emitted by `_on_exclusive_sqlite_begin`."""
    _on_sqlite_connect(dbapi_connection, record)
    dbapi_connection.isolation_level = None


def _on_exclusive_sqlite_begin(conn: Connection) -> None:
    # IMMEDIATE: the write lock at once, so reads made to decide what to write (the schema
    # revision, pseudonyms already registered, the highest id) cannot go stale.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


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
        ensure_schema(engine)
    return engine


def ensure_schema(engine: Engine) -> None:
    """Create the schema of a registry that has none recorded yet (first use).

    Safe when several processes start on the same new database at once: the migration
    runs in `write_transaction`, so one creates the schema and the others then find it."""
    try:
        with engine.connect() as conn:
            recorded = _recorded_revision(conn)
    except OperationalError as exc:
        raise InputError.single(ENV_VAR, _shown(engine), "a reachable database",
                                str(exc.orig).strip(), what="database URL") from None
    if recorded is None:
        migrate(engine)


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _recorded_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction holding the registry's write lock from its first statement.

    Commits when the block ends and rolls back on any error; a killed process leaves
    nothing of it. Another bulk writer waits for the lock (SQLite: up to the 30 s busy
    timeout, then `ConflictError`), then sees everything this one committed.
    Ordinary ORM sessions (`session_scope`, the web app) keep the driver's defaults.
    """
    if engine.dialect.name == "sqlite":
        if _sqlite_file(engine.url.render_as_string(hide_password=False)) is None:
            with engine.begin() as conn:  # an in-memory database has one connection
                yield conn
            return
        exclusive = create_engine(engine.url, poolclass=NullPool)
        event.listen(exclusive, "connect", _on_exclusive_sqlite_connect)
        event.listen(exclusive, "begin", _on_exclusive_sqlite_begin)
        try:
            with exclusive.begin() as conn:
                yield conn
        except OperationalError as exc:
            if "locked" in str(exc.orig) or "busy" in str(exc.orig):
                raise _busy(engine) from None
            raise
        finally:
            exclusive.dispose()
        return
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
        yield conn


def _busy(engine: Engine) -> ConflictError:
    return ConflictError([Problem(
        ENV_VAR, _shown(engine), "a registry no other process is writing to",
        f"another writer held it for more than {BUSY_TIMEOUT_MS // 1000} s; nothing was "
        "written: try again when it has finished")], what="registry write")


def _alembic_config(engine: Engine, connection: Connection | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    cfg.attributes["connection"] = connection
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the registry schema to `revision` (default: the newest), all or nothing.

    Every step, DDL and the recorded revision alike, is one `write_transaction`: a kill
    leaves the schema as it was, and concurrent callers run one after the other. A schema
    an older hipspine half-made (its tables but no recorded revision) is rebuilt when its
    tables hold no rows, and refused with `InputError` saying what to do when they do."""
    from alembic import command

    with write_transaction(engine) as conn:
        _clear_half_made_schema(engine, conn)
        command.upgrade(_alembic_config(engine, conn), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Downgrade the registry schema (used by tests and by operators rolling back)."""
    from alembic import command

    with write_transaction(engine) as conn:
        command.downgrade(_alembic_config(engine, conn), revision)


def _clear_half_made_schema(engine: Engine, conn: Connection) -> None:
    """Registry tables without a recorded revision: what a migration killed under an older
    hipspine left (pysqlite ran each CREATE TABLE outside the migration's transaction).
    Empty, they are dropped so the migration can start over; holding rows, refused."""
    from sqlalchemy import func, select, table

    from hipspine.registry.tables import Base

    if _recorded_revision(conn) is not None:
        return
    present = sorted(set(inspect(conn).get_table_names()) & set(Base.metadata.tables))
    if not present:
        return
    holding = [name for name in present
               if conn.execute(select(func.count()).select_from(table(name))).scalar()]
    if holding:
        raise InputError.single(
            ENV_VAR, _shown(engine),
            "an empty database, or a registry whose schema revision is recorded "
            "(table alembic_version)",
            f"tables {', '.join(holding)} hold rows but no schema revision is recorded "
            "(not made by hipspine, or a migration an older version was running was "
            "interrupted); nothing was changed. Back it up, then move it aside or point "
            f"{ENV_VAR} at another database: hipspine starts a new registry there",
            what="registry schema")
    found = MetaData()
    found.reflect(conn, only=present)
    found.drop_all(conn)


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
