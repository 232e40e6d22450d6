"""Drive `hipspine` in a child process (tests/reliability/_child.py) and stop it at an exact
SQL step: to kill it there (SIGKILL), or to release several children at once."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

CHILD = Path(__file__).with_name("_child.py")
ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 120  # generous: CI runs the whole suite on 2 shared cores


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    steps: list[str] = field(default_factory=list)  # the "@@ n what" lines, in order
    busy_s: float = 0.0  # from the first SQL step to the end

    def step_of(self, prefix: str, last: bool = False) -> int:
        """The number of the first (or last) step whose statement starts with `prefix`."""
        found = [n for n, line in enumerate(self.steps, 1)
                 if line.split(" ", 2)[2].startswith(prefix)]
        assert found, f"no step {prefix!r} in {self.steps}"
        return found[-1] if last else found[0]

    @property
    def messages(self) -> str:
        """stderr without the step announcements."""
        return "\n".join(line for line in self.stderr.splitlines() if not line.startswith("@@"))


class Child:
    """One `hipspine` process; `pause_at` = the SQL step (1-based) to stop before."""

    def __init__(self, url: str, *args: str, pause_at: int = 0) -> None:
        env = {**os.environ, "HIPSPINE_DATABASE_URL": url,
               "HIPSPINE_TEST_PAUSE_AT": str(pause_at), "PYTHONUNBUFFERED": "1"}
        self.args = args
        self.proc = subprocess.Popen([sys.executable, str(CHILD), *args], env=env, cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        self._stdout: list[str] = []
        self.first_step_at: float | None = None
        threading.Thread(target=self._pump_stderr, daemon=True).start()
        threading.Thread(target=self._pump_stdout, daemon=True).start()

    def _pump_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if self.first_step_at is None and line.startswith("@@ "):
                self.first_step_at = time.monotonic()
            self._stderr.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def _pump_stdout(self) -> None:
        assert self.proc.stdout is not None
        self._stdout.append(self.proc.stdout.read())

    def wait_for(self, prefix: str, timeout: float = WAIT_S) -> bool:
        """Read stderr until a line starting with `prefix`; False if the child ended first."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"no {prefix!r} from {self.args} within {timeout} s: "
                                   + "".join(self._stderr[-5:])) from None
            if line is None:
                return False
            if line.startswith(prefix):
                return True

    def wait_paused(self) -> bool:
        return self.wait_for("@@ paused")

    def release(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(WAIT_S)

    def finish(self) -> Outcome:
        try:
            self.proc.wait(WAIT_S)
        finally:
            if self.proc.poll() is None:
                self.kill()
        ended = time.monotonic()
        time.sleep(0.05)  # let the pump threads drain the pipes
        stderr = "".join(self._stderr)
        steps = [line.strip() for line in self._stderr if line.startswith("@@ ")
                 and not line.startswith("@@ paused")]
        busy = ended - self.first_step_at if self.first_step_at is not None else 0.0
        return Outcome(self.proc.returncode, "".join(self._stdout), stderr, steps, busy)


def run(url: str, *args: str) -> Outcome:
    """A whole run, every SQL step announced (the reference for choosing kill points)."""
    return Child(url, *args).finish()


def kill_at(url: str, step: int, *args: str) -> bool:
    """Run until just before SQL step `step` and kill -9 there; False if it finished first."""
    child = Child(url, *args, pause_at=step)
    paused = child.wait_paused()
    if paused:
        child.kill()
    else:
        child.finish()
    return paused


def kill_after(url: str, seconds: float, *args: str) -> bool:
    """Kill -9 `seconds` after the first SQL step (inside statements the step hooks do not
    see, such as PostgreSQL COPY); False if it finished first."""
    child = Child(url, *args)
    if not child.wait_for("@@ 1 "):
        child.finish()
        return False
    time.sleep(seconds)
    alive = child.proc.poll() is None
    child.kill() if alive else child.finish()
    return alive
