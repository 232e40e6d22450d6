"""Pure statistics for study reports, computed from sufficient statistics.

Everything here works on counts and sums (n, sum, sum of squares), so the database can
aggregate and only a few rows reach Python: a unit-level table is the special case n = 1.
No I/O; inputs are numbers or pandas DataFrames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class MeanCI:
    n: int
    mean: float | None
    sd: float | None
    lower: float | None
    upper: float | None


def mean_ci(n: int, total: float, total_sq: float, level: float = 0.95) -> MeanCI:
    """Mean with a t-based confidence interval from n, sum(x) and sum(x^2).

    >>> r = mean_ci(4, 10.0, 30.0)   # x = 1, 2, 3, 4
    >>> round(r.mean, 2), round(r.sd, 4)
    (2.5, 1.291)
    """
    from scipy import stats

    if n <= 0:
        return MeanCI(0, None, None, None, None)
    mean = total / n
    if n == 1:
        return MeanCI(1, mean, None, None, None)
    var = max((total_sq - n * mean * mean) / (n - 1), 0.0)
    sd = math.sqrt(var)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return MeanCI(n, mean, sd, mean - half, mean + half)


def wilson_ci(successes: int, n: int, level: float = 0.95) -> tuple[float | None, float | None]:
    """Wilson score interval for a proportion (stays inside 0..1 for small or extreme rates)."""
    from scipy import stats

    if n <= 0:
        return None, None
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def kaplan_meier(durations: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier survival from aggregated `duration`, `event` (0/1) and `n` columns.

    Returns one row per distinct time (time 0 first): `time`, `survival`, `lower`,
    `upper`, `at_risk`, `events`, `censored`. Fitted by lifelines with frequency weights,
    which equals fitting the expanded unit-level data.
    """
    from lifelines import KaplanMeierFitter

    columns = ["time", "survival", "lower", "upper", "at_risk", "events", "censored"]
    frame = durations[durations["n"] > 0]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    kmf = KaplanMeierFitter(alpha=1 - level)
    kmf.fit(frame["duration"].astype(float), frame["event"].astype(bool),
            weights=frame["n"].astype(float))
    table = kmf.event_table
    ci = kmf.confidence_interval_survival_function_
    out = pd.DataFrame({
        "time": kmf.survival_function_.index.to_numpy(dtype=float),
        "survival": kmf.survival_function_.iloc[:, 0].to_numpy(dtype=float),
        "lower": ci.iloc[:, 0].to_numpy(dtype=float),
        "upper": ci.iloc[:, 1].to_numpy(dtype=float),
    })
    table = table.reindex(out["time"]).fillna(0)
    out["at_risk"] = table["at_risk"].to_numpy(dtype=float).round().astype(int)
    out["events"] = table["observed"].to_numpy(dtype=float).round().astype(int)
    out["censored"] = table["censored"].to_numpy(dtype=float).round().astype(int)
    return out


def survival_at(curve: pd.DataFrame, day: float) -> dict[str, Any] | None:
    """The step of a KM curve in force at `day` (None when follow-up ends before it)."""
    if curve.empty or float(curve["time"].max()) < day:
        return None
    row = curve[curve["time"] <= day].iloc[-1]
    at_risk = int(curve.loc[curve["time"] >= day, "at_risk"].iloc[0]) \
        if (curve["time"] >= day).any() else 0
    return {"day": day, "survival": float(row["survival"]), "lower": float(row["lower"]),
            "upper": float(row["upper"]), "at_risk": at_risk}


# ---------------------------------------------------------------- propensity weighting


@dataclass(frozen=True)
class BalanceRow:
    covariate: str
    level: str
    treated_before: float
    control_before: float
    smd_before: float
    treated_after: float
    control_after: float
    smd_after: float


@dataclass(frozen=True)
class IptwResult:
    n_treated: int
    n_control: int
    mean_treated: float
    mean_control: float
    difference: float
    se: float
    lower: float
    upper: float
    balance: list[BalanceRow]
    max_weight: float


