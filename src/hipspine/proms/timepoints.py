"""Map an administration date to a registry timepoint (baseline, 6w, 3m, 6m, 12m, 24m).

The windows are data (`knowledge/proms/timepoints.yaml`, cited; CMS PRO-PM windows by
default) and a parameter here, so a registry can use its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from hipspine.proms.knowledge import TimepointWindow


def assign_timepoint(administered_on: dt.date, index_date: dt.date,
                     windows: Sequence[TimepointWindow]) -> str | None:
    """The timepoint whose window holds the date, or None when it falls between windows."""
    day = (administered_on - index_date).days
    for window in windows:
        if window.from_day <= day <= window.to_day:
            return window.timepoint
    return None


def target_date(timepoint: str, index_date: dt.date,
                windows: Sequence[TimepointWindow]) -> dt.date:
    """The intended administration date of a timepoint (used by schedulers and synth)."""
    for window in windows:
        if window.timepoint == timepoint:
            return index_date + dt.timedelta(days=window.target_day)
    raise KeyError(timepoint)
