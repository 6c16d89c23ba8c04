"""Stage 7b: the rollout plan by phase, its yearly cost, and what a budget pays for."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..config import BudgetConfig, Config
from ..schema import NEED_INDEX, PATCH_NAME, PHASE, POPULATION, RANK


def rollout_plan(patches: pd.DataFrame, *, cost_per_coordinator: float) -> pd.DataFrame:
    """One row per phase: patches, people covered, need and the yearly cost of its coordinators.

    One coordinator per patch. ``cost_per_coordinator`` is a yearly figure including
    on-costs and a share of management (an assumption the analyst sets).

    Parameters
    ----------
    patches
        One row per patch with ``patch_name``, ``population``, ``need_index``, ``rank`` and ``phase``.
    cost_per_coordinator
        Yearly cost of one coordinator, in pounds.

    Returns
    -------
    DataFrame
        One row per phase: ``n_patches``, ``patch_ids``, ``patch_names``, ``population``,
        ``need_index`` (population-weighted), ``annual_cost``, and the running totals
        ``coordinators_to_date``, ``annual_cost_to_date`` and ``population_share_to_date``.

    Examples
    --------
    >>> patches = pd.DataFrame({"patch_name": ["North", "South", "East"], "population": [10_000, 9_000, 11_000],
    ...                         "need_index": [1.0, 0.5, -0.5], "rank": [1, 2, 3], "phase": [1, 1, 2]},
    ...                        index=["P1", "P2", "P3"])
    >>> rollout_plan(patches, cost_per_coordinator=50_000)[["phase", "n_patches", "annual_cost_to_date"]]
       phase  n_patches  annual_cost_to_date
    0      1          2             100000.0
    1      2          1             150000.0
    """
    frame = patches.sort_values(RANK)
    pop = frame[POPULATION].astype(float)
    rows = []
    for phase, grp in frame.groupby(PHASE, sort=True):
        p = pop[grp.index]
        rows.append(
            {
                PHASE: int(phase),
                "n_patches": len(grp),
                "patch_ids": ", ".join(grp.index),
                "patch_names": "; ".join(grp[PATCH_NAME]),
                POPULATION: int(p.sum()),
                NEED_INDEX: float((grp[NEED_INDEX] * p).sum() / p.sum()),
                "annual_cost": float(len(grp) * cost_per_coordinator),
            }
        )
    plan = pd.DataFrame(rows)
    plan["coordinators_to_date"] = plan["n_patches"].cumsum()
    plan["annual_cost_to_date"] = plan["annual_cost"].cumsum()
    plan["population_share_to_date"] = plan[POPULATION].cumsum() / pop.sum()
    return plan


@dataclass(frozen=True)
class BudgetAnswer:
    """What a budget buys: how many coordinators, for how long, which patches, and at what cost per resident."""

    total: float
    months: int
    setup_months: int
    fixed: float
    """One-off costs plus the yearly lines over set-up and delivery (GBP)."""
    per_coordinator: float
    """One coordinator over the funded months (GBP)."""
    coordinators: int
    patches: pd.DataFrame
    """The patches funded, in rank order (phase 1 first)."""
    left_over: float
    cost_per_resident: float
    """The total over the residents of the funded patches, per year of delivery (GBP); NaN with none funded."""
    in_post: int = 0
    """Coordinators already in post (phase 0) the total pays first."""

    def sentence(self) -> str:
        """The answer in one line, as ``lacgeo run`` prints it."""
        names = ", ".join(f"{pid} {name}" for pid, name in self.patches[PATCH_NAME].items()) or "none"
        paid = min(self.in_post, self.coordinators)
        in_post = f", {paid} of them in post already" if paid else ""
        setup = f" after {self.setup_months} months of set-up" if self.setup_months else ""
        per_resident = f"; £{self.cost_per_resident:,.2f} per resident covered per year" if self.coordinators else ""
        return (
            f"A budget of £{self.total:,.0f} over {self.months} months{setup} pays for {self.coordinators} "
            f"coordinator{'' if self.coordinators == 1 else 's'} for {self.months} months{in_post} "
            f"(£{self.per_coordinator:,.0f} each, after £{self.fixed:,.0f} "
            f"of other costs; £{self.left_over:,.0f} left over){per_resident}: {names}"
        )


def budget_answer(patches: pd.DataFrame, budget: BudgetConfig, *, cost_per_coordinator: float) -> BudgetAnswer:
    """How many coordinators ``budget`` pays for, for how long, and which patches.

    The yearly lines (management, other) run over the set-up and delivery months; the one-off
    costs come off first; what is left pays coordinators for the funded months, each at
    ``budget.cost_per_coordinator`` a year (or ``cost_per_coordinator`` when that is 0), rounded
    down. The funded patches are the first that many in phase order: the coordinators in
    post (phase 0) first unless ``budget.includes_existing`` is false, then phase 1, and so on,
    so the funded patches keep the rules the phases keep.

    Examples
    --------
    Nottinghamshire: £350,820 for coordinators from May 2021 to March 2023 (23 months), at
    £50,000 a year each with on-costs and nothing else in the sum: three (a fourth would need
    £383,333).

    >>> from lacgeo.config import BudgetConfig
    >>> patches = pd.DataFrame({"patch_name": list("abcde"), "population": [10_000] * 5, "rank": [1, 2, 3, 4, 5],
    ...                         "phase": [1, 1, 1, 2, 2]}, index=["P1", "P2", "P3", "P4", "P5"])
    >>> notts = budget_answer(patches, BudgetConfig(total=350_820, period_months=23), cost_per_coordinator=50_000)
    >>> notts.coordinators, list(notts.patches.index), round(notts.left_over)
    (3, ['P1', 'P2', 'P3'], 63320)
    """
    n, fixed, per_coordinator = budget_coordinators(budget, cost_per_coordinator=cost_per_coordinator)
    months = budget.period_months
    order = patches.sort_values([PHASE, RANK])
    in_post = int((order[PHASE] == 0).sum())
    if not budget.includes_existing:
        order = order[order[PHASE] != 0]
    funded = order.head(n)
    n = len(funded)  # never more coordinators than patches
    left_over = budget.total - fixed - n * per_coordinator
    covered = float(funded[POPULATION].sum())
    per_resident = budget.total / covered / (months / 12) if covered else float("nan")
    return BudgetAnswer(
        total=budget.total,
        months=months,
        setup_months=budget.setup_months,
        fixed=fixed,
        per_coordinator=per_coordinator,
        coordinators=n,
        patches=funded,
        left_over=left_over,
        cost_per_resident=per_resident,
        in_post=in_post if budget.includes_existing else 0,
    )


def given_budget(config: Config) -> BudgetConfig | None:
    """The budget a run asks about: ``[budget]``, or a yearly ``recommend.budget``; None when neither is set.

    >>> from lacgeo.config import make_config, replace
    >>> given_budget(replace(make_config(la="Derby"), recommend={"budget": 150_000})).period_months
    12
    """
    b, r = config.budget, config.recommend
    if b.total > 0:
        return b
    yearly = BudgetConfig(total=r.budget, period_months=12, includes_existing=b.includes_existing)
    return yearly if r.budget > 0 else None


def budget_coordinators(budget: BudgetConfig, *, cost_per_coordinator: float) -> tuple[int, float, float]:
    """How many coordinators ``budget`` pays for (in post ones included), its other costs and one coordinator's cost.

    >>> from lacgeo.config import BudgetConfig
    >>> budget_coordinators(BudgetConfig(total=350_820, period_months=23), cost_per_coordinator=50_000)
    (3, 0.0, 95833.33333333333)
    """
    cost = budget.cost_per_coordinator or cost_per_coordinator
    months = budget.period_months
    yearly = budget.management_per_year + budget.other_per_year
    fixed = budget.one_off + yearly * (months + budget.setup_months) / 12
    per_coordinator = cost * months / 12
    n = max(0, int((budget.total - fixed) // per_coordinator)) if per_coordinator > 0 else 0
    return n, fixed, per_coordinator


def affordable_patches(patches: pd.DataFrame, *, budget: float, cost_per_coordinator: float) -> pd.DataFrame:
    """The patches a yearly ``budget`` pays coordinators for, in rank order (phase 1 first)."""
    yearly = BudgetConfig(total=budget, period_months=12)
    return budget_answer(patches, yearly, cost_per_coordinator=cost_per_coordinator).patches
