"""The report's "Evaluating phase 1" section: how to use the comparison patches the run matched to the
phase-1 picks (:func:`lacgeo.rank.match_comparators`) for a before-and-after comparison with controls.

It says in plain words what the comparators are for (a difference-in-differences on the same
indicators, measured again for the same kind of period), why no neighbour of a pick or of a
coordinator in post is one (spill-over), what the standardised mean difference is and its |SMD| < 0.1
rule, and, honestly, when balance is not reached and why. Then the balance table and the pairs.
The design matches on population and the need index's open-data indicators only, so nothing here is
withheld (see :func:`lacgeo.outputs.tables.evaluation_tables`).
"""

from __future__ import annotations

import math

import pandas as pd

from ...need import in_sentence
from ...rank.evaluation import BALANCE_THRESHOLD, ELIGIBLE
from ...schema import PHASE, POPULATION
from ..escape import escape_text as E
from ..tables import evaluation_tables
from .context import ReportContext, html_table
from .words import count_of, num, value_text

NUM = ' class="num"'
SPILL_OVER = ("next to a pick", "next to a patch in post")
"""Eligibility reasons that keep a patch out because the work would spill over into it."""


def _smd(value: float) -> str:
    """An SMD as printed: signed, 2 decimals; no spread at all is an infinite difference."""
    if pd.isna(value):
        return "–"
    if math.isinf(value):
        return "+∞" if value > 0 else "-∞"
    return f"{round(float(value), 2) + 0.0:+.2f}"


def _mean(name: str, value: float) -> str:
    return num(value, 0) if name == POPULATION else value_text(name, value)


def _variable_values(r: ReportContext, name: str) -> pd.Series:
    """A matching variable's value in every patch, as the design read it (``<name>`` or ``value_<name>``)."""
    patches = r.result.patches
    column = name if name in patches else f"value_{name}"
    return patches[column].astype(float)


def _beyond(r: ReportContext, balance: pd.DataFrame, eligible: pd.Index) -> dict[str, str]:
    """The unbalanced variables whose picks' mean no eligible patch reaches: name -> the numbers, in words."""
    out = {}
    for name, row in balance.loc[~balance["balanced"]].iterrows():
        values = _variable_values(r, name).reindex(eligible).dropna()
        if values.empty:
            continue
        if row["mean_picks"] > values.max():
            extreme, side = values.max(), "highest"
        elif row["mean_picks"] < values.min():
            extreme, side = values.min(), "lowest"
        else:
            continue
        out[name] = (
            f"{E(row['label'])}: picks {_mean(name, row['mean_picks'])}, the {side} eligible patch "
            f"{_mean(name, extreme)}"
        )
    return out


