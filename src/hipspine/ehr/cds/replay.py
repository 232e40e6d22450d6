"""Where the CDS service remembers the `jti` of every token it accepted, until the token's
time is up, so that a replayed token is refused (CDS Hooks "Trusting CDS Clients").

One server process keeps them in memory (`MemoryReplayStore`). Several worker processes
(`uvicorn --workers N`) must share them, or a token refused by one worker would be accepted
by the next: `SqliteReplayStore` keeps them in a table of a SQLite file that every worker on
the machine opens (`HIPSPINE_CDS_REPLAY_DB`). Servers on several machines share the registry:
with a PostgreSQL registry, `RegistryReplayStore` keeps them in its table `cds_jti`.
"""

from __future__ import annotations

import heapq
import os
import sqlite3
import threading
import time
from typing import Any, Protocol


class ReplayStore(Protocol):
    def first_use(self, jti: str, until: float, now: float) -> bool:
        """Remember `jti` until `until`; False when it is already remembered (a replay)."""
        ...


class MemoryReplayStore:
    """The `jti` values of one process, forgotten (from a heap) once their time is up."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._expiries: list[tuple[float, str]] = []  # heap of (forget after, jti)
        self._lock = threading.Lock()

    def first_use(self, jti: str, until: float, now: float) -> bool:
        with self._lock:
            while self._expiries and self._expiries[0][0] < now:
                when, old = heapq.heappop(self._expiries)
                if self._seen.get(old) == when:
                    del self._seen[old]
            if jti in self._seen:
                return False
            self._seen[jti] = until
            heapq.heappush(self._expiries, (until, jti))
            return True


class SqliteReplayStore:
    """The `jti` values of every process on this machine, in table `cds_jti` of a SQLite file.

    One statement decides: the primary key lets a `jti` in once, and a row whose time is up
    counts as absent (so the answer is the same as `MemoryReplayStore`'s); SQLite's write
    lock makes the decision atomic across processes. Rows past their time are deleted about
    once a minute. Each process (and each fork) opens its own connection on first use.
    """

    PURGE_EVERY_SECONDS = 60.0

    def __init__(self, path: str, timeout_seconds: float = 10.0) -> None:
        self.path = path
        self._timeout = timeout_seconds
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        self._next_purge = 0.0
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        if self._db is None or self._pid != os.getpid():
            db = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None,
                                 check_same_thread=False)
            db.execute("PRAGMA synchronous=NORMAL")  # a commit survives a process crash
            # Workers starting together race to switch a new file to WAL, which SQLite
            # answers "locked" without waiting: retry until the timeout.
            deadline = time.monotonic() + self._timeout
            while True:
                try:
                    db.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
                    db.execute("CREATE TABLE IF NOT EXISTS cds_jti "
                               "(jti TEXT PRIMARY KEY, until REAL NOT NULL)")
                    break
                except sqlite3.OperationalError:
                    if time.monotonic() > deadline:
                        db.close()
                        raise
                    time.sleep(0.01)
            self._db, self._pid = db, os.getpid()
        return self._db

    def first_use(self, jti: str, until: float, now: float) -> bool:
        with self._lock:
            db = self._connection()
            if now >= self._next_purge:
                db.execute("DELETE FROM cds_jti WHERE until < ?", (now,))
                self._next_purge = now + self.PURGE_EVERY_SECONDS
            cursor = db.execute(
                "INSERT INTO cds_jti (jti, until) VALUES (?, ?) ON CONFLICT (jti) "
                "DO UPDATE SET until = excluded.until WHERE cds_jti.until < ?",
                (jti, until, now))
            return cursor.rowcount == 1


class RegistryReplayStore:
    """The `jti` values of every server using this registry, in its table `cds_jti`
    (migration 0002): how servers on several machines refuse each other's replays.

    The same one statement as `SqliteReplayStore` decides, in its own short transaction: the
    primary key lets a `jti` in once, and the `WHERE` of `ON CONFLICT DO UPDATE` lets in again
    only a row whose time is up. PostgreSQL takes a row lock on the conflicting key, so two
    servers inserting the same `jti` at once are serialised and exactly one sees a row
    written. Rows past their time are deleted about once a minute (per process).
    """

    PURGE_EVERY_SECONDS = 60.0
    _INSERT = ("INSERT INTO cds_jti (jti, until) VALUES (:jti, :until) ON CONFLICT (jti) "
               "DO UPDATE SET until = excluded.until WHERE cds_jti.until < :now")

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self._next_purge = 0.0
        self._lock = threading.Lock()

    def first_use(self, jti: str, until: float, now: float) -> bool:
        from sqlalchemy import text

        with self.engine.begin() as conn:
            with self._lock:
                purge, self._next_purge = ((True, now + self.PURGE_EVERY_SECONDS)
                                           if now >= self._next_purge
                                           else (False, self._next_purge))
            if purge:
                conn.execute(text("DELETE FROM cds_jti WHERE until < :now"), {"now": now})
            result = conn.execute(text(self._INSERT), {"jti": jti, "until": until, "now": now})
            return bool(result.rowcount == 1)


def replay_store_for(replay_db: str | None, registry_engine: Any = None) -> ReplayStore:
    """The store a server should use: the registry's table when the registry is PostgreSQL
    (shared by every machine), else the SQLite file `replay_db` (shared by the workers of
    one machine), else memory (one process)."""
    dialect = getattr(getattr(registry_engine, "dialect", None), "name", None)
    if registry_engine is not None and dialect == "postgresql":
        return RegistryReplayStore(registry_engine)
    if replay_db:
        return SqliteReplayStore(replay_db)
    return MemoryReplayStore()
