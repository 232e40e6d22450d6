"""Where the CDS service remembers the `jti` of every token it accepted, until the token's
time is up, so that a replayed token is refused (CDS Hooks "Trusting CDS Clients").

One server process keeps them in memory (`MemoryReplayStore`). Several worker processes
(`uvicorn --workers N`) must share them, or a token refused by one worker would be accepted
by the next: `SqliteReplayStore` keeps them in a table of a SQLite file that every worker on
the machine opens (`HIPSPINE_CDS_REPLAY_DB`).
"""

from __future__ import annotations

import heapq
import os
import sqlite3
import threading
import time
from typing import Protocol


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
