"""Packaging promises: a light import, a curated public API, every CLI area present."""

from __future__ import annotations

import importlib
import subprocess
import sys

import hipspine
from hipspine import cli


def test_public_api_matches_all() -> None:
    exported = {name for name in dir(hipspine) if not name.startswith("_")}
    for name in hipspine.__all__:
        assert name in exported, name


def test_import_is_light() -> None:
    code = (
        "import sys, hipspine; "
        "heavy = [m for m in ('fastapi', 'sqlalchemy', 'pandas', 'duckdb', 'pyspark', "
        "'matplotlib', 'lifelines', 'statsmodels') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


def test_every_command_module_exists_and_registers() -> None:
    for name in cli.COMMAND_MODULES:
        module = importlib.import_module(f"hipspine.commands.{name}")
        assert callable(module.register), name
