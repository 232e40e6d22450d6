"""The registry's field rules, defined once for every way data comes in.

The API bodies (`hipspine.web.schemas`), the web forms (which validate through those same
models) and the registry import (`hipspine.registry.transfer`) all use these types, so a
pseudonym or a date the API refuses is refused by the import too, with the same words.

- Pseudonym: 1 to 64 characters, each an ASCII letter, digit, '.', '_' or '-'. A site's
  key, never a name: no spaces, no control characters (NUL), no emoji or other Unicode.
- Clinical date (an episode opened or closed, a treatment performed, a PROM answered):
  `YYYY-MM-DD` text (or a `date`), from 1900-01-01 to today. "Today" is the latest calendar
  date anywhere on Earth (UTC+14), so a clinic east of the server is not refused for
  entering its own today; a date that has begun nowhere yet is in the future and refused.
- Year of birth: a whole number from 1890 to this year (no one is born in the future).
- Free text stored in the registry (a treatment's level, a token label, a display name):
  no control characters (NUL cannot even be stored by PostgreSQL), within its column size.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from hipspine.errors import Problem

PSEUDONYM_MAX_LENGTH = 64
PSEUDONYM_PATTERN = r"^[A-Za-z0-9._-]+$"
PSEUDONYM_ALLOWED = (f"1 to {PSEUDONYM_MAX_LENGTH} characters, each a letter A-Z or a-z, "
                     "a digit, '.', '_' or '-' (a site's key, never a name)")
EARLIEST_CLINICAL_DATE = dt.date(1900, 1, 1)
EARLIEST_YEAR_OF_BIRTH = 1890
LATEST_UTC_OFFSET = dt.timedelta(hours=14)  # the first time zone to reach a new day
_PSEUDONYM = re.compile(r"[A-Za-z0-9._-]{1,%d}" % PSEUDONYM_MAX_LENGTH)  # noqa: UP031
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def latest_clinical_date() -> dt.date:
    """Today where it is latest (UTC+14): the last date that is not in the future."""
    return (dt.datetime.now(dt.UTC) + LATEST_UTC_OFFSET).date()


def clinical_date_allowed() -> str:
    return (f"a date YYYY-MM-DD from {EARLIEST_CLINICAL_DATE.isoformat()} to today "
            f"({latest_clinical_date().isoformat()}), not in the future")


def _pseudonym(value: Any) -> str:
    if not isinstance(value, str) or not _PSEUDONYM.fullmatch(value):
        raise PydanticCustomError("pseudonym", PSEUDONYM_ALLOWED)
    return value


def _day(value: Any) -> Any:
    """Dates only as ISO `YYYY-MM-DD` text or a `date`: a bare number is not silently a day
    in 1970, and week dates or compact forms (2024-W01-1, 20240101) are not guessed."""
    if isinstance(value, dt.datetime):
        raise PydanticCustomError("clinical_date", clinical_date_allowed())
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError("clinical_date", clinical_date_allowed())


def has_control_character(text: str) -> bool:
    """C0 and C1 control characters (NUL, escape, ...), which no registry text may hold."""
    return any(ord(c) < 32 or 127 <= ord(c) < 160 for c in text)


def _plain(value: str) -> str:
    if has_control_character(value):
        raise PydanticCustomError("plain_text", "text without control characters")
    return value


# Use as Annotated[PlainText, Field(max_length=N)] with the column's size.
PlainText = Annotated[str, AfterValidator(_plain)]


def _in_clinical_range(value: dt.date) -> dt.date:
    if not EARLIEST_CLINICAL_DATE <= value <= latest_clinical_date():
        raise PydanticCustomError("clinical_date", clinical_date_allowed())
    return value


def year_of_birth_allowed() -> str:
    return f"a year from {EARLIEST_YEAR_OF_BIRTH} to {latest_clinical_date().year}"


def _year_of_birth(value: int) -> int:
    if not EARLIEST_YEAR_OF_BIRTH <= value <= latest_clinical_date().year:
        raise PydanticCustomError("year_of_birth", year_of_birth_allowed())
    return value


YearOfBirth = Annotated[int, AfterValidator(_year_of_birth),
                        Field(description="from 1890 to this year")]

Pseudonym = Annotated[
    str,
    BeforeValidator(_pseudonym),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": PSEUDONYM_MAX_LENGTH,
                    "pattern": PSEUDONYM_PATTERN, "description": PSEUDONYM_ALLOWED}),
]
ClinicalDate = Annotated[
    dt.date,
    BeforeValidator(_day),
    AfterValidator(_in_clinical_range),
    Field(description="YYYY-MM-DD, from 1900-01-01, not in the future"),
]

_PSEUDONYM_ADAPTER: TypeAdapter[str] = TypeAdapter(Pseudonym)
_DATE_ADAPTER: TypeAdapter[dt.date] = TypeAdapter(ClinicalDate)
_YEAR_ADAPTER: TypeAdapter[int] = TypeAdapter(YearOfBirth)


def pseudonym_problem(field: str, value: Any) -> Problem | None:
    """The problem with `value` as a pseudonym (named `field`), or None if it is one."""
    try:
        _PSEUDONYM_ADAPTER.validate_python(value)
    except ValidationError as exc:
        return Problem(field, value, exc.errors(include_url=False)[0]["msg"])
    return None


def parse_clinical_date(field: str, value: Any) -> tuple[dt.date | None, Problem | None]:
    """(the date, None) or (None, the problem naming `field`, `value` and what is allowed)."""
    try:
        return _DATE_ADAPTER.validate_python(value), None
    except ValidationError as exc:
        return None, Problem(field, value, exc.errors(include_url=False)[0]["msg"])


def parse_year_of_birth(field: str, value: Any) -> tuple[int | None, Problem | None]:
    """(the year, None) or (None, the problem naming `field`, `value` and what is allowed)."""
    try:
        return _YEAR_ADAPTER.validate_python(int(str(value).strip())), None
    except (ValueError, ValidationError):
        return None, Problem(field, value, year_of_birth_allowed())


__all__ = [
    "EARLIEST_CLINICAL_DATE",
    "PSEUDONYM_ALLOWED",
    "PSEUDONYM_MAX_LENGTH",
    "PSEUDONYM_PATTERN",
    "ClinicalDate",
    "PlainText",
    "Pseudonym",
    "YearOfBirth",
    "clinical_date_allowed",
    "has_control_character",
    "latest_clinical_date",
    "parse_clinical_date",
    "parse_year_of_birth",
    "pseudonym_problem",
]
