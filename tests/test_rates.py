"""Confidence intervals for counts, rates, proportions and means (lacgeo.rates).

Worked values come from published tables where they exist; each is cited where it is used. The rest of the
behaviour is tested by properties (Hypothesis) and by the error messages a user sees.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import poisson

from lacgeo.errors import JoinError, ValidationError
from lacgeo.need.rates import mean_ci, poisson_ci, proportion_ci, rate_ci, wilson_ci

Z95 = 1.959963984540054  # standard normal 97.5th percentile

counts = st.integers(0, 10**7)
confidences = st.floats(0.9, 0.999)
denominators = st.floats(1.0, 1e8)


def byars(x: float, z: float = Z95) -> tuple[float, float]:
    """Byar's limits written out by hand (Breslow & Day 1987, vol. II), independent of the module."""
    lower = x * (1 - 1 / (9 * x) - z / (3 * x**0.5)) ** 3
    upper = (x + 1) * (1 - 1 / (9 * (x + 1)) + z / (3 * (x + 1) ** 0.5)) ** 3
    return lower, upper


# ---------------------------------------------------------------------------------------------------------------
# published worked values


# Exact 95% confidence limits for a Poisson count from standard tables of Poisson limits (e.g. Documenta Geigy
# Scientific Tables; the chi-square form is Ulm K, Am J Epidemiol 1990; 131: 373-375):
# x = 0: 0-3.689; x = 1: 0.0253-5.572; x = 5: 1.6235-11.668; x = 9: 4.115-17.085.
# (x = 5 is sometimes quoted as 1.624; the limit is 1.62349, 1.623 to three places.)
@pytest.mark.parametrize(
    ("count", "lower", "upper"),
    [(0, 0.0, 3.689), (1, 0.0253, 5.572), (5, 1.6235, 11.668), (9, 4.115, 17.085)],
)
def test_small_counts_get_the_exact_poisson_limits_from_published_tables(count, lower, upper):
    lo, hi = poisson_ci(count)
    assert float(lo) == pytest.approx(lower, abs=1e-3 if lower >= 1 else 1e-4)
    assert float(hi) == pytest.approx(upper, abs=1e-3)


@settings(deadline=None)
@given(st.integers(0, 9), confidences)
def test_exact_limits_have_the_stated_tail_probabilities(x, confidence):
    # Checked against the Poisson distribution itself, not the chi-square identity the module uses:
    # P(X >= x | mean = lower) = P(X <= x | mean = upper) = (1 - confidence) / 2.
    lo, hi = poisson_ci(x, confidence=confidence)
    tail = (1 - confidence) / 2
    assert poisson.cdf(x, float(hi)) == pytest.approx(tail, rel=1e-6)
    if x > 0:
        assert poisson.sf(x - 1, float(lo)) == pytest.approx(tail, rel=1e-6)


def test_a_zero_count_has_a_lower_limit_of_exactly_zero():
    lo, hi = poisson_ci([0, 0], confidence=0.998)
    assert lo.tolist() == [0.0, 0.0]
    assert (hi > 0).all()


def test_ten_events_use_byars_per_the_phe_rate_threshold():
    # PHEindicatormethods R/Rates.R (phe_rate): exact when x < 10, Byar's otherwise. Byar's at x = 10, worked
    # by hand from the formula: 4.787-18.391 (the exact limits would be 4.795-18.390).
    lo, hi = poisson_ci(10)
    assert float(lo) == pytest.approx(4.787, abs=1e-3)
    assert float(hi) == pytest.approx(18.391, abs=1e-3)
    assert (float(lo), float(hi)) == pytest.approx(byars(10), rel=1e-12)
    assert rate_ci([9, 10], [1000, 1000])["method"].tolist() == ["exact", "byars"]


def test_byars_limits_for_25_events():
    # Byar's 95% limits for 25 observed events, 16.17-36.91 (Breslow & Day 1987, vol. II). Hand check:
    # 25 (1 - 1/225 - 1.96/15)^3 = 16.174 and 26 (1 - 1/234 + 1.96/(3 sqrt 26))^3 = 36.906.
    lo, hi = poisson_ci(25)
    assert float(lo) == pytest.approx(16.17, abs=5e-3)
    assert float(hi) == pytest.approx(36.91, abs=5e-3)
    assert (float(lo), float(hi)) == pytest.approx(byars(25), rel=1e-12)


