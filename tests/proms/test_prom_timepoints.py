"""Timepoint windows: cited defaults, no overlaps, dates mapped at the window edges."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hipspine.proms import assign_timepoint, packaged_timepoints, target_date
from hipspine.proms.knowledge import TimepointFile

SURGERY = dt.date(2024, 3, 1)
WINDOWS = packaged_timepoints().windows


@pytest.mark.parametrize(("day", "expected"), [
    (-90, "baseline"), (0, "baseline"), (-91, None), (1, None), (42, "6w"), (182, "6m"),
    (270, "12m"), (365, "12m"), (425, "12m"), (426, None), (730, "24m"),
])
def test_days_from_surgery_map_to_timepoints(day, expected):
    when = SURGERY + dt.timedelta(days=day)
    assert assign_timepoint(when, SURGERY, WINDOWS) == expected


def test_cms_windows_are_the_cited_defaults():
    by_tp = {w.timepoint: w for w in WINDOWS}
    assert (by_tp["baseline"].from_day, by_tp["baseline"].to_day) == (-90, 0)
    assert by_tp["12m"].citation == "cms_thatka_prom"
    assert target_date("12m", SURGERY, WINDOWS) == SURGERY + dt.timedelta(days=365)


def test_overlapping_windows_are_rejected():
    rows = [w.model_dump() for w in WINDOWS]
    rows[1]["from_day"] = -5
    with pytest.raises(ValueError):
        TimepointFile.model_validate({"windows": rows})


@given(st.integers(-400, 1000))
def test_a_date_is_in_at_most_one_window(day):
    hits = [w for w in WINDOWS if w.from_day <= day <= w.to_day]
    assert len(hits) <= 1
    assert assign_timepoint(SURGERY + dt.timedelta(days=day), SURGERY, WINDOWS) == (
        hits[0].timepoint if hits else None)
