"""Disclosure control for council data: small counts never reach an output.

A user-supplied count from 1 to ``SMALL_COUNT_MAX`` (7, the NHS Digital small-number
rule) is suppressed in every output: area rates, patch rates and the
needs-assessment table. Outputs show rates, and populations are public, so a rate is
treated as its count.

Primary suppression alone is not enough: a patch total minus the disclosed areas in
it would give back a suppressed area's count. So suppression is *consistent across
levels*: in every group that is published as a total (each patch, each local
deprivation quintile, the whole local authority), a group holding exactly one
suppressed cell also suppresses its smallest disclosed non-zero cell, repeated until
no group has a lone suppressed cell.

That rule looks at one level at a time, and the levels cross: a patch total and two
quintile totals together can still solve for a cell that each alone leaves open. So
:func:`protect` then *audits* the whole published system, as an attacker would: for
each small cell it solves for the least and the most the cell can be, given every
published total and every disclosed cell (a linear programme; the patch-by-quintile
system is totally unimodular, so its bounds are those of whole counts). While some
small cell is confined to a range narrower than the small-number limit, one more
cell beside it is withheld (or, when none is left, the total that pins it). The
shipped public data is not suppressed.

The evaluation design's tables (``evaluation.csv``, ``evaluation_balance.csv``,
``evaluation_baseline.csv`` and the GeoPackage's ``comparators`` layer) need nothing from here:
the comparison patches are matched on population and the need index's shipped indicators only, so
those tables carry no council count, rate or need index (:func:`lacgeo.outputs.tables.evaluation_tables`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import DEFAULTS

SMALL_COUNT_MAX = DEFAULTS.disclosure.small_count_max


def suppress_cells(counts: pd.Series, groups: Iterable[pd.Series], *, max_count: int = SMALL_COUNT_MAX) -> pd.Index:
    """Labels of ``counts`` to withhold: primary (1..max_count) plus secondary suppression.

    ``groups`` are Series on the same index giving each cell's group in one published
    total (e.g. its patch). Missing counts are unknown to everyone and are ignored.
    """
    counts = counts.dropna()
    hidden = set(counts.index[(counts >= 1) & (counts <= max_count)])
    _close(counts, [g.reindex(counts.index) for g in groups], hidden)
    return pd.Index(sorted(hidden, key=str))


def _close(counts: pd.Series, groups: list[pd.Series], hidden: set) -> None:
    """Add to ``hidden`` until no group holds exactly one hidden cell (the lone-cell rule)."""
    changed = True
    while changed:
        changed = False
        for group in groups:
            for _, members in counts.groupby(group, sort=True):
                lone = [c for c in members.index if c in hidden]
                if len(lone) != 1:
                    continue
                open_cells = members[[c not in hidden for c in members.index]]
                if open_cells.empty:
                    continue
                # the smallest non-zero cell; a zero only when nothing else is left
                pick = min(open_cells.index, key=lambda c: (open_cells[c] == 0, open_cells[c], str(c)))
                hidden.add(pick)
                changed = True


def suppress_totals(totals: pd.Series, *, max_count: int = SMALL_COUNT_MAX) -> pd.Index:
    """Group totals to withhold: small ones, plus one more if only one is small (the
    overall total minus the others would reveal it)."""
    return suppress_cells(totals, [pd.Series(0, index=totals.index)], max_count=max_count)


@dataclass(frozen=True)
class Protection:
    """What to withhold for one council source: cells (areas) and, per published level, group totals."""

    cells: pd.Index
    totals: dict[str, pd.Index]


def protect(
    counts: pd.Series,
    levels: Mapping[str, pd.Series],
    *,
    max_count: int = SMALL_COUNT_MAX,
    combination: pd.Series | None = None,
) -> Protection:
    """The cells and totals to withhold so that no small count can be recovered from what is published.

    Parameters
    ----------
    counts
        The council count of each cell (area); missing counts are published nowhere.
    levels
        Each published level of totals (e.g. ``"patch"``, ``"quintile"``, ``"all"``): a Series
        on the same index giving each cell's group.
    max_count
        Counts from 1 to this are small (0 turns disclosure control off).
    combination
        Coefficients (per cell) of one more weighted sum of the counts that the outputs reveal and
        that cannot be withheld: the within-area mean of a council rate, which every published
        z-scored need index gives away (sum of count x 1,000 / denominator). The audit adds it to
        the attacker's equations, and withholds more cells until it pins no small count either.

    Returns
    -------
    Protection
        The cells to withhold, and per level the group totals to withhold. With them, every
        small count can take, given all that is published, a range of values at least
        ``max_count`` wide.

    Examples
    --------
    Four small cells, two to a patch and two to a quintile: no group holds a lone withheld
    cell, yet the totals of patch ``P1`` (``a + b = 7`` once ``x`` is subtracted) and quintile 1
    (``a + c = 5`` once ``y`` is) confine ``a`` to 0-5. Withholding ``y`` (and so ``z``, which
    would otherwise be alone in patch ``P3``) opens every small cell's range to 7 or more.

    >>> counts = pd.Series({"a": 3, "b": 4, "c": 2, "d": 5, "w": 60, "x": 50, "y": 40, "z": 50})
    >>> patch = {"a": "P1", "b": "P1", "x": "P1", "c": "P2", "d": "P2", "w": "P2", "y": "P3", "z": "P3"}
    >>> quintile = {"a": 1, "c": 1, "y": 1, "b": 2, "d": 2, "z": 2, "x": 3, "w": 3}
    >>> levels = {"patch": pd.Series(patch), "quintile": pd.Series(quintile)}
    >>> list(suppress_cells(counts, levels.values()))
    ['a', 'b', 'c', 'd']
    >>> list(protect(counts, levels).cells)
    ['a', 'b', 'c', 'd', 'y', 'z']
    """
    counts = counts.dropna().astype(float)
    if max_count <= 0:
        return Protection(pd.Index([]), {name: pd.Index([]) for name in levels})
    groups = {name: g.reindex(counts.index) for name, g in levels.items()}
    hidden_totals = {
        name: set(suppress_totals(counts.groupby(g, sort=True).sum(), max_count=max_count))
        for name, g in groups.items()
    }
    hidden = set(suppress_cells(counts, groups.values(), max_count=max_count))
    small = sorted((c for c in counts.index if 1 <= counts[c] <= max_count), key=str)
    weights = None if combination is None else combination.reindex(counts.index).fillna(0.0).astype(float)
    while True:
        pinned = _first_pinned(counts, groups, hidden, hidden_totals, small, max_count, weights)
        if pinned is None:
            return Protection(
                pd.Index(sorted(hidden, key=str)),
                {name: pd.Index(sorted(t, key=str)) for name, t in hidden_totals.items()},
            )
        cell, level, group = pinned
        best = _cheapest_release(counts, groups, hidden, hidden_totals, cell, max_count, weights)
        if best is not None:
            hidden |= best
        elif level == COMBINATION:  # the weighted sum cannot be withheld: one more cell, the smallest open one
            hidden.add(min((c for c in counts.index if c not in hidden), key=lambda c: (counts[c], str(c))))
            _close(counts, list(groups.values()), hidden)
        else:  # no cell beside it frees it: withhold the published total that pins it
            hidden_totals[level].add(group)


COMBINATION = "weighted sum"
"""The owner named for the extra weighted sum in an audit (it has no group and cannot be withheld)."""


def _cheapest_release(
    counts: pd.Series,
    groups: Mapping[str, pd.Series],
    hidden: set,
    hidden_totals: Mapping[str, set],
    cell,
    max_count,
    weights: pd.Series | None = None,
) -> set | None:
    """The fewest extra cells (one open cell beside ``cell``, with the lone-cell rule applied after it)
    that give ``cell`` a range of ``max_count`` or more; None if no single added cell does."""
    options = []
    for level, g in groups.items():
        if g[cell] in hidden_totals[level]:
            continue
        members = counts.index[(g == g[cell]).to_numpy()]
        open_cells = sorted((c for c in members if c not in hidden), key=lambda c: (counts[c] == 0, counts[c], str(c)))
        options += open_cells[:MAX_TRIALS]
    best = None
    for candidate in dict.fromkeys(options):
        trial = hidden | {candidate}
        _close(counts, list(groups.values()), trial)
        added = trial - hidden
        if best is not None and len(added) >= len(best):
            continue
        if _first_pinned(counts, groups, trial, hidden_totals, [cell], max_count, weights) is None:
            best = added
    return best


MAX_TRIALS = 12
"""Open cells tried per group when widening a pinned cell's range (the smallest first)."""