def test_rate_ci_scales_count_limits_by_denominator_and_multiplier():
    # 1 event in 2,000 people per 1,000: 0.5 (0.0127-2.786), the tabulated exact limits 0.0253-5.572 / 2.
    rates = rate_ci([1], [2000], per=1000)
    assert rates.loc[0, "rate"] == pytest.approx(0.5)
    assert rates.loc[0, "lower"] == pytest.approx(0.0253 / 2, abs=1e-4)
    assert rates.loc[0, "upper"] == pytest.approx(5.572 / 2, abs=1e-3)
    assert list(rates.columns) == ["rate", "lower", "upper", "method"]


# Newcombe RG, "Two-sided confidence intervals for the single proportion: comparison of seven methods",
# Statistics in Medicine 1998; 17: 857-872, Table I, method 3 (Wilson score interval without continuity correction).
NEWCOMBE_TABLE_I = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
]


@pytest.mark.parametrize(("successes", "n", "lower", "upper"), NEWCOMBE_TABLE_I)
def test_wilson_matches_newcombe_1998_table_i(successes, n, lower, upper):
    lo, hi = wilson_ci(successes, n)
    assert lo.item() == pytest.approx(lower, abs=5e-5)
    assert hi.item() == pytest.approx(upper, abs=5e-5)


def test_proportion_ci_returns_the_newcombe_rows_as_a_frame():
    successes, n, lower, upper = (list(col) for col in zip(*NEWCOMBE_TABLE_I, strict=True))
    props = proportion_ci(successes, n)
    assert list(props.columns) == ["proportion", "lower", "upper"]
    np.testing.assert_allclose(props["proportion"], np.array(successes) / np.array(n))
    np.testing.assert_allclose(props["lower"], lower, atol=5e-5)
    np.testing.assert_allclose(props["upper"], upper, atol=5e-5)


def test_mean_ci_matches_the_student_t_interval():
    # phe_mean's example in PHEindicatormethods (R/Means.R): values 30, 40, 50, 60. Worked by hand with
    # t(0.975, 3) = 3.182 from standard t tables and s = 12.910: 45 +/- 3.182 * 12.910 / 2 = 24.46 to 65.54.
    mean, lower, upper = mean_ci([30, 40, 50, 60])
    assert (mean, lower, upper) == pytest.approx((45.0, 24.46, 65.54), abs=5e-3)
    assert all(type(v) is float for v in (mean, lower, upper))


def test_weighted_mean_ci_worked_by_hand():
    # values 1, 2, 3 with weights 1, 1, 2: mean 9/4 = 2.25; sum w^2 (v - mean)^2 = 1.5625 + 0.0625 + 2.25 = 3.875;
    # se = sqrt(3/2 * 3.875) / 4 = 0.6027; t(0.975, 2) = 4.303 (t tables): 2.25 +/- 2.593.
    mean, lower, upper = mean_ci([1, 2, 3], weights=[1, 1, 2])
    assert (mean, lower, upper) == pytest.approx((2.25, -0.343, 4.843), abs=1e-3)


# ---------------------------------------------------------------------------------------------------------------
# properties


@settings(deadline=None)
@given(st.lists(counts, min_size=1, max_size=30), confidences)
def test_poisson_limits_bracket_the_count(xs, confidence):
    lo, hi = poisson_ci(xs, confidence=confidence)
    x = np.array(xs, dtype=float)
    assert lo.shape == hi.shape == x.shape
    assert (lo >= 0).all()
    assert (lo <= x).all()
    assert (x < hi).all()


@settings(deadline=None)
@given(st.lists(st.tuples(counts, denominators), min_size=1, max_size=30), confidences)
def test_rate_limits_bracket_the_rate(rows, confidence):
    rates = rate_ci([r[0] for r in rows], [r[1] for r in rows], per=100_000, confidence=confidence)
    assert (rates["lower"] <= rates["rate"]).all()
    assert (rates["rate"] <= rates["upper"]).all()


@settings(deadline=None)
@given(st.integers(0, 10**5), denominators, st.integers(2, 50))
def test_intervals_narrow_as_counts_grow_for_a_fixed_rate(x, denominator, k):
    small, large = rate_ci([x, k * x], [denominator, k * denominator]).itertuples()
    assert small.rate == pytest.approx(large.rate)
    assert large.upper - large.lower < small.upper - small.lower


@settings(deadline=None)
@given(st.lists(st.tuples(counts, denominators), min_size=1, max_size=20, unique_by=lambda r: r[0]), st.randoms())
def test_rate_ci_keeps_the_series_index(rows, rnd):
    labels = [f"E01{i:06d}" for i in range(len(rows))]
    rnd.shuffle(labels)
    index = pd.Index(labels, name="area_code")
    count = pd.Series([r[0] for r in rows], index=index)
    denominator = pd.Series([r[1] for r in rows], index=index)
    rates = rate_ci(count, denominator)
    assert rates.index.equals(index)
    assert rates.index.name == "area_code"
    np.testing.assert_allclose(rates["rate"], count / denominator * 1000)


