"""Keep patient identifiers out of logs.

Access logs name URL paths, and paths name patients (`/patients/P-00042`). The filter
replaces the id segment after an identifying collection with `{id}`, drops query strings,
and masks e-mail addresses, dates and long digit runs (MRNs, phone numbers) in any
message. It is installed on the root, uvicorn and hipspine loggers by `install()`.
"""

from __future__ import annotations

import logging
import re

# Path segments that are followed by an identifier of a patient or their records.
_ID_COLLECTIONS = ("patients", "patient", "episodes", "treatments", "assessments", "proms",
                   "self-report", "submissions", "users")
_ID_AFTER = re.compile(r"(/(?:" + "|".join(map(re.escape, _ID_COLLECTIONS)) + r")/)"
                       r"(?!new(?:[/?#\s]|$))([^/?#\s]+)")
_QUERY = re.compile(r"\?[^\s\"']*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b")
_DIGITS = re.compile(r"\b\d{6,}\b")

LOGGERS = ("", "uvicorn", "uvicorn.access", "uvicorn.error", "hipspine", "fastapi")


def redact(text: str) -> str:
    """Return `text` with identifiers masked (see the module docstring)."""
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


_FILTER = RedactIdentifiers()


def install() -> None:
    """Attach the filter to the loggers and to every handler they already have."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