def _smd(p1: float, p0: float) -> float:
    pooled = math.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2)
    return 0.0 if pooled == 0 else (p1 - p0) / pooled


def iptw_difference(cells: pd.DataFrame, covariates: list[str],
                    level: float = 0.95) -> IptwResult:
    """Adjusted difference in mean outcome, treated minus control, by stabilised IPTW.

    `cells` has one row per (arm, covariate levels): `treated` (0/1), the categorical
    covariates, `n`, `sum_y`, `sum_y2`. A logistic propensity model (statsmodels GLM with
    frequency weights, the same fit as on unit-level rows) gives e(x); stabilised weights
    are P(T=1)/e(x) for treated and P(T=0)/(1-e(x)) for controls. The difference of weighted
    means has the robust (HC0 sandwich) variance of a weighted regression of the outcome on
    treatment; balance is the standardised difference of each covariate level before and
    after weighting.
    """
    import statsmodels.api as sm
    from scipy import stats

    data = cells[cells["n"] > 0].reset_index(drop=True)
    design = pd.get_dummies(data[covariates].astype(str), drop_first=True, dtype=float)
    design = sm.add_constant(design, has_constant="add")
    treated = data["treated"].astype(float).to_numpy()
    n = data["n"].astype(float).to_numpy()
    model = sm.GLM(treated, design, family=sm.families.Binomial(), freq_weights=n)
    fitted = model.fit()
    e = np.clip(np.asarray(fitted.predict(design), dtype=float), 1e-6, 1 - 1e-6)
    p_treated = float((n * treated).sum() / n.sum())
    weight = np.where(treated == 1, p_treated / e, (1 - p_treated) / (1 - e))

    sum_y = data["sum_y"].astype(float).to_numpy()
    sum_y2 = data["sum_y2"].astype(float).to_numpy()
    means: dict[int, float] = {}
    variances: dict[int, float] = {}
    for arm in (1, 0):
        mask = treated == arm
        w, cn, sy, sy2 = weight[mask], n[mask], sum_y[mask], sum_y2[mask]
        total_w = float((w * cn).sum())
        mu = float((w * sy).sum() / total_w)
        # sum over individuals of w^2 (y - mu)^2, from each cell's sums
        sq = float((w * w * (sy2 - 2 * mu * sy + cn * mu * mu)).sum())
        means[arm], variances[arm] = mu, sq / (total_w * total_w)
    diff = means[1] - means[0]
    se = math.sqrt(variances[1] + variances[0])
    z = float(stats.norm.ppf(0.5 + level / 2))

    balance: list[BalanceRow] = []
    for covariate in covariates:
        values = data[covariate].astype(str)
        for value in sorted(values.unique()):
            hit = (values == value).to_numpy()
            props = []
            for weights in (np.ones_like(weight), weight):
                p = []
                for arm in (1, 0):
                    mask = treated == arm
                    denom = float((weights[mask] * n[mask]).sum())
                    p.append(float((weights[mask] * n[mask] * hit[mask]).sum()) / denom)
                props.append(p)
            (t0, c0), (t1, c1) = props
            balance.append(BalanceRow(covariate, value, t0, c0, _smd(t0, c0),
                                      t1, c1, _smd(t1, c1)))
    return IptwResult(
        n_treated=int(n[treated == 1].sum()), n_control=int(n[treated == 0].sum()),
        mean_treated=means[1], mean_control=means[0], difference=diff, se=se,
        lower=diff - z * se, upper=diff + z * se, balance=balance,
        max_weight=float(weight.max()),
    )


def cells_from_units(units: pd.DataFrame, outcome: str, covariates: list[str]) -> pd.DataFrame:
    """Aggregate a unit-level frame (`treated`, covariates, outcome) into IPTW cells."""
    keys = ["treated", *covariates]
    grouped = units.assign(_y2=units[outcome] ** 2).groupby(keys, observed=True)
    return grouped.agg(n=(outcome, "size"), sum_y=(outcome, "sum"),
                       sum_y2=("_y2", "sum")).reset_index()