@settings(deadline=None)
@given(st.lists(counts, min_size=1, max_size=30))
def test_99_percent_poisson_intervals_are_wider_than_95(xs):
    lo95, hi95 = poisson_ci(xs, confidence=0.95)
    lo99, hi99 = poisson_ci(xs, confidence=0.99)
    assert (lo99 <= lo95).all()
    assert (hi99 > hi95).all()


@st.composite
def successes_and_n(draw):
    n = draw(st.integers(1, 10**6))
    return draw(st.integers(0, n)), n


@settings(deadline=None)
@given(st.lists(successes_and_n(), min_size=1, max_size=30), confidences)
def test_wilson_limits_bracket_the_proportion_inside_zero_one(rows, confidence):
    props = proportion_ci([r[0] for r in rows], [r[1] for r in rows], confidence=confidence)
    assert (props["lower"] >= 0).all()
    assert (props["lower"] <= props["proportion"]).all()
    assert (props["proportion"] <= props["upper"]).all()
    assert (props["upper"] <= 1).all()


@settings(deadline=None)
@given(st.lists(successes_and_n(), min_size=1, max_size=30))
def test_99_percent_wilson_intervals_are_wider_than_95(rows):
    x, n = [r[0] for r in rows], [r[1] for r in rows]
    lo95, hi95 = wilson_ci(x, n, confidence=0.95)
    lo99, hi99 = wilson_ci(x, n, confidence=0.99)
    assert (lo99 <= lo95).all()
    assert (hi99 >= hi95).all()
    assert (hi99 - lo99 > hi95 - lo95).all()


finite_values = st.floats(-1e4, 1e4, allow_nan=False)
positive_weights = st.floats(0.5, 1e4)


@settings(deadline=None)
@given(st.lists(st.tuples(finite_values, positive_weights), min_size=2, max_size=30), st.floats(0.01, 100))
def test_mean_ci_brackets_the_mean_and_ignores_the_scale_of_weights(rows, scale):
    values = [r[0] for r in rows]
    weights = np.array([r[1] for r in rows])
    mean, lower, upper = mean_ci(values, weights=weights)
    assert lower <= mean <= upper
    rescaled = mean_ci(values, weights=weights * scale)
    assert rescaled == pytest.approx((mean, lower, upper), rel=1e-9, abs=1e-9)


@settings(deadline=None)
@given(st.lists(finite_values, min_size=2, max_size=30), positive_weights)
def test_equal_weights_give_the_unweighted_mean_ci(values, weight):
    weighted = mean_ci(values, weights=[weight] * len(values))
    assert weighted == pytest.approx(mean_ci(values), rel=1e-9, abs=1e-9)


def test_99_percent_mean_ci_is_wider_than_95():
    _, lo95, hi95 = mean_ci([95.0, 110.0, 87.5, 130.2, 101.0])
    _, lo99, hi99 = mean_ci([95.0, 110.0, 87.5, 130.2, 101.0], confidence=0.99)
    assert lo99 < lo95 and hi99 > hi95


def test_inputs_are_not_mutated():
    count = pd.Series([3.0, 40.0], index=pd.Index(["E01000001", "E01000002"], name="area_code"))
    denominator = count * 0 + 1500
    before = (count.copy(), denominator.copy())
    rate_ci(count, denominator)
    pd.testing.assert_series_equal(count, before[0])
    pd.testing.assert_series_equal(denominator, before[1])


# ---------------------------------------------------------------------------------------------------------------
# bad inputs: every message names the problem, how many and where


def test_negative_count_is_rejected():
    with pytest.raises(ValidationError, match=r"count: 1 value is negative \(positions 1\); counts must be >= 0"):
        poisson_ci([3, -1, 4])


def test_nan_count_is_an_error_not_a_zero():
    count = pd.Series([3.0, np.nan, 4.0, np.nan], index=["E01000001", "E01000002", "E01000003", "E01000004"])
    with pytest.raises(ValidationError, match=r"count: 2 values are missing \(rows E01000002, E01000004\).*not zero"):
        poisson_ci(count)
    with pytest.raises(ValidationError, match=r"count: 1 value is missing"):
        rate_ci(pd.Series([5, pd.NA], dtype="Int64"), [100, 100])


def test_fractional_count_is_rejected():
    with pytest.raises(ValidationError, match=r"count: 1 value is not whole \(positions 0\).*apportioned"):
        poisson_ci([2.5, 3])


