"""Score one PROM administration (pure: the instrument definition is a parameter).

Each scoring method follows the instrument's manual as recorded in
`knowledge/proms/instruments.yaml` (`scoring`, `missing_rule`, `conversion_table`); the
numbers live there with their citations, never here.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def score_instrument(instrument: Instrument, items: Responses, *, engine_version: str,
                     knowledge_version: str) -> PromScore:
    """Score validated responses with the instrument's own method and missing-item rule."""
    clean = validate_items(instrument, items)
    main = clean[: len(instrument.items)]
    extra = clean[len(instrument.items):]
    missing = [item.id for item, v in zip(instrument.items, main, strict=False) if v is None]
    extras = {item.id: float(v) for item, v in
              zip(instrument.optional_items, extra, strict=False) if v is not None}
    base: dict[str, Any] = {
        "instrument": instrument.id,
        "instrument_version": instrument.version,
        "range": instrument.range,
        "higher_is_better": instrument.higher_is_better,
        "citation": instrument.scoring_source.citation,
        "thresholds": [_threshold_ref(t) for t in instrument.thresholds],
        "engine_version": engine_version,
        "knowledge_version": knowledge_version,
        "extras": extras,
    }
    method = instrument.scoring
    if method == "subscale_means":
        return _subscale_means(instrument, main, base)
    too_many = (instrument.missing_rule.max_missing is not None
                and len(missing) > instrument.missing_rule.max_missing)
    if too_many:
        return PromScore(**base, score=None, status="incomplete", missing_items=missing,
                         interpretation=(f"not scored: {len(missing)} item(s) missing; "
                                         + instrument.missing_rule.description.strip()))
    answered = [v for v in main if v is not None]
    notes: list[str] = []
    if method == "percent_of_answered_maximum":
        maximum = instrument.items[0].max
        value: float | None = sum(answered) / (maximum * len(answered)) * 100
    elif method == "sum_with_mean_imputation":
        mean = sum(answered) / len(answered)
        value = sum(answered) + mean * len(missing)
        if missing:
            notes.append(f"{len(missing)} missing item(s) replaced by the mean of the answered")
    elif method == "single_item":
        value = float(answered[0])
    elif method == "sum_then_conversion_table":
        raw = float(sum(answered))
        base["raw_score"] = raw
        if instrument.conversion_table is None:
            reason = (instrument.conversion_unavailable_reason or "").strip()
            return PromScore(**base, score=None, status="unavailable", missing_items=missing,
                             interpretation=f"raw score {raw:g}; interval score unavailable",
                             notes=[reason])
        value = instrument.conversion_table.values[int(raw)]
    elif method == "health_profile":
        profile = "".join(str(v) for v in main)
        vas = extras.get("eq_vas")
        text = f"health profile {profile}" + (f", EQ VAS {vas:g}" if vas is not None else "")
        return PromScore(**base, score=None, status="scored", missing_items=missing,
                         profile=profile, interpretation=text,
                         notes=[(instrument.interpretation.summary or "").strip()])
    else:  # pragma: no cover - the Literal type makes this unreachable
        raise AssertionError(method)
    assert value is not None
    value = round(value, DECIMALS)
    return PromScore(**base, score=value, status="scored", missing_items=missing,
                     interpretation=_interpret(instrument, value), notes=notes)


def _subscale_means(instrument: Instrument, main: list[int | None],
                    base: dict[str, Any]) -> PromScore:
    subscales: dict[str, SubscaleScore] = {}
    missing: list[str] = []
    primary_score: float | None = None
    incomplete = False
    for sub in instrument.subscales:
        pairs = [(item, v) for item, v in zip(instrument.items, main, strict=False)
                 if item.subscale == sub.id]
        if len(pairs) < sum(1 for i in instrument.items if i.subscale == sub.id):
            pairs += [(i, None) for i in instrument.items if i.subscale == sub.id][len(pairs):]
        answered = [v for _, v in pairs if v is not None]
        sub_missing = [item.id for item, v in pairs if v is None]
        absent_block = not sub.required and not answered
        value = None
        if len(answered) >= sub.min_answered:
            value = round(sum(answered) / len(answered), 2)
        elif sub.required:
            incomplete = True
        if not absent_block:
            missing += sub_missing
        subscales[sub.id] = SubscaleScore(score=value, range=sub.range,
                                          missing_items=[] if absent_block else sub_missing)
        if sub.primary:
            primary_score = value
    parts = [f"{s.name} {subscales[s.id].score:g}" for s in instrument.subscales
             if subscales[s.id].score is not None]
    text = "; ".join(parts) if parts else "not scored"
    if instrument.interpretation.summary:
        text += f" ({instrument.interpretation.summary.strip()})"
    status: Status = "incomplete" if incomplete or primary_score is None else "scored"
    return PromScore(**base, score=primary_score, status=status,
                     missing_items=missing, subscales=subscales, interpretation=text)


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
