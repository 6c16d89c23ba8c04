"""Need index: standardisation, weights, contributions and quintiles, by their properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lacgeo.config import IndicatorConfig
from lacgeo.errors import ConfigError, ValidationError
from lacgeo.need import compute_need_index, local_quintile, national_quintile, read_indicators, standardise
from lacgeo.need.profiles import weighted_kmeans

SPECS = (IndicatorConfig("a", weight=2.0), IndicatorConfig("b", weight=1.0, direction="higher_is_better"))


def frame(values_a, values_b):
    idx = pd.Index([f"E0100{i:04d}" for i in range(len(values_a))], name="area_code")
    return pd.DataFrame({"a": values_a, "b": values_b}, index=idx)


finite = st.floats(-1e3, 1e3, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(finite, finite), min_size=3, max_size=30),
    st.integers(0, 29),
    st.floats(0.01, 100),
    st.sampled_from(["zscore", "rank", "exponential"]),
)
def test_raising_a_higher_is_worse_indicator_never_lowers_the_index(rows, pos, bump, method):
    ind = frame([r[0] for r in rows], [r[1] for r in rows])
    pos = pos % len(ind)
    before = compute_need_index(ind, SPECS, method=method)["need_index"]
    raised = ind.copy()
    raised.iloc[pos, 0] += bump
    after = compute_need_index(raised, SPECS, method=method)["need_index"]
    # a z-score is non-decreasing in its own value (|z| <= sqrt(n - 1)); ranks too
    assert after.iloc[pos] >= before.iloc[pos] - 1e-9


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(finite, finite), min_size=2, max_size=30),
    st.randoms(use_true_random=False),
    st.sampled_from(["zscore", "rank", "exponential"]),
)
def test_row_order_changes_nothing(rows, rnd, method):
    ind = frame([r[0] for r in rows], [r[1] for r in rows])
    order = list(ind.index)
    rnd.shuffle(order)
    a = compute_need_index(ind, SPECS, method=method)
    b = compute_need_index(ind.loc[order], SPECS, method=method).loc[ind.index]
    pd.testing.assert_frame_equal(a, b, check_exact=False, atol=1e-9)


def test_contributions_sum_to_the_index():
    ind = frame([1.0, 5.0, 3.0, 2.0], [10.0, 2.0, 4.0, 8.0])
    out = compute_need_index(ind, SPECS)
    np.testing.assert_allclose(out.filter(like="contrib_").sum(axis=1), out["need_index"])
    assert out["need_index"].idxmax() == "E01000001"  # highest a, lowest b


def test_exponential_transform_matches_iod_definition():
    s = pd.Series([1.0, 2.0, 3.0, 4.0], name="x")
    out = standardise(s, method="exponential")
    r = np.array([0.25, 0.5, 0.75, 1.0])
    expected = -23 * np.log(1 - r * (1 - np.exp(-100 / 23)))
    np.testing.assert_allclose(out, expected)
    assert out.iloc[-1] == pytest.approx(100.0)


def test_missing_values_are_never_filled():
    with pytest.raises(ValidationError, match=r"indicator 'x' is missing for 1 areas \(b\)"):
        standardise(pd.Series([1.0, np.nan], index=["a", "b"], name="x"))


def test_unknown_indicator_suggests_a_shipped_one():
    with pytest.raises(ConfigError, match="did you mean 'income_score'"):
        read_indicators(pd.Index(["E01000001"]), ["incme_score"], vintage="2021")


def test_domain_without_2019_score_is_explained():
    with pytest.raises(
        ConfigError, match="'health_score' is not available for vintage 2011: it exists for LSOA 2021 only"
    ):
        read_indicators(pd.Index(["E01031356"]), ["health_score"], vintage="2011")


def test_quintiles():
    assert national_quintile(pd.Series([1, 2, 3, 10])).tolist() == [1, 1, 2, 5]
    score = pd.Series([50.0, 40.0, 30.0, 20.0, 10.0], index=list("abcde"))
    pop = pd.Series([100, 100, 100, 100, 100], index=list("abcde"))
    assert local_quintile(score, pop).tolist() == [1, 2, 3, 4, 5]
    # one big deprived area holds most people: it fills the first quintiles
    pop2 = pd.Series([800, 50, 50, 50, 50], index=list("abcde"))
    q = local_quintile(score, pop2)
    assert q["a"] == 3 and q["e"] == 5 and q.is_monotonic_increasing


def test_mortality_reaches_both_vintages():
    from lacgeo import load

    for vintage in ("2011", "2021"):
        areas = load.read_areas("E06000054", vintage=vintage)
        smr = read_indicators(areas.index, ["preventable_mortality_smr"], vintage=vintage)
        assert smr.index.equals(areas.index) and smr.notna().all().all()
        assert 30 < smr.iloc[:, 0].mean() < 150


def test_needs_assessment_rates_and_means_with_intervals():
    from lacgeo.need import needs_assessment

    idx = pd.Index([f"A{i}" for i in range(10)], name="area_code")
    areas = pd.DataFrame({"population": [1000] * 10, "local_imd_quintile": [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]}, index=idx)
    count = pd.Series([30, 10, 8, 8, 5, 5, 4, 2, 1, 1], index=idx, dtype=float)
    denom = pd.Series(1000.0, index=idx)
    indicators = pd.DataFrame({"demand": count, "score": np.linspace(50, 5, 10)}, index=idx)
    specs = [IndicatorConfig("demand", label="Demand"), IndicatorConfig("score")]
    table = needs_assessment(areas, indicators, specs, counts={"demand": (count, denom)})
    assert len(table) == 2 * 6
    q1 = table[(table["indicator"] == "demand") & (table["quintile"] == "1")].iloc[0]
    assert q1["value"] == pytest.approx(20.0) and q1["count"] == 40 and q1["method"].endswith("byars")
    assert (table["lower"] <= table["value"]).all() and (table["value"] <= table["upper"]).all()
    q5 = table[(table["indicator"] == "demand") & (table["quintile"] == "5")].iloc[0]
    assert q5["method"].endswith("exact")  # 2 events: exact Poisson
    everyone = table[(table["indicator"] == "score") & (table["quintile"] == "All")].iloc[0]
    assert everyone["value"] == pytest.approx(27.5) and everyone["population"] == 10_000


def test_need_profiles_are_seeded_labelled_and_bounded():
    from lacgeo import load
    from lacgeo.need import need_profiles

    areas = load.read_areas("E06000054")
    ind = read_indicators(areas.index, ["imd_score", "preventable_mortality_smr"], vintage="2021")
    specs = [
        IndicatorConfig("imd_score", label="IMD score"),
        IndicatorConfig("preventable_mortality_smr", label="Preventable mortality"),
    ]
    a = need_profiles(ind, specs, population=areas["population"], n_profiles=4, seed=3)
    b = need_profiles(ind, specs, population=areas["population"], n_profiles=4, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert a["need_profile_id"].nunique() == 4 and a["need_profile"].nunique() == 4
    assert a["need_profile"].str.match(r"^(Far above|Above|Near|Below|Far below) (average|the average)").all()
    assert not a["need_profile"].str.contains("group").any()
    # group 1 is the highest-need group: its mean IMD score is the highest
    means = ind["imd_score"].groupby(a["need_profile_id"]).mean()
    assert means.idxmax() == 1


def test_needs_assessment_uses_wilson_for_proportions():
    from lacgeo.need import needs_assessment

    idx = pd.Index(["A", "B"], name="area_code")
    areas = pd.DataFrame({"population": [100, 100], "local_imd_quintile": [1, 5]}, index=idx)
    count = pd.Series([81.0, 15.0], index=idx)
    at_risk = pd.Series([263.0, 148.0], index=idx)
    ind = pd.DataFrame({"p": count / at_risk * 1000}, index=idx)
    table = needs_assessment(areas, ind, [IndicatorConfig("p")], counts={"p": (count, at_risk)}, proportions=["p"])
    q1 = table[table["quintile"] == "1"].iloc[0]
    # Newcombe (1998) Table I: 81/263 -> 0.2553 to 0.3662
    assert q1["lower"] == pytest.approx(255.3, abs=0.1) and q1["upper"] == pytest.approx(366.2, abs=0.1)
    assert q1["method"] == "per 1,000 at risk, Wilson"


@settings(max_examples=60, deadline=None)
@given(
    points=st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5)), min_size=3, max_size=40),
    weights=st.lists(st.integers(0, 3000), min_size=40, max_size=40),
    k=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_weighted_kmeans_ends_at_a_lloyd_fixed_point(points, weights, k, seed):
    """Every area is in the group of its nearest centre, every non-empty group's centre is its
    members' weighted mean, and the same seed gives the same groups."""
    x = np.array(points)
    w = np.array(weights[: len(x)], dtype=float)
    k = min(k, len(np.unique(x, axis=0)))
    labels, centres = weighted_kmeans(x, w, k, seed=seed)
    assert labels.shape == (len(x),) and centres.shape == (k, 2) and set(labels) <= set(range(k))
    dist = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    assert np.allclose(dist[np.arange(len(x)), labels], dist.min(axis=1))
    use = w if (w > 0).any() else np.ones(len(x))
    for j in set(labels.tolist()):
        inside = labels == j
        if use[inside].sum() > 0:
            assert np.allclose(centres[j], np.average(x[inside], axis=0, weights=use[inside]))
    again = weighted_kmeans(x, w, k, seed=seed)
    assert np.array_equal(again[0], labels) and np.array_equal(again[1], centres)
