"""Keep patient identifiers and secrets out of logs: one redaction layer for every line.

Access logs name URL paths, and paths name patients (`/patients/P-00042`). The filter
replaces the id segment after an identifying collection with `{id}`, drops query strings,
masks e-mail addresses, dates and long digit runs (MRNs, phone numbers), and masks
credentials: API tokens (`hst_...`), JWTs, `Bearer ...` values and cookies. A traceback
keeps its frames (code, not data) but withholds every exception's message, which may quote
a request body (a validation error quotes its input).

`install()` makes it the record factory, so every record of every logger is redacted when
it is made, whatever handlers a server configures later; it is also attached as a filter
to the root, uvicorn and hipspine loggers and their handlers.
"""

from __future__ import annotations

import logging
import re
import traceback
from types import TracebackType
from typing import Any

# Path segments that are followed by an identifier of a patient or their records.
_ID_COLLECTIONS = ("patients", "patient", "episodes", "treatments", "assessments", "proms",
                   "self-report", "submissions", "users", "q", "tokens", "links")
_ID_AFTER = re.compile(r"(/(?:" + "|".join(map(re.escape, _ID_COLLECTIONS)) + r")/)"
                       r"(?!new(?:[/?#\s]|$))([^/?#\s]+)")
_QUERY = re.compile(r"\?[^\s\"']*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b")
_DIGITS = re.compile(r"\b\d{6,}\b")
_SECRET = re.compile(
    r"\bhst_[A-Za-z0-9_-]+"                                   # hipspine API tokens
    r"|\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*"  # JWTs (header "eyJ...")
    r"|(?i:\b(?:bearer|basic)\s+)[^\s\"',]+"                # Authorization values
    r"|(?i:\b(?:cookie|set-cookie|hipspine_session)\b[=:]\s*)[^\s\"']+")

LOGGERS = ("", "uvicorn", "uvicorn.access", "uvicorn.error", "hipspine", "fastapi")


def redact(text: str) -> str:
    """Return `text` with identifiers and credentials masked (see the module docstring)."""
    text = _SECRET.sub("{secret}", text)
    text = _ID_AFTER.sub(r"\1{id}", text)
    text = _QUERY.sub("?{query}", text)
    text = _EMAIL.sub("{email}", text)
    text = _DATE.sub("{date}", text)
    return _DIGITS.sub("{number}", text)


class RedactIdentifiers(logging.Filter):
    """A logging filter that masks identifiers in each record's message and arguments.

    Arguments stay a tuple where they were one: uvicorn's access formatter unpacks them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_hipspine_redacted", False):
            return True
        record._hipspine_redacted = True
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redacted_traceback(*record.exc_info)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        args = record.args
        if isinstance(args, tuple) and args:
            record.args = tuple(_redact_arg(a) for a in args)
            if isinstance(record.msg, str):
                record.msg = redact(record.msg)
        elif isinstance(args, dict) and args:
            record.args = {k: _redact_arg(v) for k, v in args.items()}
            if isinstance(record.msg, str):
                record.msg = redact(record.msg)
        else:
            record.msg = redact(str(record.msg))
            record.args = None
        return True


def _redact_arg(value: object) -> object:
    """Numbers stay numbers (for %d); anything else is masked as text (URLs, paths, ids)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redact(str(value))


def redacted_traceback(kind: type[BaseException], value: BaseException | None,
                       tb: TracebackType | None) -> str:
    """The traceback's frames with each exception named but its message withheld."""
    lines: list[str] = []
    seen: set[int] = set()
    chain: list[tuple[BaseException | None, type[BaseException], TracebackType | None]] = []
    current: BaseException | None = value
    chain.append((value, kind, tb))
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        cause = current.__cause__ or (None if current.__suppress_context__
                                      else current.__context__)
        if cause is not None:
            chain.append((cause, type(cause), cause.__traceback__))
        current = cause
    for n, (_exc, exc_type, exc_tb) in enumerate(reversed(chain)):
        if n:
            lines.append("\nDuring handling of the above exception, another exception "
                         "occurred:\n\n")
        lines.append("Traceback (most recent call last):\n")
        lines += traceback.format_tb(exc_tb)
        lines.append(f"{exc_type.__module__}.{exc_type.__qualname__}: "
                     "(message withheld from the log: it may quote patient data)\n")
    return redact("".join(lines).rstrip("\n"))


_FILTER = RedactIdentifiers()
_FACTORY_INSTALLED = False


def install() -> None:
    """Redact every record as it is made, and attach the filter to the loggers and to every
    handler they already have (for records made before `install`, or by another factory)."""
    global _FACTORY_INSTALLED
    if not _FACTORY_INSTALLED:
        previous = logging.getLogRecordFactory()

        def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _FILTER.filter(record)
            return record

        logging.setLogRecordFactory(redacting_factory)
        _FACTORY_INSTALLED = True
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
