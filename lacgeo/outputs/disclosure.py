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
no group has a lone suppressed cell. The shipped public data is not suppressed.
"""

from __future__ import annotations

from collections.abc import Iterable

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
    groups = [g.reindex(counts.index) for g in groups]
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
    return pd.Index(sorted(hidden, key=str))


def suppress_totals(totals: pd.Series, *, max_count: int = SMALL_COUNT_MAX) -> pd.Index:
    """Group totals to withhold: small ones, plus one more if only one is small (the
    overall total minus the others would reveal it)."""
    return suppress_cells(totals, [pd.Series(0, index=totals.index)], max_count=max_count)
