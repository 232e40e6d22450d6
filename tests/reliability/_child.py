"""Run the real `hipspine` CLI in a child process that can be stopped at an exact point.

Every SQL statement the child sends, and every COMMIT, is announced on stderr as
`@@ <n> <what>`. With `HIPSPINE_TEST_PAUSE_AT=<n>` the child stops just before its n-th
announced step and waits for a line on stdin: the parent either kills it there (SIGKILL, a
crash at exactly that point) or releases it (a barrier, to start two writers at once).
Test-only: nothing here is imported by hipspine itself.
"""

from __future__ import annotations

import os
import sys

from sqlalchemy import event
from sqlalchemy.engine import Engine

PAUSE_AT = int(os.environ.get("HIPSPINE_TEST_PAUSE_AT", "0") or 0)
_count = 0


def _step(what: str) -> None:
    global _count
    _count += 1
    sys.stderr.write(f"@@ {_count} {what}\n")
    sys.stderr.flush()
    if _count == PAUSE_AT:
        sys.stderr.write(f"@@ paused {_count}\n")
        sys.stderr.flush()
        sys.stdin.readline()


def _before_execute(_conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
    _step(" ".join(str(statement).split())[:60])


def _before_commit(_conn) -> None:  # type: ignore[no-untyped-def]
    _step("COMMIT")


event.listen(Engine, "before_cursor_execute", _before_execute)
event.listen(Engine, "commit", _before_commit)

if __name__ == "__main__":
    from hipspine.cli import main

    sys.argv = ["hipspine", *sys.argv[1:]]
    main()
