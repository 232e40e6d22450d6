"""PROM scoring: ODI, HOOS JR, Oxford Hip Score, ZCQ, NRS pain, EQ-5D-5L descriptive system.

Pure: the instrument definitions come from the knowledge base (or a test's own) and each
result carries the engine and knowledge versions.

    >>> from hipspine.proms import score
    >>> score("odi", [2, 2, 2, 2, 2, 2, 1, 1, 1, 1]).score
    32.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hipspine.errors import InputError, NotFoundError
from hipspine.proms.knowledge import Instrument, packaged_instruments, packaged_timepoints
from hipspine.proms.scoring import PromScore, Responses, SubscaleScore, score_instrument
from hipspine.proms.timepoints import assign_timepoint, target_date


def list_instruments(instruments: Mapping[str, Instrument] | None = None) -> list[Instrument]:
    """Every instrument hipspine scores, in knowledge-base order."""
    return list((instruments or packaged_instruments()).values())


def find_instrument(instrument_id: str,
                    instruments: Mapping[str, Instrument] | None = None) -> Instrument:
    """Look an instrument up by id or alias (case-insensitive, '-' and '_' alike)."""
    table = instruments or packaged_instruments()
    wanted = instrument_id.strip().lower().replace("-", "_")
    for instrument in table.values():
        names = {instrument.id, *(a.lower().replace("-", "_") for a in instrument.aliases)}
        if wanted in names:
            return instrument
    raise NotFoundError(f"unknown PROM instrument {instrument_id!r}; known: "
                        + ", ".join(table))


def score(instrument_id: str, items: Responses,
          instruments: Mapping[str, Instrument] | None = None) -> PromScore:
    """Score one administration: `items` in the instrument's order, None for missing."""
    from hipspine.kb import knowledge_version
    from hipspine.version import ENGINE_VERSION

    instrument = find_instrument(instrument_id, instruments)
    return score_instrument(instrument, items, engine_version=ENGINE_VERSION,
                            knowledge_version=knowledge_version())


def parse_items(text: str) -> list[int | None]:
    """'2,3,1,,0' -> [2, 3, 1, None, 0]; raise `InputError` naming the bad position."""
    if not text.strip():
        return []
    values: list[int | None] = []
    for index, part in enumerate(text.split(",")):
        part = part.strip()
        if part == "":
            values.append(None)
            continue
        try:
            values.append(int(part))
        except ValueError:
            raise InputError.single(f"items[{index}]", part,
                                    "an integer or empty for missing",
                                    what="item responses") from None
    return values


def parse_items_any(value: object) -> list[int | None]:
    """Item responses from JSON (list) or CSV (comma text); used by the registry importer."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            from hipspine.models.validation import JsonSyntaxError, loads_strict

            try:
                loaded = loads_strict(text, "item responses")
            except JsonSyntaxError:
                raise InputError.single("items", value, "a JSON array such as [2,3,null] or "
                                        "comma-separated responses") from None
            return parse_items_any(loaded)
        return parse_items(value)
    if isinstance(value, Sequence):
        return [None if v is None or v == "" else v for v in value]
    raise InputError.single("items", value, "a list of responses or comma-separated text")


__all__ = [
    "Instrument", "PromScore", "SubscaleScore", "assign_timepoint", "find_instrument",
    "list_instruments", "packaged_instruments", "packaged_timepoints", "parse_items",
    "parse_items_any", "score", "target_date",
]
