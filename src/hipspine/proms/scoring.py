"""Score one PROM administration (pure: the instrument definition is a parameter).

Each scoring method follows the instrument's manual as recorded in
`knowledge/proms/instruments.yaml` (`scoring`, `missing_rule`, `conversion_table`); the
numbers live there with their citations, never here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hipspine.errors import InputError, Problem
from hipspine.proms.knowledge import Instrument, Item, Threshold

Status = Literal["scored", "incomplete", "unavailable"]
DECIMALS = 1


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SubscaleScore(_Out):
    score: float | None
    range: tuple[float, float]
    missing_items: list[str] = Field(default_factory=list)


class ThresholdRef(_Out):
    id: str
    kind: str
    value: float
    unit: str
    applies_to: str
    subscale: str | None
    default: bool
    citation: str
    verified: str


class PromScore(_Out):
    """The result of scoring one administration; `score` is None when it cannot be computed."""

    format: Literal["hipspine.prom_score/1"] = "hipspine.prom_score/1"
    instrument: str
    instrument_version: str
    score: float | None
    range: tuple[float, float]
    higher_is_better: bool
    status: Status
    missing_items: list[str]
    interpretation: str
    citation: str
    raw_score: float | None = None
    subscales: dict[str, SubscaleScore] = Field(default_factory=dict)
    profile: str | None = None
    extras: dict[str, float] = Field(default_factory=dict)
    thresholds: list[ThresholdRef] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    engine_version: str
    knowledge_version: str


Responses = Sequence[int | float | None]


def validate_items(instrument: Instrument, items: Responses) -> list[int | None]:
    """Check count and ranges; raise `InputError` naming `items[i]` for each bad response."""
    required = len(instrument.items)
    optional_subscales = [s for s in instrument.subscales if not s.required]
    allowed_counts = {required, required + len(instrument.optional_items)}
    for sub in optional_subscales:  # a whole optional block may be left off the end
        allowed_counts.add(required - sum(1 for i in instrument.items if i.subscale == sub.id))
    if len(items) not in allowed_counts:
        counts = " or ".join(str(c) for c in sorted(allowed_counts))
        raise InputError.single("items", f"{len(items)} responses", f"{counts} responses",
                                f"{instrument.id} items in order: "
                                + ",".join(i.id for i in _all_items(instrument)),
                                what=f"{instrument.id} responses")
    problems: list[Problem] = []
    clean: list[int | None] = []
    for index, (value, item) in enumerate(zip(items, _all_items(instrument), strict=False)):
        if value is None:
            clean.append(None)
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or float(value) != int(value):
            problems.append(Problem(f"items[{index}]", value, _allowed_text(item),
                                    f"{item.id} ({item.label})"))
            clean.append(None)
            continue
        number = int(value)
        allowed = item.allowed if item.allowed is not None else range(item.min, item.max + 1)
        if number not in allowed:
            problems.append(Problem(f"items[{index}]", value, _allowed_text(item),
                                    f"{item.id} ({item.label})"))
        clean.append(number)
    if problems:
        raise InputError(problems, what=f"{instrument.id} responses")
    return clean


@dataclass(frozen=True)
class Computed:
    """The numbers of one scoring, before any wording: shared by `score_instrument` and bulk
    writers (synthetic cohorts) so every path applies the same rules."""

    value: float | None
    status: Status
    missing: list[str]
    raw: float | None = None
    profile: str | None = None
    subscales: dict[str, float | None] | None = None
    imputed: int = 0


def compute(instrument: Instrument, main: Sequence[int | None]) -> Computed:
    """Apply the instrument's scoring method and missing-item rule to in-range responses."""
    method = instrument.scoring
    if method == "subscale_means":
        return _subscale_means(instrument, main)
    missing = [item.id for item, v in zip(instrument.items, main, strict=False) if v is None]
    rule = instrument.missing_rule.max_missing
    if rule is not None and len(missing) > rule:
        return Computed(None, "incomplete", missing)
    answered = [v for v in main if v is not None]
    if method == "percent_of_answered_maximum":
        maximum = instrument.items[0].max
        return Computed(round(sum(answered) / (maximum * len(answered)) * 100, DECIMALS),
                        "scored", missing)
    if method == "sum_with_mean_imputation":
        mean = sum(answered) / len(answered)
        return Computed(round(sum(answered) + mean * len(missing), DECIMALS), "scored",
                        missing, imputed=len(missing))
    if method == "single_item":
        return Computed(float(answered[0]), "scored", missing)
    if method == "sum_then_conversion_table":
        raw = float(sum(answered))
        if instrument.conversion_table is None:
            return Computed(None, "unavailable", missing, raw=raw)
        # The published value as printed (three decimals for HOOS JR), not re-rounded.
        return Computed(instrument.conversion_table.values[int(raw)], "scored", missing,
                        raw=raw)
    if method == "health_profile":
        return Computed(None, "scored", missing, profile="".join(str(v) for v in main))
    raise AssertionError(method)  # pragma: no cover - the Literal type makes this unreachable


