"""Run the hipspine CLI entry point in the test's own process: the same error mapping to
exit codes as a subprocess, without an interpreter start per case."""

from __future__ import annotations

import io
import sys

import pytest


def run_cli_here(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                 *args: str, database_url: str | None = None,
                 stdin: str | None = None) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `hipspine ARGS`, on `database_url` if given."""
    from hipspine.cli import main

    if database_url is not None:
        monkeypatch.setenv("HIPSPINE_DATABASE_URL", database_url)
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    monkeypatch.setattr(sys, "argv", ["hipspine", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
