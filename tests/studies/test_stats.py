"""Statistics checked against hand-worked examples and against unit-level refits."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hipspine.studies.stats import (
    cells_from_units,
    iptw_difference,
    kaplan_meier,
    mean_ci,
    survival_at,
    wilson_ci,
)


def test_mean_ci_matches_the_t_formula_worked_by_hand() -> None:
    # x = 1, 2, 3, 4: mean 2.5, s = sqrt(5/3) = 1.29099; t(0.975, 3) = 3.182446
    r = mean_ci(4, 10.0, 30.0)
    half = 3.182446 * math.sqrt(5 / 3) / 2
    assert r.mean == pytest.approx(2.5)
    assert r.sd == pytest.approx(1.290994, abs=1e-6)
    assert (r.lower, r.upper) == (pytest.approx(2.5 - half, abs=1e-5),
                                  pytest.approx(2.5 + half, abs=1e-5))


def test_mean_ci_of_one_or_no_observation_has_no_interval() -> None:
    assert mean_ci(1, 7.0, 49.0).lower is None
    assert mean_ci(0, 0.0, 0.0).mean is None


def test_wilson_interval_for_8_of_10() -> None:
    # Wilson 95% interval for 8/10 is 0.4902 to 0.9433 (Newcombe 1998, method 3)
    lo, hi = wilson_ci(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4)
    assert hi == pytest.approx(0.9433, abs=1e-4)
    assert wilson_ci(0, 0) == (None, None)
    assert wilson_ci(0, 5)[0] == 0.0


def test_kaplan_meier_worked_by_hand() -> None:
    # times 1, 2, 2+, 3, 4+ : S(1)=4/5, S(2)=4/5*3/4=0.6, S(3)=0.6*1/2=0.3
    data = pd.DataFrame({"duration": [1, 2, 2, 3, 4], "event": [1, 1, 0, 1, 0],
                         "n": [1, 1, 1, 1, 1]})
    curve = kaplan_meier(data)
    assert curve["survival"].tolist() == pytest.approx([1.0, 0.8, 0.6, 0.3, 0.3])
    assert curve["at_risk"].tolist() == [5, 5, 4, 2, 1]
    assert curve["events"].tolist() == [0, 1, 1, 1, 0]
    # Greenwood: var S(1) = 0.8^2 * 1/(5*4) = 0.032; exponential CI stays inside (0, 1)
    assert 0 < curve["lower"].iloc[1] < 0.8 < curve["upper"].iloc[1] < 1
    at = survival_at(curve, 2.5)
    assert at is not None and at["survival"] == pytest.approx(0.6) and at["at_risk"] == 2
    assert survival_at(curve, 10) is None


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.booleans(), st.integers(1, 4)),
                min_size=1, max_size=25))
def test_kaplan_meier_on_counts_equals_the_expanded_rows(rows: list[tuple[int, bool, int]]
                                                         ) -> None:
    grouped = pd.DataFrame(rows, columns=["duration", "event", "n"])
    expanded = grouped.loc[grouped.index.repeat(grouped["n"])].assign(n=1)
    a, b = kaplan_meier(grouped), kaplan_meier(expanded)
    assert a["survival"].to_numpy() == pytest.approx(b["survival"].to_numpy())
    assert a["at_risk"].tolist() == b["at_risk"].tolist()


def _confounded(n: int, seed: int, effect: float = 5.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.choice(["<60", "60-69", "70+"], n, p=[.3, .4, .3])
    sex = rng.choice(["female", "male"], n)
    logit = np.select([age == "<60", age == "60-69"], [-1.2, 0.0], 1.4) + (sex == "male") * 0.5
    treated = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    y = effect * treated + np.select([age == "<60", age == "60-69"], [0.0, 4.0], 10.0) \
        + rng.normal(0, 3, n)
    return pd.DataFrame({"treated": treated, "age_band": age, "sex": sex, "y": y})


def test_iptw_restores_balance_and_recovers_the_effect_on_a_confounded_set() -> None:
    units = _confounded(6000, seed=1, effect=5.0)
    naive = units.groupby("treated")["y"].mean()
    assert naive[1] - naive[0] > 7  # confounding by age inflates the crude difference
    result = iptw_difference(cells_from_units(units, "y", ["age_band", "sex"]),
                             ["age_band", "sex"])
    before = max(abs(b.smd_before) for b in result.balance)
    after = max(abs(b.smd_after) for b in result.balance)
    assert before > 0.3 and after < 0.02  # saturated model: exact balance on the margins
    assert result.lower < 5.0 < result.upper
    assert abs(result.difference - 5.0) < 0.5


def test_iptw_on_cells_equals_weighted_regression_with_robust_errors_on_rows() -> None:
    import statsmodels.api as sm

    units = _confounded(800, seed=3)
    cells = cells_from_units(units, "y", ["age_band", "sex"])
    result = iptw_difference(cells, ["age_band", "sex"])
    # unit-level: logistic propensity, stabilised weights, WLS y ~ treated with HC0 errors
    x = sm.add_constant(pd.get_dummies(units[["age_band", "sex"]], drop_first=True,
                                       dtype=float))
    e = sm.Logit(units["treated"], x).fit(disp=0).predict(x)
    p = units["treated"].mean()
    w = np.where(units["treated"] == 1, p / e, (1 - p) / (1 - e))
    wls = sm.WLS(units["y"], sm.add_constant(units["treated"].astype(float)), weights=w)
    fit = wls.fit(cov_type="HC0")
    assert result.difference == pytest.approx(fit.params["treated"], rel=1e-6)
    assert result.se == pytest.approx(fit.bse["treated"], rel=1e-4)
    assert result.n_treated + result.n_control == len(units)


def test_iptw_without_confounding_leaves_groups_as_they_were() -> None:
    rng = np.random.default_rng(5)
    units = pd.DataFrame({"treated": np.repeat([0, 1], 200), "age_band": "all",
                          "y": rng.normal(0, 1, 400)})
    units.loc[units["treated"] == 1, "y"] += 2
    result = iptw_difference(cells_from_units(units, "y", ["age_band"]), ["age_band"])
    crude = units.groupby("treated")["y"].mean()
    assert result.difference == pytest.approx(crude[1] - crude[0])
    assert result.max_weight == pytest.approx(1.0)


def test_a_level_seen_in_one_arm_only_is_reported_not_crashed() -> None:
    from hipspine.studies.summary import _compare

    cells = pd.DataFrame({
        "treated": [1, 1, 0, 0, 1], "age_band": ["<60", "60-69", "<60", "60-69", "80+"],
        "n": [30, 25, 40, 20, 15], "sum_y": [60.0, 40.0, 20.0, 10.0, 45.0],
        "sum_y2": [200.0, 120.0, 50.0, 30.0, 150.0]})
    base = {"id": "x", "label": "x", "subgroup": "all", "instrument": "odi",
            "higher_is_better": False, "timepoint": "12m", "treated": "a", "control": "b"}
    row = _compare(cells, base, ["age_band"], 10, 0.95, 0.1)
    assert row is not None and row.n_treated == 70 and row.n_control == 60
    # the 80+ band has no controls: the weights cannot balance it, and the row says so
    assert not row.suppressed and row.note is not None
    assert "no overlap between arms for age_band=80+" in row.note and not row.balanced
