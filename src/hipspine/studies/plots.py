"""Publication-ready figures as inline SVG (matplotlib, Agg backend: no display needed).

Each function takes rows of the study summary (already de-identified) and returns SVG text,
so the HTML report embeds them and opens without a network.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hipspine.studies.summary import ChangeRow, SurvivalCurve, TrajectoryPoint

STRATEGY_LABELS = {"all": "All patients", "conservative": "Conservative",
                   "hip_first": "Hip first", "spine_first": "Spine first",
                   "hip_only": "Hip only", "spine_only": "Spine only",
                   "other_surgery": "Other surgery", "unknown": "Not recorded"}
PALETTE = ["#1b4f72", "#b03a2e", "#1e8449", "#7d3c98", "#b9770e", "#566573"]
# One colour per strategy in every figure, so a reader can compare across panels.
STRATEGY_COLOURS = {"all": "#1b4f72", "conservative": "#b03a2e", "hip_first": "#1e8449",
                    "spine_first": "#7d3c98", "hip_only": "#76d7c4", "spine_only": "#d2b4de",
                    "other_surgery": "#566573", "unknown": "#aab7b8"}


def _figure(width: float = 6.4, height: float = 3.6) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.spines.top": False,
                         "axes.spines.right": False, "svg.fonttype": "none"})
    return plt.subplots(figsize=(width, height))


def _svg(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.tight_layout()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def trajectory_svg(points: Sequence[TrajectoryPoint], instrument: str,
                   order: Sequence[str], higher_is_better: bool | None) -> str:
    """Mean score by timepoint with 95% CI bars, one line per strategy."""
    fig, ax = _figure()
    strategies = sorted({p.strategy for p in points if p.instrument == instrument},
                        key=lambda s: list(STRATEGY_LABELS).index(s)
                        if s in STRATEGY_LABELS else 99)
    xs = {tp: i for i, tp in enumerate(order)}
    for k, strategy in enumerate(strategies):
        shown = [p for p in points if p.instrument == instrument and p.strategy == strategy
                 and not p.suppressed and p.mean is not None and p.timepoint in xs]
        shown.sort(key=lambda p: xs[p.timepoint])
        if not shown:
            continue
        x = [xs[p.timepoint] + (k - len(strategies) / 2) * 0.04 for p in shown]
        y = [p.mean for p in shown]
        err = [[p.mean - (p.ci_lower or p.mean) for p in shown],  # type: ignore[operator]
               [(p.ci_upper or p.mean) - p.mean for p in shown]]  # type: ignore[operator]
        ax.errorbar(x, y, yerr=err, marker="o", ms=4, capsize=3, lw=1.5,
                    color=STRATEGY_COLOURS.get(strategy, PALETTE[k % len(PALETTE)]),
                    label=STRATEGY_LABELS.get(strategy, strategy))
    ax.set_xticks(range(len(order)), list(order))
    ax.set_xlabel("Timepoint")
    better = "" if higher_is_better is None else (" (higher is better)" if higher_is_better
                                                  else " (lower is better)")
    ax.set_ylabel(f"{instrument.upper()} mean score, 95% CI{better}")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=8)
    else:  # every cell withheld (small-cell suppression) or no follow-up yet
        ax.text(0.5, 0.5, "no cell large enough to show", ha="center", va="center",
                transform=ax.transAxes, fontsize=9, color="#555555")
    return _svg(fig)


def responder_svg(rows: Sequence[ChangeRow], instrument: str, timepoint: str) -> str:
    """Share of patients reaching each published threshold, by strategy, with Wilson CIs."""
    fig, ax = _figure()
    chosen = [r for r in rows if r.instrument == instrument and r.timepoint == timepoint]
    thresholds = sorted({(t.threshold_id, t.value, t.unit) for r in chosen for t in r.responders})
    width = 0.8 / max(len(thresholds), 1)
    for k, (tid, value, unit) in enumerate(thresholds):
        xs, ys, lo, hi = [], [], [], []
        for i, r in enumerate(chosen):
            rate = next((t for t in r.responders if t.threshold_id == tid), None)
            if rate is None or rate.suppressed or rate.rate is None:
                continue
            xs.append(i + (k - (len(thresholds) - 1) / 2) * width)
            ys.append(100 * rate.rate)
            lo.append(100 * (rate.rate - (rate.ci_lower or rate.rate)))
            hi.append(100 * ((rate.ci_upper or rate.rate) - rate.rate))
        suffix = "%" if unit == "percent" else " points"
        ax.bar(xs, ys, width=width, yerr=[lo, hi], capsize=2,
               color=PALETTE[k % len(PALETTE)], label=f"{tid} (≥{value:g}{suffix})")
    ax.set_xticks(range(len(chosen)), [STRATEGY_LABELS.get(r.strategy, r.strategy)
                                       for r in chosen])
    ax.set_ylim(0, 100)
    ax.set_ylabel(f"Responders at {timepoint} (%)")
    ax.legend(frameon=False, fontsize=7)
    return _svg(fig)


def survival_svg(curves: Sequence[SurvivalCurve], title: str) -> str:
    """Kaplan-Meier step curves with shaded confidence bands (truncated at small risk sets)."""
    fig, ax = _figure()
    k = 0
    for curve in curves:
        if curve.suppressed or not curve.points:
            continue
        t = [p.time for p in curve.points]
        color = PALETTE[k % len(PALETTE)]
        ax.step(t, [p.survival for p in curve.points], where="post", color=color,
                label=f"{curve.group} (n={curve.n})")
        ax.fill_between(t, [p.lower for p in curve.points], [p.upper for p in curve.points],
                        step="post", alpha=0.15, color=color)
        k += 1
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("Days")
    ax.set_ylabel("Proportion without event")
    ax.set_title(title, fontsize=9)
    ax.legend(frameon=False, fontsize=8)
    return _svg(fig)