def _listed(labels: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def _balance_words(r: ReportContext, balance: pd.DataFrame, eligible: pd.Index, n_pairs: int) -> str:
    """What the balance table says, honestly: balanced, or not and why, and what to do then."""
    outside = f"or look for comparison patches outside {r.la}, in councils like it"
    if n_pairs == 0:
        return f"No patch is eligible, so there is none to compare with: compare the picks over time, {outside}."
    off = balance.loc[~balance["balanced"]]
    if off.empty:
        return f"All {count_of(len(balance), 'variable')} are balanced: the comparison patches are like the picks."
    if len(off) == len(balance):
        text = f"Here none of the {len(balance)} is balanced."
    else:
        labels = _listed([E(in_sentence(label)) for label in off["label"]])
        text = f"Here {len(off)} of {len(balance)} {'is' if len(off) == 1 else 'are'} not ({labels})."
    beyond = _beyond(r, balance, eligible)
    if beyond:  # the honest reason: no comparator could close the gap, however they were matched
        example = beyond.get(r.index.score) or next(iter(beyond.values()))
        n = len(beyond)
        which = ("it" if n == 1 else "each") if n == len(off) else f"{n} of them"
        text += (
            f" On {which}, no eligible patch even reaches the picks' average ({example}): the picks were chosen for "
            f"having the most need in {r.la}."
        )
    return (
        text + " So compare trends, not levels (the difference-in-differences), check on earlier years that both "
        f"moved alike, adjust for the unbalanced variables, {outside}."
    )


def _pairs_table(r: ReportContext, pairs: pd.DataFrame) -> str:
    """One row per pick and comparison patch, the pick's name once over its rows (a row-spanning header)."""
    headers = ["Phase-1 pick", "Comparison patch, closest first", "Distance", "Same need profile"]
    labels = [h.replace('"', "&quot;") for h in headers]
    numeric = {2}
    body = []
    for pid in r.recommended:
        mine = pairs[pairs["pick_id"] == pid]
        head = f'<th scope="rowgroup" rowspan="{max(len(mine), 1)}">{r.name(pid)}</th>'
        cells = [
            [r.name(c), num(d, 2), "yes" if same else "no"]
            for c, d, same in zip(mine["comparator_id"], mine["distance"], mine["same_profile"], strict=True)
        ] or [["none eligible", "–", "–"]]
        rows = []
        for i, row in enumerate(cells):
            tds = "".join(
                f'<td{NUM if j in numeric else ""} data-label="{labels[j]}">{c}</td>'
                for j, c in enumerate(row, start=1)
            )
            rows.append(f"<tr>{head if i == 0 else ''}{tds}</tr>")
        body.append(f"<tbody>{''.join(rows)}</tbody>")  # a pick's rows stay together on paper
    head_row = "".join(f'<th scope="col"{NUM if j in numeric else ""}>{h}</th>' for j, h in enumerate(headers))
    return (
        '<table class="pairs split"><caption>The comparison patches of each pick (distance: in standard '
        f"deviations, 0 = identical)</caption><thead><tr>{head_row}</tr></thead>{''.join(body)}</table>"
    )


def evaluation_section(r: ReportContext) -> str:
    """The "Evaluating phase 1" section, or "" when the run has no evaluation design."""
    res = r.result
    evaluation = res.evaluation
    if evaluation is None or not r.recommended:
        return ""
    k = res.config.recommend.comparators
    pairs = evaluation.pairs
    balance = evaluation_tables(res)["evaluation_balance.csv"].set_index("variable")
    status = evaluation.eligibility
    eligible = status.index[status == ELIGIBLE]
    spill = int(status.isin(SPILL_OVER).sum())
    got = pairs["pick_id"].value_counts().reindex(r.recommended, fill_value=0)
    short = int((got < k).sum())
    phases = res.patches[PHASE].reindex(pairs["comparator_id"])
    intro = (
        "To learn later whether Local Area Coordination makes a difference, compare the picks with patches like "
        "them that have no coordinator, chosen now, before any outcome is known: up to "
        f"{count_of(k, 'comparison patch', 'comparison patches')} per pick, the most alike on the variables below, "
        "each used once."
        + (
            f" Only {len(eligible)} are eligible, so "
            f"{'every pick has' if short == len(r.recommended) else count_of(short, 'pick has', 'picks have')} fewer."
            if short
            else ""
        )
    )
    own = (
        f" (phase{'s' if phases.nunique() > 1 else ''} "
        f"{int(phases.min())}{f'–{int(phases.max())}' if phases.nunique() > 1 else ''})"
        if len(phases)
        else ""
    )
    use = (
        "<strong>How to use them.</strong> Measure the same indicators again, for the same kind of period as the "
        "baseline (evaluation_baseline.csv), and compare the change in the picks with the change in their "
        "comparison patches: this difference-in-differences cancels out differences there at the start. Measure "
        f"before the comparison patches' own coordinators start{own}."
    )
    neighbours = (
        "<strong>Why not next door.</strong> A patch next to a pick or to a coordinator in post is never a "
        "comparison patch: the work spills over the boundary (neighbours share streets, groups and services). "
        f"{count_of(spill, 'patch is', 'patches are')} left out for that; {len(eligible)} "
        f"{'is' if len(eligible) == 1 else 'are'} eligible."
    )
    smd = (
        "<strong>Balance.</strong> The standardised mean difference (SMD) is the gap between the two groups' means "
        f"in standard deviations; |SMD| &lt; {BALANCE_THRESHOLD:g} counts as balanced. "
        + _balance_words(r, balance, eligible, len(pairs))
    )
    rows = [
        [
            E(row["label"]),
            _mean(name, row["mean_picks"]),
            _mean(name, row["mean_eligible"]),
            _mean(name, row["mean_comparators"]),
            _smd(row["smd_before"]),
            _smd(row["smd_after"]),
            "yes" if row["balanced"] else "no",
        ]
        for name, row in balance.iterrows()
    ]
    balance_html = html_table(
        ["Variable", "Picks", "All eligible patches", "Comparison patches", "SMD before", "SMD after", "Balanced"],
        rows,
        caption=f"Balance: means, and the SMD before and after matching (balanced: |SMD| &lt; {BALANCE_THRESHOLD:g})",
        numeric=range(1, 6),
        css_class="balance keep",
    )
    return (
        f'<section id="evaluation"><h2>Evaluating phase 1</h2><p class="intro">{intro}</p><p>{use}</p>'
        f"<p>{neighbours}</p><p>{smd}</p>{balance_html}{_pairs_table(r, pairs)}</section>"
    )


__all__ = ["evaluation_section"]