def scores_record(instrument: Instrument, done: Computed) -> dict[str, Any]:
    """The per-administration JSON kept beside the items (same keys as real submissions)."""
    out: dict[str, Any] = {"status": done.status, "version": instrument.version,
                           "missing": list(done.missing)}
    if done.raw is not None:
        out["raw_score"] = done.raw
    if done.subscales is not None:
        out["subscales"] = dict(done.subscales)
    if done.profile is not None:
        out["profile"] = done.profile
    return out


def score_instrument(instrument: Instrument, items: Responses, *, engine_version: str,
                     knowledge_version: str) -> PromScore:
    """Score validated responses with the instrument's own method and missing-item rule."""
    clean = validate_items(instrument, items)
    main = clean[: len(instrument.items)]
    extra = clean[len(instrument.items):]
    extras = {item.id: float(v) for item, v in
              zip(instrument.optional_items, extra, strict=False) if v is not None}
    done = compute(instrument, main)
    notes: list[str] = []
    if done.status == "incomplete" and instrument.scoring != "subscale_means":
        text = (f"not scored: {len(done.missing)} item(s) missing; "
                + instrument.missing_rule.description.strip())
    elif instrument.scoring == "subscale_means":
        parts = [f"{s.name} {done.subscales[s.id]:g}" for s in instrument.subscales
                 if done.subscales and done.subscales[s.id] is not None]
        text = "; ".join(parts) if parts else "not scored"
        if instrument.interpretation.summary:
            text += f" ({instrument.interpretation.summary.strip()})"
    elif done.status == "unavailable":
        text = f"raw score {done.raw:g}; interval score unavailable"
        notes.append((instrument.conversion_unavailable_reason or "").strip())
    elif done.profile is not None:
        vas = extras.get("eq_vas")
        text = f"health profile {done.profile}" + (f", EQ VAS {vas:g}" if vas is not None
                                                    else "")
        notes.append((instrument.interpretation.summary or "").strip())
    else:
        assert done.value is not None
        text = _interpret(instrument, done.value)
        if done.imputed:
            notes.append(f"{done.imputed} missing item(s) replaced by the mean of the answered")
    subscales = {}
    if done.subscales is not None:
        for sub in instrument.subscales:
            own = [i.id for i in instrument.items if i.subscale == sub.id]
            subscales[sub.id] = SubscaleScore(score=done.subscales[sub.id], range=sub.range,
                                              missing_items=[m for m in done.missing
                                                             if m in own])
    return PromScore(
        instrument=instrument.id, instrument_version=instrument.version,
        score=done.value, range=instrument.range,
        higher_is_better=instrument.higher_is_better, status=done.status,
        missing_items=done.missing, interpretation=text,
        citation=instrument.scoring_source.citation, raw_score=done.raw,
        subscales=subscales, profile=done.profile, extras=extras,
        thresholds=[_threshold_ref(t) for t in instrument.thresholds], notes=notes,
        engine_version=engine_version, knowledge_version=knowledge_version)


def _subscale_means(instrument: Instrument, main: Sequence[int | None]) -> Computed:
    subscales: dict[str, float | None] = {}
    missing: list[str] = []
    primary_score: float | None = None
    incomplete = False
    padded = list(main) + [None] * (len(instrument.items) - len(main))
    for sub in instrument.subscales:
        pairs = [(item, v) for item, v in zip(instrument.items, padded, strict=True)
                 if item.subscale == sub.id]
        answered = [v for _, v in pairs if v is not None]
        absent_block = not sub.required and not answered
        value = None
        if len(answered) >= sub.min_answered:
            value = round(sum(answered) / len(answered), 2)
        elif sub.required:
            incomplete = True
        if not absent_block:
            missing += [item.id for item, v in pairs if v is None]
        subscales[sub.id] = value
        if sub.primary:
            primary_score = value
    status: Status = "incomplete" if incomplete or primary_score is None else "scored"
    return Computed(primary_score, status, missing, subscales=subscales)


def _interpret(instrument: Instrument, value: float) -> str:
    bands = instrument.interpretation.bands
    upper = instrument.interpretation.band_edges == "upper_inclusive"
    for n, band in enumerate(bands):
        if upper:
            inside = band.min < value <= band.max or (n == 0 and value == band.min)
        else:
            inside = band.min <= value < band.max or (n == len(bands) - 1 and value == band.max)
        if inside:
            return f"{value:g}: {band.label}"
    summary = instrument.interpretation.summary
    return f"{value:g}" + (f" ({summary.strip()})" if summary else "")


def _threshold_ref(t: Threshold) -> ThresholdRef:
    return ThresholdRef(id=t.id, kind=t.kind, value=t.value, unit=t.unit,
                        applies_to=t.applies_to, subscale=t.subscale, default=t.default,
                        citation=t.citation, verified=t.verified)


def _all_items(instrument: Instrument) -> list[Item]:
    return [*instrument.items, *instrument.optional_items]


def _allowed_text(item: Item) -> str:
    if item.allowed is not None:
        return "one of " + ", ".join(str(a) for a in item.allowed) + " or empty for missing"
    return f"an integer {item.min}-{item.max} or empty for missing"
