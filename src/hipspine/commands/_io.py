"""Shared CLI plumbing: read a document from a path or '-', print text or JSON."""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from hipspine.errors import InputError


class OutputFormat(enum.StrEnum):
    text = "text"
    json = "json"


def read_text(path: str) -> str:
    """Read a file, or standard input when `path` is '-'."""
    if path == "-":
        return sys.stdin.read()
    p = Path(path)
    if not p.is_file():
        raise InputError.single("path", path, "an existing readable file, or - for stdin",
                                what="command-line argument")
    return p.read_text(encoding="utf-8")


def print_json(payload: BaseModel | dict[str, Any] | list[Any]) -> None:
    if isinstance(payload, BaseModel):
        text = payload.model_dump_json(indent=2)
    else:
        text = json.dumps(payload, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write(text + "\n")
