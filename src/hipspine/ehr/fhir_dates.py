"""FHIR date and dateTime strings as calendar days, for the importers.

A partial date takes the middle of what it names (a year: 1 July; a month: the 15th), so
that "how long ago" stays within half the stated precision; anything unreadable is None.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def fhir_date(value: Any) -> dt.date | None:
    """The day a FHIR date/dateTime string names (its first 10 characters), else None."""
    if not isinstance(value, str) or len(value) < 4:
        return None
    try:
        if len(value) == 4:
            return dt.date(int(value), 7, 1)
        if len(value) == 7:
            return dt.date(int(value[:4]), int(value[5:7]), 15)
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None
