"""Rates, proportions and means with confidence intervals, by the OHID (formerly PHE) methods.

The methods follow the OHID public health technical guidance on confidence intervals and its reference
implementation, the R package PHEindicatormethods (``ukhsa-collaboration/PHEindicatormethods``):

* counts and crude rates (:func:`poisson_ci`, :func:`rate_ci`): the exact Poisson interval for counts below 10
  and Byar's approximation for counts of 10 and more, as ``phe_rate`` does (``R/Rates.R`` at commit 0031e305:
  ``if_else(x < 10, qchisq(...), byars_lower(...))``, with ``byars_lower``/``byars_upper`` in ``R/utils.R``);
* proportions (:func:`wilson_ci`, :func:`proportion_ci`): the Wilson score interval without continuity correction
  (Newcombe 1998, method 3), as ``phe_proportion`` does;
* means of an intensive indicator across areas (:func:`mean_ci`): a Student's t interval, as ``phe_mean`` does,
  with an optional population weighting.

Counts must be whole, non-negative and present. A missing count is never treated as zero: the caller decides.

References
----------
Breslow NE, Day NE. *Statistical methods in cancer research, volume II: the design and analysis of cohort
studies.* IARC Scientific Publications 82. Lyon: IARC; 1987.

Armitage P, Berry G, Matthews JNS. *Statistical methods in medical research*, 4th edn. Oxford: Blackwell; 2002.

Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of seven methods.
*Statistics in Medicine* 1998; 17: 857-872.

Wilson EB. Probable inference, the law of succession, and statistical inference. *J Am Stat Assoc* 1927; 22:
209-212.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import pandas as pd
from scipy import special

from ..errors import JoinError, ValidationError

__all__ = ["mean_ci", "poisson_ci", "proportion_ci", "rate_ci", "wilson_ci"]


def _chi2_ppf(q: float, df: np.ndarray) -> np.ndarray:
    """The chi-square quantile, as ``scipy.stats.chi2.ppf`` computes it (bit for bit), from
    ``scipy.special``: importing ``scipy.stats`` costs about half a second of every run."""
    return 2 * special.gammaincinv(df / 2, q)


ArrayLike: TypeAlias = pd.Series | np.ndarray | Sequence[float] | float

MIN_CONFIDENCE = 0.9
MAX_CONFIDENCE = 0.999
EXACT_BELOW = 10  # phe_rate: exact Poisson limits for counts < 10, Byar's for counts >= 10
EXACT = "exact"
BYARS = "byars"

_N_LABELS = 5  # how many offending labels an error message shows
_INTEGER_TOLERANCE = 1e-9  # float noise allowed in a "whole" count (4.9999999999 is 5)


# --------------------------------------------------------------------------------------------------------------
# validation helpers: each returns the problems it found; the public functions raise once with all of them


def _check_confidence(confidence: float) -> float:
    """Return ``confidence`` as a float, or raise if it is not a proportion in [0.9, 0.999]."""
    if isinstance(confidence, bool) or not isinstance(confidence, int | float | np.integer | np.floating):
        raise ValidationError(
            f"confidence must be a number between {MIN_CONFIDENCE} and {MAX_CONFIDENCE}, got {confidence!r}"
        )
    value = float(confidence)
    if not (MIN_CONFIDENCE <= value <= MAX_CONFIDENCE):
        hint = f"; pass {value / 100:g}, not {value:g}" if 90 <= value < 100 else " (e.g. 0.95 or 0.998)"
        raise ValidationError(
            f"confidence must be a proportion between {MIN_CONFIDENCE} and {MAX_CONFIDENCE}, got {value:g}{hint}"
        )
    return value


def _as_array(values: ArrayLike, name: str) -> tuple[np.ndarray, pd.Index | None]:
    """``values`` as a float array and, for a Series, its index. Non-numeric data raise."""
    try:
        if isinstance(values, pd.Series):
            return values.to_numpy(dtype=float, na_value=np.nan), values.index
        return np.asarray(values, dtype=float), None
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} must be numeric: {exc}") from None


def _where(mask: np.ndarray, index: pd.Index | None) -> str:
    """The first few labels (or positions) where ``mask`` is true, for an error message."""
    flat = np.flatnonzero(np.ravel(mask))
    if index is not None:
        labels = [str(label) for label in index[flat[:_N_LABELS]]]
        what = "rows"
    else:
        labels = [str(i) for i in flat[:_N_LABELS]]
        what = "positions"
    more = ", ..." if flat.size > _N_LABELS else ""
    return f"{what} {', '.join(labels)}{more}"


def _n_values(k: int) -> str:
    return f"{k} value is" if k == 1 else f"{k} values are"


def _n_labels(k: int) -> str:
    return f"{k} label" if k == 1 else f"{k} labels"


def _missing_problems(values: np.ndarray, index: pd.Index | None, name: str, what: str) -> list[str]:
    missing = np.isnan(values)
    if not missing.any():
        return []
    return [
        f"{name}: {_n_values(int(missing.sum()))} missing ({_where(missing, index)}); a missing {what} is not "
        f"zero, so drop those rows or fill them deliberately before computing intervals"
    ]


def _count_problems(values: np.ndarray, index: pd.Index | None, name: str) -> list[str]:
    """Problems with a column of counts: missing, infinite, negative or not whole."""
    problems = _missing_problems(values, index, name, "count")
    present = ~np.isnan(values)
    infinite = present & np.isinf(values)
    if infinite.any():
        problems.append(f"{name}: {_n_values(int(infinite.sum()))} infinite ({_where(infinite, index)})")
    finite = present & ~infinite
    negative = finite & (values < 0)
    if negative.any():
        problems.append(
            f"{name}: {_n_values(int(negative.sum()))} negative ({_where(negative, index)}); counts must be >= 0"
        )
    with np.errstate(invalid="ignore"):
        fractional = finite & (np.abs(values - np.round(values)) > _INTEGER_TOLERANCE * np.maximum(1.0, values))
    if fractional.any():
        problems.append(
            f"{name}: {_n_values(int(fractional.sum()))} not whole ({_where(fractional, index)}); "
            "these intervals need observed counts, not rates, proportions or apportioned (fractional) counts. "
            "Compute the interval at the geography the counts were published on"
        )
    return problems


def _counts(values: ArrayLike, name: str) -> tuple[np.ndarray, pd.Index | None]:
    """Validated whole, non-negative counts (rounded to remove float noise), and the Series index if any."""
    array, index = _as_array(values, name)
    problems = _count_problems(array, index, name)
    if problems:
        raise ValidationError(problems)
    return np.round(array), index


def _pair(a: ArrayLike, b: ArrayLike, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray, pd.Index | None]:
    """Two 1-d inputs as float arrays of one length, and the index of whichever is a Series (None if neither).

    Two Series must have identical indexes (nothing is realigned or reordered silently). A scalar (not a
    one-element list) is broadcast to the length of the other input.
    """
    a_arr, a_index = _as_array(a, names[0])
    b_arr, b_index = _as_array(b, names[1])
    if a_index is not None and b_index is not None and not a_index.equals(b_index):
        only_a = a_index.difference(b_index)
        only_b = b_index.difference(a_index)
        if len(only_a) or len(only_b):
            detail = (
                f"{_n_labels(len(only_a))} only in {names[0]} ({', '.join(map(str, only_a[:_N_LABELS]))}) and "
                f"{len(only_b)} only in {names[1]} ({', '.join(map(str, only_b[:_N_LABELS]))})"
            )
        else:
            detail = "the same labels in a different order or with duplicates"
        raise JoinError(
            f"{names[0]} and {names[1]} must have the same index, found {detail}; "
            f"align them first, e.g. {names[1]}.reindex({names[0]}.index)"
        )
    if a_arr.ndim > 1 or b_arr.ndim > 1:
        raise ValidationError(f"{names[0]} and {names[1]} must be one-dimensional (one value per area)")
    if a_arr.ndim == 0:
        a_arr = np.full(max(b_arr.size, 1), float(a_arr))
    if b_arr.ndim == 0:
        b_arr = np.full(a_arr.size, float(b_arr))
    if a_arr.size != b_arr.size:
        raise ValidationError(
            f"{names[0]} has {a_arr.size} values but {names[1]} has {b_arr.size}; give one value per area in each"
        )
    return a_arr, b_arr, (a_index if a_index is not None else b_index)


def _result_index(index: pd.Index | None, size: int) -> pd.Index:
    return index if index is not None else pd.RangeIndex(size)


# --------------------------------------------------------------------------------------------------------------
# counts and rates


def _poisson_limits(x: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Count limits for validated whole counts ``x`` (any shape); no checks."""
    alpha = 1.0 - confidence
    lower = np.zeros_like(x, dtype=float)
    upper = np.empty_like(x, dtype=float)

    exact = x < EXACT_BELOW
    xe = x[exact]
    upper[exact] = _chi2_ppf(1.0 - alpha / 2, 2 * xe + 2) / 2
    positive = xe > 0  # chi-square with 0 degrees of freedom is undefined; the lower limit for 0 is 0
    lower_exact = np.zeros_like(xe)
    lower_exact[positive] = _chi2_ppf(alpha / 2, 2 * xe[positive]) / 2
    lower[exact] = lower_exact

    byars = ~exact
    xb = x[byars]
    z = special.ndtri(1.0 - alpha / 2)
    lower[byars] = xb * (1 - 1 / (9 * xb) - z / (3 * np.sqrt(xb))) ** 3
    upper[byars] = (xb + 1) * (1 - 1 / (9 * (xb + 1)) + z / (3 * np.sqrt(xb + 1))) ** 3
    return lower, upper


