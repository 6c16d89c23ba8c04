"""An evaluation-ready design: matched comparison patches for the phase-1 picks.

A council that wants to evaluate Local Area Coordination later, before and after against
controls, needs comparison patches chosen now, at baseline, by a rule written down before
any outcome is seen. :func:`match_comparators` chooses them:

* **Eligible** comparators are patches that are not a phase-1 pick (``phase == 1``), have
  no coordinator already in post (``phase == 0``), and do not touch a pick or an in-post
  patch (a shared boundary, or an island link of the contiguity graph): next door, the
  programme spills over, so the neighbour is no control. Each is used at most once.
* **Similarity**: each matching variable (``population`` and the given indicators) is
  standardised over the picks and the eligible patches together; the distance is Euclidean
  over the standardised variables, and a comparator with another need profile than its
  pick costs ``profile_penalty`` more (1 standard deviation by default).
* **Assignment**: each pick is repeated ``k`` times and the picks and comparators are paired
  with the least total cost (:func:`scipy.optimize.linear_sum_assignment`), which beats
  choosing greedily in rank order.
* **Balance**: the standardised mean difference (SMD) of every matching variable between
  the picks and all eligible patches (before matching) and the matched comparators (after);
  an |SMD| below 0.1 is the usual sign of balance.

:func:`baseline_table` then keeps, from the run's patch comparisons, every indicator's
baseline value, interval and data period for the picks and their comparators.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linear_sum_assignment

from ..catalogue import CATALOGUE
from ..errors import ConfigError, ValidationError, first_few
from ..patches.graph import AreaGraph, symmetric_adjacency
from ..schema import PATCH_ID, PATCH_NAME, PHASE, POPULATION, RANK

NEED_PROFILE = "need_profile"
BALANCE_THRESHOLD = 0.1
"""An |SMD| below this after matching counts as balanced (the usual rule of thumb)."""
PAIR_COLUMNS = [
    "pick_id",
    "pick_name",
    "comparator_id",
    "comparator_name",
    "match_order",
    "distance",
    "same_profile",
    "pick_population",
    "comparator_population",
]
BALANCE_COLUMNS = ["mean_picks", "mean_eligible", "mean_comparators", "smd_before", "smd_after", "balanced"]
ELIGIBLE = "eligible"
_TIE = 1e-9
"""Tie-break weight: equal costs go to the comparator with the lower patch id."""


@dataclass(frozen=True)
class Evaluation:
    """The matched design from :func:`match_comparators`.

    ``picks`` are the phase-1 patch ids in rank order. ``pairs`` has one row per pick and
    comparator (:data:`PAIR_COLUMNS`), picks in rank order and each pick's comparators from
    the closest (``match_order`` 1); ``distance`` is the Euclidean distance over the
    standardised matching variables, before any need-profile penalty. ``balance`` has one
    row per matching variable (:data:`BALANCE_COLUMNS`). ``eligibility`` gives every
    patch's status: ``"eligible"`` or why not (``"pick"``, ``"in post"``, ``"next to a
    pick"``, ``"next to a patch in post"``, ``"no value of ..."``). ``warnings`` are plain
    sentences for the report.
    """

    picks: tuple[str, ...]
    pairs: pd.DataFrame
    balance: pd.DataFrame
    eligibility: pd.Series
    warnings: tuple[str, ...]


def patch_adjacency(graph: AreaGraph, patch_id: pd.Series) -> sparse.csr_array:
    """Which patches touch: the patch-level adjacency of an area graph.

    Two patches are adjacent when any of their areas are (a shared boundary point, or a
    link the island policy added: both count as contact for spill-over).

    Parameters
    ----------
    graph
        The run's area graph (:func:`lacgeo.build_area_graph`).
    patch_id
        The patch of every area, indexed by area code like ``graph.codes`` (any order).

    Returns
    -------
    scipy.sparse.csr_array
        Symmetric, ``int8``, zero diagonal. Row and column ``i`` are the ``i``-th patch id
        in sorted order (``sorted(patch_id.unique())``), which is the order
        :func:`match_comparators` reads it in.

    Examples
    --------
    >>> graph = AreaGraph(pd.Index(["a", "b", "c", "d"]), np.array([[0, 1], [1, 2], [2, 3]]), frozenset())
    >>> patch_adjacency(graph, pd.Series(["P2", "P2", "P1", "P3"], index=graph.codes)).toarray()
    array([[0, 1, 1],
           [1, 0, 0],
           [1, 0, 0]], dtype=int8)
    """
    labels = patch_id.reindex(graph.codes)
    if labels.isna().any():
        missing = graph.codes[labels.isna().to_numpy()]
        raise ValidationError(
            f"patch_id gives no patch for {len(missing)} of the graph's {graph.n} areas ({first_few(missing)}): "
            "give the patch of every area, e.g. result.areas['patch_id']"
        )
    position, ids = pd.factorize(labels.astype(str), sort=True)
    ends = position[graph.edges] if len(graph.edges) else np.empty((0, 2), dtype=np.int64)
    ends = np.sort(ends[ends[:, 0] != ends[:, 1]], axis=1)
    pairs = np.unique(ends, axis=0) if len(ends) else ends
    return symmetric_adjacency(pairs.astype(np.int64), len(ids))


def match_comparators(
    table: pd.DataFrame,
    adjacency: sparse.sparray | sparse.spmatrix | np.ndarray,
    indicators: Sequence[str],
    *,
    k: int = 2,
    profile_penalty: float = 1.0,
    funded: Sequence[str] = (),
) -> Evaluation:
    """Choose ``k`` comparison patches for every phase-1 pick, for a later before-and-after evaluation.

    Parameters
    ----------
    table
        The run's patch table (``result.patches``), one row per patch indexed by
        ``patch_id``, with ``patch_name``, ``population``, ``phase`` (1 = a phase-1 pick,
        0 = a coordinator already in post), ``rank``, ``need_profile`` and the indicators.
    adjacency
        Which patches touch (:func:`patch_adjacency`): square, rows and columns in sorted
        patch-id order, one per row of ``table``.
    indicators
        The variables to match and balance on besides ``population``, usually the need
        index's indicators. Each is a column of ``table`` or, as the run's patch table names
        them, ``value_<name>`` (the exact name is used first).
    k
        Comparators wanted per pick.
    profile_penalty
        Added to the distance when a comparator's ``need_profile`` differs from its pick's,
        in standard deviations (0 ignores profiles).
    funded
        Patches that get a coordinator in the same period although not in phase 1 (the
        budget funds them): no control for phase 1, so never comparators.

    Returns
    -------
    Evaluation
        The pairs, the balance table, every patch's eligibility and warnings (fewer than
        ``k`` comparators for a pick, a variable still unbalanced, different need profiles).

    Notes
    -----
    A matching variable with one value over the picks and eligible patches drops out of the
    distance. A patch whose value of a matching variable is missing is not eligible (and
    named in a warning); a pick with a missing value is an error. With fewer eligible
    patches than picks x ``k``, every pick gets one comparator before any gets a second, as
    far as they go, and a warning names the picks left short.

    The SMD is ``(mean_picks - mean_other) / sqrt((var_picks + var_other) / 2)`` with sample
    variances (``ddof=1``). A group of one patch has no sample variance, so the other
    group's variance is the denominator alone (with one pick, the comparators' spread is
    the yardstick). When no variance remains (both groups constant, or one patch each), the
    SMD is 0 if the means are equal and +/-inf otherwise (never balanced); it is NaN only
    when a group is empty (no eligible patch, or none matched), and that is warned.

    Equal costs go to the comparator with the lower patch id, so the same inputs (in any
    row order) give the same design.

    Examples
    --------
    Eight patches in a row; P1 and P8 are the picks, so P2 and P7 (next door) cannot be
    comparators. Cedar (P3) is much like Ash (P1), and Fir (P5) like Yew (P8):

    >>> ids = [f"P{i}" for i in range(1, 9)]
    >>> graph = AreaGraph(pd.Index(list("abcdefgh")), np.array([[i, i + 1] for i in range(7)]), frozenset())
    >>> adjacency = patch_adjacency(graph, pd.Series(ids, index=graph.codes))
    >>> table = pd.DataFrame(
    ...     {"patch_name": ["Ash", "Beech", "Cedar", "Elm", "Fir", "Hazel", "Oak", "Yew"],
    ...      "phase": [1, 2, 2, 3, 3, 4, 4, 1], "rank": [1, 3, 4, 5, 6, 7, 8, 2],
    ...      "population": [10_000, 9_000, 10_020, 12_000, 9_480, 8_000, 11_000, 9_500],
    ...      "need_profile": ["high", "high", "high", "low", "mid", "low", "mid", "mid"],
    ...      "imd_score": [40.0, 35.0, 39.5, 15.0, 31.0, 12.0, 33.0, 31.0]},
    ...     index=pd.Index(ids, name="patch_id"))
    >>> evaluation = match_comparators(table, adjacency, ["imd_score"], k=1)
    >>> evaluation.pairs[["pick_id", "comparator_id", "comparator_name", "match_order", "distance"]].round(2)
      pick_id comparator_id comparator_name  match_order  distance
    0      P1            P3           Cedar            1      0.04
    1      P8            P5             Fir            1      0.02
    >>> evaluation.balance[["mean_picks", "mean_eligible", "smd_before", "smd_after", "balanced"]].round(2)
                mean_picks  mean_eligible  smd_before  smd_after  balanced
    variable
    population      9750.0        9875.00       -0.10       0.00      True
    imd_score         35.5          24.38        1.08       0.04      True
    >>> evaluation.eligibility.tolist()
    ['pick', 'next to a pick', 'eligible', 'eligible', 'eligible', 'eligible', 'next to a pick', 'pick']
    """
    _check_options(k, profile_penalty)
    columns = _check_table(table, adjacency, indicators)
    ids = table.index.astype(str)
    frame = table.set_axis(ids).sort_index()  # sorted ids: the adjacency's order, and row order never matters
    adjacency = sparse.csr_array(adjacency)
    phase = frame[PHASE].to_numpy()
    pick, in_post = phase == 1, phase == 0
    next_to_pick = (adjacency @ pick.astype(np.int64)) > 0
    next_to_post = (adjacency @ in_post.astype(np.int64)) > 0

    values = frame[list(columns.values())].set_axis(list(columns), axis=1).astype(float)
    missing = values.isna()
    also_funded = frame.index.isin([str(f) for f in funded]) & ~pick & ~in_post
    status = np.select(
        [pick, in_post, also_funded, next_to_pick, next_to_post, missing.any(axis=1).to_numpy()],
        ["pick", "in post", "funded by the budget", "next to a pick", "next to a patch in post", "no value of "],
        default=ELIGIBLE,
    ).astype(object)
    for i in np.flatnonzero(status == "no value of "):
        status[i] += ", ".join(missing.columns[missing.iloc[i].to_numpy()])
    eligibility = pd.Series(status, index=frame.index.rename(PATCH_ID), name="eligibility")
    eligible = frame.index[status == ELIGIBLE]  # sorted by id
    picks = frame.loc[pick].assign(_id=frame.index[pick]).sort_values([RANK, "_id"]).index

    warnings: list[str] = []
    unvalued = eligibility.index[eligibility.str.startswith("no value of ")]
    if len(unvalued):
        warnings.append(
            f"{len(unvalued)} patch(es) cannot be comparators because a matching variable has no value there "
            f"({first_few(unvalued)}); missing values are not filled in"
        )

    z, dropped = _standardise(values.loc[picks.append(eligible)])
    if dropped:
        warnings.append(
            f"{', '.join(dropped)} {'has' if len(dropped) == 1 else 'have'} one value over the picks and "
            "eligible patches, so it does not count in the distance"
        )
    pairs = _assign(frame, z, picks, eligible, k=k, profile_penalty=profile_penalty)
    warnings += _shortfall(frame, pairs, picks, eligible, k)
    balance = _balance(values, picks, eligible, pd.Index(pairs["comparator_id"]))
    warnings += _balance_warnings(balance, n_picks=len(picks), n_matched=len(pairs))
    differ = pairs.loc[~pairs["same_profile"]]
    if len(differ):
        which = [f"{c} for {p}" for p, c in zip(differ["pick_id"], differ["comparator_id"], strict=True)]
        warnings.append(
            f"{len(differ)} of {len(pairs)} comparators have a different need profile from their pick "
            f"({first_few(which)}): no closer eligible patch shares it"
        )
    return Evaluation(tuple(picks), pairs, balance, eligibility, tuple(warnings))


def baseline_table(evaluation: Evaluation, comparisons: pd.DataFrame) -> pd.DataFrame:
    """Every indicator's baseline for the picks and their comparators, from the run's comparisons.

    Parameters
    ----------
    evaluation
        The matched design (:func:`match_comparators`).
    comparisons
        The run's comparisons (``result.comparisons``, from
        :func:`lacgeo.need.compare_patches`): one row per patch and indicator.

    Returns
    -------
    DataFrame
        The rows of the picks and their comparators: each pick, then its comparators in
        match order, with a ``role`` column after ``patch_id`` (``"pick"`` or ``"comparator
        for P03"``) and the indicator's data ``period`` from the catalogue after ``unit``
        (empty for an indicator the catalogue does not hold).

    Examples
    --------
    >>> evaluation = Evaluation(("P1",), pd.DataFrame({"pick_id": ["P1"], "comparator_id": ["P3"]}),
    ...                         pd.DataFrame(), pd.Series(dtype=object), ())
    >>> comparisons = pd.DataFrame({"patch_id": ["P1", "P2", "P3"], "indicator": "disability_pct",
    ...                             "unit": "%", "patch_value": [21.0, 18.5, 20.4]})
    >>> baseline_table(evaluation, comparisons)[["patch_id", "role", "period", "patch_value"]]
      patch_id              role                       period  patch_value
    0       P1              pick  Census 2021 (21 March 2021)         21.0
    1       P3  comparator for P1  Census 2021 (21 March 2021)         20.4
    """
    problems = [
        f"comparisons has no {name!r} column" for name in (PATCH_ID, "indicator") if name not in comparisons.columns
    ]
    if problems:
        raise ValidationError([*problems, "give the run's comparisons (result.comparisons)"])
    roles = {p: "pick" for p in evaluation.picks}
    order = []
    for pick in evaluation.picks:
        order.append(pick)
        for comparator in evaluation.pairs.loc[evaluation.pairs["pick_id"] == pick, "comparator_id"]:
            roles[comparator] = f"comparator for {pick}"
            order.append(comparator)
    patch = comparisons[PATCH_ID].astype(str)
    absent = [p for p in order if not (patch == p).any()]
    if absent:
        raise ValidationError(
            f"comparisons has no rows for {len(absent)} of the design's patches ({first_few(absent)}): give the "
            "comparisons of the run the patch table came from"
        )
    position = {p: i for i, p in enumerate(order)}
    keep = comparisons.loc[patch.isin(position)]
    rank_of = patch[keep.index].map(position)
    keep = keep.iloc[np.argsort(rank_of.to_numpy(), kind="stable")].reset_index(drop=True)
    keep.insert(keep.columns.get_loc(PATCH_ID) + 1, "role", keep[PATCH_ID].astype(str).map(roles))
    period = [CATALOGUE[n].period if n in CATALOGUE else "" for n in keep["indicator"]]
    at = keep.columns.get_loc("unit") + 1 if "unit" in keep.columns else len(keep.columns)
    keep.insert(at, "period", period)
    return keep


# --- checks ---------------------------------------------------------------------------------


def _check_options(k: object, profile_penalty: object) -> None:
    problems = []
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        problems.append(f"k must be a whole number of comparators per pick, 1 or more (got {k!r})")
    if (
        isinstance(profile_penalty, bool)
        or not isinstance(profile_penalty, int | float | np.number)
        or not (math.isfinite(profile_penalty) and profile_penalty >= 0)
    ):
        problems.append(
            f"profile_penalty must be a finite number of standard deviations, 0 or more (got {profile_penalty!r})"
        )
    if problems:
        raise ConfigError("cannot match comparators: " + "; ".join(problems))


def _check_table(table: pd.DataFrame, adjacency: object, indicators: Sequence[str]) -> dict[str, str]:
    """Every problem with the table, indicators and adjacency at once; the matching variable -> its column."""
    problems = []
    required = [PATCH_NAME, POPULATION, PHASE, RANK, NEED_PROFILE]
    absent = [c for c in required if c not in table.columns]
    if absent:
        problems.append(
            f"the patch table has no {', '.join(map(repr, absent))} column: give the run's patch table (result.patches)"
        )
    if isinstance(indicators, str):
        problems.append(f"indicators must be a list of names, not the string {indicators!r}: write [{indicators!r}]")
        indicators = []
    columns = {POPULATION: POPULATION}
    for name in dict.fromkeys(indicators):
        if name in table.columns:
            columns[name] = name
        elif f"value_{name}" in table.columns:
            columns[name] = f"value_{name}"
        else:
            have = [c for c in table.columns if str(c).startswith("value_")]
            problems.append(
                f"indicator {name!r} is not in the patch table (no column {name!r} or 'value_{name}'); "
                f"give one of its indicators ({first_few(c[6:] for c in have) or 'none'}) or add the column"
            )
    if not table.index.is_unique:
        dup = table.index[table.index.duplicated()].unique()
        problems.append(f"the patch table has {len(dup)} repeated patch ids ({first_few(dup)}): one row per patch")
    present = [c for c in columns.values() if c in table.columns]
    numeric = [c for c in present if not pd.api.types.is_numeric_dtype(table[c])]
    if numeric:
        problems.append(f"matching variables must be numbers: {', '.join(numeric)} is not")
    if PHASE in table.columns:
        phase = pd.to_numeric(table[PHASE], errors="coerce")
        bad = table.index[phase.isna() | (phase != phase.round())]
        if len(bad):
            problems.append(f"phase must be a whole number for every patch ({len(bad)} are not: {first_few(bad)})")
        elif not (phase == 1).any():
            problems.append(
                "no phase-1 picks: the patch table has no patch with phase 1, so there is nothing to evaluate; "
                "give the table of a run with phase-1 patches (or set phase 1 on the patches starting first)"
            )
        elif not numeric and all(c in table.columns for c in present):
            nan = table.loc[phase == 1, present].isna().any(axis=1)
            if nan.any():
                problems.append(
                    f"{int(nan.sum())} phase-1 picks have a missing matching variable ({first_few(nan.index[nan])}): "
                    "a pick without a value cannot be matched; leave that indicator out"
                )
    try:
        matrix = sparse.csr_array(adjacency)
        shape = matrix.shape
        symmetric = shape[0] == shape[1] and (matrix != matrix.T).nnz == 0
    except (TypeError, ValueError):
        shape, symmetric = None, False
    if shape is None or len(shape) != 2:
        problems.append(
            "adjacency must be a square matrix: build it with patch_adjacency(graph, result.areas['patch_id'])"
        )
    elif shape != (len(table), len(table)):
        problems.append(
            f"adjacency is {shape[0]} x {shape[1]} but the patch table has {len(table)} patches: build it from "
            "the same run with patch_adjacency(graph, result.areas['patch_id'])"
        )
    elif not symmetric:
        problems.append("adjacency must be symmetric (a touches b exactly when b touches a): use patch_adjacency")
    if problems:
        raise ValidationError(problems)
    return columns


# --- matching -------------------------------------------------------------------------------


def _standardise(values: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """z-scores over the given patches (sample SD); variables with one value drop out."""
    keep, dropped = [], []
    for name in values.columns:
        x = values[name].to_numpy()
        scale = max(1.0, float(np.abs(x).max())) if len(x) else 1.0
        if len(x) < 2 or np.ptp(x) <= 1e-12 * scale:
            dropped.append(name)
        else:
            keep.append(name)
    z = (values[keep] - values[keep].mean()) / values[keep].std(ddof=1)
    return z, dropped


def _assign(
    frame: pd.DataFrame,
    z: pd.DataFrame,
    picks: pd.Index,
    eligible: pd.Index,
    *,
    k: int,
    profile_penalty: float,
) -> pd.DataFrame:
    """The least-cost assignment of ``k`` comparators per pick, without replacement."""
    zp, ze = z.loc[picks].to_numpy(), z.loc[eligible].to_numpy()
    distance = np.sqrt(((zp[:, None, :] - ze[None, :, :]) ** 2).sum(axis=2))
    profile = frame[NEED_PROFILE]
    same = (profile[picks].to_numpy()[:, None] == profile[eligible].to_numpy()[None, :]) & profile[
        picks
    ].notna().to_numpy()[:, None]
    cost = distance + profile_penalty * ~same
    rows = np.repeat(np.arange(len(picks)), k)  # each pick k times, rank order
    matrix = cost[rows] + _TIE * np.arange(len(eligible)) / max(len(eligible), 1)
    if len(rows) > len(eligible):  # not enough to go round: every pick's first before anyone's second
        order = np.tile(np.arange(k), len(picks))
        matrix = matrix + order[:, None] * (len(rows) * (float(cost.max(initial=0.0)) + 1.0) + 1.0)
    r, c = linear_sum_assignment(matrix) if len(eligible) else (np.array([], int), np.array([], int))
    pi, ci = rows[r], c
    pairs = pd.DataFrame(
        {
            "pick_id": picks[pi],
            "pick_name": frame.loc[picks[pi], PATCH_NAME].to_numpy(),
            "comparator_id": eligible[ci],
            "comparator_name": frame.loc[eligible[ci], PATCH_NAME].to_numpy(),
            "_pick": pi,
            "_cost": cost[pi, ci],
            "distance": distance[pi, ci],
            "same_profile": same[pi, ci],
            "pick_population": frame.loc[picks[pi], POPULATION].to_numpy(),
            "comparator_population": frame.loc[eligible[ci], POPULATION].to_numpy(),
        }
    )
    pairs = pairs.sort_values(["_pick", "_cost", "comparator_id"], kind="stable").reset_index(drop=True)
    pairs.insert(4, "match_order", (pairs.groupby("_pick").cumcount() + 1).astype("int64"))
    return pairs[PAIR_COLUMNS].astype({"distance": float, "same_profile": bool})


def _shortfall(frame: pd.DataFrame, pairs: pd.DataFrame, picks: pd.Index, eligible: pd.Index, k: int) -> list[str]:
    got = pairs["pick_id"].value_counts().reindex(picks, fill_value=0)
    short = got[got < k]
    if short.empty:
        return []
    which = [f"{p} ({frame.at[p, PATCH_NAME]}) has {n}" for p, n in short.items()]
    return [
        f"only {len(eligible)} patches are eligible as comparators (not a pick, not in post and not next to "
        f"either) for {len(picks)} picks x {k}: {first_few(which)} of the {k} asked for; ask for fewer "
        "comparators per pick, or accept a thinner comparison"
    ]


# --- balance --------------------------------------------------------------------------------


def _smd(treated: np.ndarray, control: np.ndarray) -> float:
    """Standardised mean difference; see :func:`match_comparators` for the edge cases."""
    if len(treated) == 0 or len(control) == 0:
        return float("nan")
    mean_t, mean_c = float(treated.mean()), float(control.mean())
    scale = max(1.0, abs(mean_t), abs(mean_c))
    difference = mean_t - mean_c
    variances = [float(x.var(ddof=1)) for x in (treated, control) if len(x) >= 2]
    pooled = sum(variances) / len(variances) if variances else 0.0
    if abs(difference) <= 1e-12 * scale:
        return 0.0
    if pooled <= (1e-12 * scale) ** 2:
        return math.copysign(math.inf, difference)
    return difference / math.sqrt(pooled)


def _balance(values: pd.DataFrame, picks: pd.Index, eligible: pd.Index, matched: pd.Index) -> pd.DataFrame:
    rows = {}
    for name in values.columns:
        t, e, m = (values.loc[ids, name].to_numpy() for ids in (picks, eligible, matched))
        after = _smd(t, m)
        rows[name] = {
            "mean_picks": float(t.mean()),
            "mean_eligible": float(e.mean()) if len(e) else float("nan"),
            "mean_comparators": float(m.mean()) if len(m) else float("nan"),
            "smd_before": _smd(t, e),
            "smd_after": after,
            "balanced": bool(abs(after) < BALANCE_THRESHOLD),  # NaN compares False
        }
    balance = pd.DataFrame.from_dict(rows, orient="index", columns=BALANCE_COLUMNS)
    balance.index.name = "variable"
    return balance.astype({"balanced": bool})


def _balance_warnings(balance: pd.DataFrame, *, n_picks: int, n_matched: int) -> list[str]:
    if n_matched == 0:
        return ["no comparator could be matched, so balance after matching cannot be measured"]
    out = []
    if n_picks == 1:
        out.append("with one pick the picks have no spread: each SMD is scaled by the comparators' spread alone")
    off = balance.loc[~balance["balanced"]]
    if len(off):
        smd = ", ".join(f"{name} {value:+.2f}" for name, value in off["smd_after"].items())
        out.append(
            f"after matching, {len(off)} of {len(balance)} variables are not balanced (|SMD| >= {BALANCE_THRESHOLD}: "
            f"{smd}): adjust for them in the evaluation, or read the comparison with care"
        )
    return out


__all__ = [
    "BALANCE_COLUMNS",
    "BALANCE_THRESHOLD",
    "PAIR_COLUMNS",
    "Evaluation",
    "baseline_table",
    "match_comparators",
    "patch_adjacency",
]