def test_float_noise_in_a_whole_count_is_accepted():
    lo, hi = poisson_ci(np.array([0.1 + 0.2]) * 10)  # 3.0000000000000004
    expected_lo, expected_hi = poisson_ci([3])
    np.testing.assert_array_equal(lo, expected_lo)
    np.testing.assert_array_equal(hi, expected_hi)


def test_zero_denominator_names_the_rows():
    index = pd.Index([f"E0100000{i}" for i in range(8)], name="area_code")
    count = pd.Series([1, 2, 3, 4, 5, 6, 7, 8], index=index)
    denominator = pd.Series([0, 100, 0, 0, 0, 0, 0, 100], index=index)
    with pytest.raises(
        ValidationError,
        match=r"denominator: 6 values are zero, negative or infinite "
        r"\(rows E01000000, E01000002, E01000003, E01000004, E01000005, \.\.\.\)",
    ):
        rate_ci(count, denominator)


def test_missing_denominator_is_rejected():
    with pytest.raises(ValidationError, match=r"denominator: 1 value is missing \(positions 1\)"):
        rate_ci([1, 2], [100, np.nan])


def test_every_problem_is_reported_at_once():
    with pytest.raises(ValidationError, match=r"^2 problems: count: 1 value is negative.*denominator: 1 value is zero"):
        rate_ci([-1, 2], [100, 0])


def test_series_with_different_indexes_are_not_realigned():
    count = pd.Series([1, 2], index=["E01000001", "E01000002"])
    denominator = pd.Series([100, 100], index=["E01000001", "E01000003"])
    with pytest.raises(JoinError, match=r"same index.*1 label only in count \(E01000002\).*reindex"):
        rate_ci(count, denominator)
    with pytest.raises(JoinError, match=r"different order"):
        rate_ci(count, denominator.set_axis(["E01000002", "E01000001"]))


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValidationError, match=r"count has 3 values but denominator has 2"):
        rate_ci([1, 2, 3], [100, 200])


def test_a_scalar_denominator_applies_to_every_area_but_a_one_element_list_does_not():
    count = pd.Series([1, 20], index=pd.Index(["E01000001", "E01000002"], name="area_code"))
    rates = rate_ci(count, 2000)
    assert rates.index.equals(count.index)
    np.testing.assert_allclose(rates["rate"], [0.5, 10.0])
    with pytest.raises(ValidationError, match=r"count has 2 values but denominator has 1"):
        rate_ci(count, [2000])


def test_bad_per_is_rejected():
    with pytest.raises(ValidationError, match=r"per must be a positive number"):
        rate_ci([1], [100], per=0)


def test_successes_greater_than_n_is_rejected():
    with pytest.raises(ValidationError, match=r"successes: 1 value is greater than n \(positions 1\)"):
        wilson_ci([3, 12], [10, 10])


def test_negative_successes_and_zero_n_are_rejected():
    with pytest.raises(ValidationError, match=r"successes: 1 value is negative.*n: 1 value is zero"):
        proportion_ci([-1, 0], [10, 0])


@pytest.mark.parametrize(
    ("confidence", "message"),
    [
        (0.5, r"between 0\.9 and 0\.999, got 0\.5 \(e\.g\. 0\.95"),
        (1.0, r"got 1 \(e\.g\."),
        (95, r"got 95; pass 0\.95, not 95"),
        ("0.95", r"must be a number.*got '0\.95'"),
        (True, r"must be a number"),
    ],
)
def test_bad_confidence_is_rejected(confidence, message):
    for call in (
        lambda: poisson_ci([1], confidence=confidence),
        lambda: rate_ci([1], [10], confidence=confidence),
        lambda: wilson_ci([1], [10], confidence=confidence),
        lambda: proportion_ci([1], [10], confidence=confidence),
        lambda: mean_ci([1, 2], confidence=confidence),
    ):
        with pytest.raises(ValidationError, match=message):
            call()


def test_mean_ci_rejects_bad_values_and_weights():
    with pytest.raises(ValidationError, match=r"at least 2 areas, got 1"):
        mean_ci([100.0])
    with pytest.raises(ValidationError, match=r"values: 1 value is missing \(rows b\)"):
        mean_ci(pd.Series([1.0, np.nan], index=["a", "b"]))
    with pytest.raises(ValidationError, match=r"weights: 1 value is zero, negative or infinite \(positions 0\)"):
        mean_ci([1.0, 2.0], weights=[0, 1])


def test_non_numeric_input_is_rejected():
    with pytest.raises(ValidationError, match=r"count must be numeric"):
        poisson_ci(["three"])