def poisson_ci(count: ArrayLike, *, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Confidence limits for an observed number of events, by the OHID method.

    Counts below 10 get the exact Poisson interval, from the chi-square distribution:

    * lower = chi2.ppf(alpha/2, 2x) / 2 (0 when x = 0),
    * upper = chi2.ppf(1 - alpha/2, 2x + 2) / 2;

    counts of 10 and more get Byar's approximation (Breslow and Day 1987):

    * lower = x (1 - 1/(9x) - z/(3 sqrt(x)))^3,
    * upper = (x + 1) (1 - 1/(9(x + 1)) + z/(3 sqrt(x + 1)))^3,

    where z is the standard normal quantile for 1 - alpha/2. The threshold is that of ``phe_rate`` in
    PHEindicatormethods (``R/Rates.R``: exact when ``x < 10``, Byar's otherwise).

    Parameters
    ----------
    count : array-like or pandas.Series
        Observed numbers of events: whole, non-negative, not missing. Float values such as ``5.0`` are
        accepted; ``4.5`` or ``NaN`` are not.
    confidence : float, default 0.95
        Two-sided confidence level, between 0.9 and 0.999 (0.998 gives the 99.8% limits used in funnel plots).

    Returns
    -------
    lower, upper : numpy.ndarray
        Limits for the expected count, with the same shape as ``count`` (0-d for a scalar). Divide by a
        denominator for a rate, or use :func:`rate_ci`.

    Raises
    ------
    ValidationError
        If any count is missing, infinite, negative or not a whole number (the message names how many and the
        first few rows), or if ``confidence`` is out of range.

    Examples
    --------
    >>> lower, upper = poisson_ci([0, 5, 25])
    >>> lower.round(3).tolist(), upper.round(3).tolist()
    ([0.0, 1.623, 16.174], [3.689, 11.668, 36.906])
    """
    confidence = _check_confidence(confidence)
    x, _ = _counts(count, "count")
    return _poisson_limits(x, confidence)


def rate_ci(count: ArrayLike, denominator: ArrayLike, *, per: float = 1000, confidence: float = 0.95) -> pd.DataFrame:
    """Crude rates per ``per`` people with OHID confidence limits (exact below 10 events, Byar's from 10).

    The count limits of :func:`poisson_ci` are divided by the denominator and multiplied by ``per``, as
    ``phe_rate`` in PHEindicatormethods does. The denominator is treated as fixed (a population or
    person-years), not as a random quantity.

    Parameters
    ----------
    count : array-like or pandas.Series
        Observed numbers of events per area: whole, non-negative, not missing.
    denominator : array-like or pandas.Series
        Population or person-years at risk per area: positive and not missing. If both inputs are Series they
        must have the same index (they are not realigned); a scalar applies to every area.
    per : float, default 1000
        Multiplier: 1000 gives rates per 1,000, 100_000 per 100,000.
    confidence : float, default 0.95
        Two-sided confidence level, between 0.9 and 0.999.

    Returns
    -------
    pandas.DataFrame
        Columns ``rate``, ``lower``, ``upper`` (all per ``per``) and ``method`` (``"exact"`` or ``"byars"``),
        on the index of ``count`` (or ``denominator``) when either is a Series, otherwise a RangeIndex.

    Raises
    ------
    ValidationError
        If a count is bad (see :func:`poisson_ci`), a denominator is zero, negative, infinite or missing (the
        message names how many rows and the first few index labels), ``per`` is not positive, or ``confidence``
        is out of range. Every problem found is reported at once.
    JoinError
        If ``count`` and ``denominator`` are Series with different indexes.

    Examples
    --------
    >>> rate_ci(pd.Series([3, 40], index=["E01000001", "E01000002"]), [1500, 2000]).round(3)
               rate   lower   upper method
    E01000001   2.0   0.412   5.845  exact
    E01000002  20.0  14.287  27.235  byars
    """
    confidence = _check_confidence(confidence)
    if isinstance(per, bool) or not isinstance(per, int | float | np.integer | np.floating) or not per > 0:
        raise ValidationError(f"per must be a positive number such as 1000 or 100_000, got {per!r}")
    if not math.isfinite(per):
        raise ValidationError(f"per must be finite, got {per!r}")
    x, den, index = _pair(count, denominator, ("count", "denominator"))

    problems = _count_problems(x, index, "count")
    problems += _missing_problems(den, index, "denominator", "denominator")
    present = ~np.isnan(den)
    bad = present & ~(np.isfinite(den) & (den > 0))
    if bad.any():
        problems.append(
            f"denominator: {_n_values(int(bad.sum()))} zero, negative or infinite ({_where(bad, index)}); "
            "a rate needs a positive population. Drop those areas or merge them with a neighbour"
        )
    if problems:
        raise ValidationError(problems)

    x = np.round(x)
    lower, upper = _poisson_limits(x, confidence)
    scale = float(per) / den
    return pd.DataFrame(
        {
            "rate": x * scale,
            "lower": lower * scale,
            "upper": upper * scale,
            "method": np.where(x < EXACT_BELOW, EXACT, BYARS),
        },
        index=_result_index(index, x.size),
    )


# --------------------------------------------------------------------------------------------------------------
# proportions


def _proportion_inputs(successes: ArrayLike, n: ArrayLike) -> tuple[np.ndarray, np.ndarray, pd.Index | None]:
    """Validated whole counts with 0 <= successes <= n and n > 0, and the result index."""
    x, size, index = _pair(successes, n, ("successes", "n"))
    problems = _count_problems(x, index, "successes") + _count_problems(size, index, "n")
    with np.errstate(invalid="ignore"):
        empty = size == 0
        over = x > size
    if empty.any():
        problems.append(
            f"n: {_n_values(int(empty.sum()))} zero ({_where(empty, index)}); a proportion of nobody is "
            "undefined, so drop those areas"
        )
    if over.any():
        problems.append(
            f"successes: {_n_values(int(over.sum()))} greater than n ({_where(over, index)}); check the "
            "numerator and denominator are the right way round and cover the same people"
        )
    if problems:
        raise ValidationError(problems)
    return np.round(x), np.round(size), index


def _wilson_limits(x: np.ndarray, n: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    z = special.ndtri(1.0 - (1.0 - confidence) / 2)
    z2 = z * z
    p = x / n
    centre = 2 * x + z2
    half = z * np.sqrt(z2 + 4 * x * (1 - p))
    denom = 2 * (n + z2)
    # at x = 0 the lower limit is exactly 0, and at x = n the upper is exactly 1; set them so float rounding
    # cannot leave the proportion outside its own interval
    lower = np.where(x == 0, 0.0, np.clip((centre - half) / denom, 0.0, 1.0))
    upper = np.where(x == n, 1.0, np.clip((centre + half) / denom, 0.0, 1.0))
    return lower, upper


def wilson_ci(successes: ArrayLike, n: ArrayLike, *, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score confidence limits for a proportion (Newcombe 1998, method 3; no continuity correction).

    lower, upper = (2x + z^2 -/+ z sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2)), as ``wilson_lower`` and
    ``wilson_upper`` in PHEindicatormethods. Unlike the normal (Wald) interval it stays inside [0, 1] and is
    usable for 0 or n successes.

    Parameters
    ----------
    successes : array-like or pandas.Series
        Number with the characteristic: whole, non-negative, at most ``n``, not missing.
    n : array-like or pandas.Series
        Number in the group: whole and positive. A scalar applies to every value of ``successes``.
    confidence : float, default 0.95
        Two-sided confidence level, between 0.9 and 0.999.

    Returns
    -------
    lower, upper : numpy.ndarray
        One-dimensional arrays of limits, as proportions (0-1).

    Raises
    ------
    ValidationError
        If a value is missing, negative or fractional, ``n`` is 0, ``successes`` exceeds ``n``, or
        ``confidence`` is out of range. Every problem found is reported at once.
    JoinError
        If both inputs are Series with different indexes.

    See Also
    --------
    proportion_ci : the same limits with the proportion, as a DataFrame on the input's index.
    """
    confidence = _check_confidence(confidence)
    x, size, _ = _proportion_inputs(successes, n)
    return _wilson_limits(x, size, confidence)


def proportion_ci(successes: ArrayLike, n: ArrayLike, *, confidence: float = 0.95) -> pd.DataFrame:
    """Proportions with Wilson score confidence limits, as ``phe_proportion`` in PHEindicatormethods.

    Parameters
    ----------
    successes : array-like or pandas.Series
        Number with the characteristic: whole, non-negative, at most ``n``, not missing.
    n : array-like or pandas.Series
        Number in the group: whole and positive. If both inputs are Series they must share an index.
    confidence : float, default 0.95
        Two-sided confidence level, between 0.9 and 0.999.

    Returns
    -------
    pandas.DataFrame
        Columns ``proportion``, ``lower``, ``upper`` (0-1; multiply by 100 for percentages), on the index of
        ``successes`` (or ``n``) when either is a Series, otherwise a RangeIndex.

    Raises
    ------
    ValidationError, JoinError
        As :func:`wilson_ci`.

    Examples
    --------
    >>> proportion_ci([81, 0], [263, 20]).round(4)
       proportion   lower   upper
    0       0.308  0.2553  0.3662
    1       0.000  0.0000  0.1611
    """
    confidence = _check_confidence(confidence)
    x, size, index = _proportion_inputs(successes, n)
    lower, upper = _wilson_limits(x, size, confidence)
    return pd.DataFrame({"proportion": x / size, "lower": lower, "upper": upper}, index=_result_index(index, x.size))


# --------------------------------------------------------------------------------------------------------------
# means of intensive indicators


def mean_ci(
    values: ArrayLike, *, weights: ArrayLike | None = None, confidence: float = 0.95
) -> tuple[float, float, float]:
    """A (weighted) mean across areas with a Student's t confidence interval.

    For intensive indicators whose counts are not available, such as an SMR or a score averaged over the
    LSOAs of a patch. **This is the interval for the mean across areas**: it reflects how much the areas'
    values vary, not the Poisson noise in each value, and it treats the areas as a sample. It is not a
    Poisson interval for the pooled rate; when counts and populations are available, sum them and use
    :func:`rate_ci` instead.

    Unweighted, this is ``phe_mean`` in PHEindicatormethods: mean +/- t(1 - alpha/2, m - 1) s / sqrt(m), for
    m areas with sample standard deviation s. With weights w (e.g. populations), the mean is sum(w v) / sum(w)
    and its standard error is the linearisation (sandwich) estimate used for weighted survey means,
    sqrt(m / (m - 1) * sum(w^2 (v - mean)^2)) / sum(w), still with m - 1 degrees of freedom. It equals the
    unweighted standard error when all weights are equal and does not change if the weights are rescaled.

    Parameters
    ----------
    values : array-like or pandas.Series
        One value per area; at least two, none missing or infinite.
    weights : array-like or pandas.Series, optional
        Positive weight per area, such as population. If both inputs are Series they must share an index.
    confidence : float, default 0.95
        Two-sided confidence level, between 0.9 and 0.999.

    Returns
    -------
    mean, lower, upper : float

    Raises
    ------
    ValidationError
        If fewer than two values are given, a value or weight is missing or infinite, a weight is not positive,
        or ``confidence`` is out of range.
    JoinError
        If ``values`` and ``weights`` are Series with different indexes.

    Examples
    --------
    >>> [round(v, 2) for v in mean_ci([30, 40, 50, 60])]
    [45.0, 24.46, 65.54]
    """
    confidence = _check_confidence(confidence)
    if weights is None:
        v, index = _as_array(values, "values")
        if v.ndim > 1:
            raise ValidationError("values must be one-dimensional (one value per area)")
        v = np.atleast_1d(v)
        w = np.ones_like(v)
    else:
        v, w, index = _pair(values, weights, ("values", "weights"))

    problems = _missing_problems(v, index, "values", "value")
    infinite = np.isinf(v)
    if infinite.any():
        problems.append(f"values: {_n_values(int(infinite.sum()))} infinite ({_where(infinite, index)})")
    if weights is not None:
        problems += _missing_problems(w, index, "weights", "weight")
        bad = ~np.isnan(w) & ~(np.isfinite(w) & (w > 0))
        if bad.any():
            problems.append(
                f"weights: {_n_values(int(bad.sum()))} zero, negative or infinite ({_where(bad, index)}); "
                "weights must be positive. Drop areas that should not count"
            )
    if v.size < 2:
        problems.append(f"values: a confidence interval for a mean needs at least 2 areas, got {v.size}")
    if problems:
        raise ValidationError(problems)

    m = v.size
    total = float(w.sum())
    mean = float((w * v).sum()) / total
    se = math.sqrt(m / (m - 1) * float((w**2 * (v - mean) ** 2).sum())) / total
    t = float(special.stdtrit(m - 1, 1.0 - (1.0 - confidence) / 2))
    return mean, mean - t * se, mean + t * se