def _first_pinned(
    counts: pd.Series,
    groups: Mapping[str, pd.Series],
    hidden: set,
    hidden_totals: Mapping[str, set],
    small: list,
    max_count: int,
    weights: pd.Series | None = None,
) -> tuple[object, str, object] | None:
    """The first small cell an attacker can confine to a range narrower than ``max_count``, with a
    published group (level, group) that constrains it; None when every small cell is safe."""
    cells = sorted(hidden, key=str)
    position = {c: i for i, c in enumerate(cells)}
    rows, rhs, owners = [], [], []
    for level, g in groups.items():
        for group, members in counts.groupby(g, sort=True):
            if group in hidden_totals[level]:
                continue
            inside = [position[c] for c in members.index if c in position]
            if not inside:
                continue
            row = np.zeros(len(cells))
            row[inside] = 1.0
            rows.append(row)
            rhs.append(float(members[[cells[i] for i in inside]].sum()))
            owners.append((level, group))
    if weights is not None and cells:
        row = weights.reindex(cells).to_numpy(dtype=float)
        if row.any():  # the disclosed cells' part is known, so the hidden cells' weighted sum is published
            rows.append(row)
            rhs.append(float((row * counts.reindex(cells).to_numpy(dtype=float)).sum()))
            owners.append((COMBINATION, None))
    if not rows:
        return None
    from scipy.optimize import linprog  # here: only a run with council counts to protect needs it

    a_eq, b_eq = np.vstack(rows), np.array(rhs)
    for cell in small:
        i = position[cell]
        touching = [k for k in range(len(rows)) if a_eq[k, i]]
        if not touching:
            continue
        objective = np.zeros(len(cells))
        objective[i] = 1.0
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        if high.status == 3:  # unbounded above: safe
            continue
        if high.status != 0 or low.status != 0:  # pragma: no cover - the true counts are always feasible
            raise RuntimeError(f"disclosure audit could not bound cell {cell}: {low.message}; {high.message}")
        if -high.fun - low.fun < max_count - 1e-6:
            # the published group that pins it most tightly: the smallest one holding it
            group_rows = [k for k in touching if owners[k][0] != COMBINATION] or touching
            level, group = owners[min(group_rows, key=lambda k: (a_eq[k].sum(), str(owners[k])))]
            return cell, level, group
    return None
