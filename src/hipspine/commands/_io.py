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
    """Read a file, or standard input when `path` is '-', as UTF-8 (a byte-order mark is
    ignored); anything else is an `InputError` (exit 2), never a traceback."""
    p = Path(path)
    if path != "-" and not p.is_file():
        raise InputError.single("path", path, "an existing readable file, or - for stdin",
                                what="command-line argument")
    try:
        text = sys.stdin.read() if path == "-" else p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError.single(path if path != "-" else "(standard input)",
                                f"byte {exc.start}", "UTF-8 text",
                                what="command-line argument") from None
    return text.removeprefix("\ufeff")


def print_json(payload: BaseModel | dict[str, Any] | list[Any]) -> None:
    if isinstance(payload, BaseModel):
        text = payload.model_dump_json(indent=2)
    else:
        text = json.dumps(payload, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write(text + "\n")
