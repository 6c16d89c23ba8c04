"""Budgets as councils write them: a total over a period, set-up months, one-off and yearly lines."""

from __future__ import annotations

import pandas as pd
import pytest

import lacgeo
from lacgeo.cli import main
from lacgeo.config import BudgetConfig, load_config_text
from lacgeo.errors import ConfigError
from lacgeo.rank import budget_answer

WILTSHIRE_2015 = BudgetConfig(
    total=355_880,  # the council's sum for the pilot
    period_months=24,  # coordinators funded for 24 months...
    setup_months=9,  # ...after a 9-month initiation
    one_off=18_000 + 6_000 + 30_000,  # project officer for 6 months, IT, the university evaluation
    cost_per_coordinator=44_000,  # a coordinator a year with on-costs and travel (assumption)
    management_per_year=10_000,  # a share of a manager through initiation and delivery (assumption)
)
"""Wiltshire's £355,880 with the lines its cabinet paper lists; the amounts of each line are assumptions."""


def _patches(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patch_name": [f"p{i}" for i in range(n)],
            "population": [10_000] * n,
            "rank": range(1, n + 1),
            "phase": [1] * 3 + [2] * (n - 3),
        },
        index=[f"P{i + 1:02d}" for i in range(n)],
    )


def test_wiltshire_and_nottinghamshire_budgets_buy_three_coordinators():
    wilts = budget_answer(_patches(50), WILTSHIRE_2015, cost_per_coordinator=50_000)
    assert wilts.coordinators == 3 and wilts.months == 24 and list(wilts.patches.index) == ["P01", "P02", "P03"]
    assert wilts.fixed == pytest.approx(54_000 + 10_000 * 33 / 12)
    notts = budget_answer(_patches(50), BudgetConfig(total=350_820, period_months=23), cost_per_coordinator=50_000)
    assert notts.coordinators == 3
    # read as a yearly budget, Wiltshire's sum would have bought 7 at £50,000: the old answer
    yearly = budget_answer(_patches(50), BudgetConfig(total=355_880), cost_per_coordinator=50_000)
    assert yearly.coordinators == 7


@pytest.mark.parametrize(
    "budget",
    [
        BudgetConfig(total=273_000 + 8_000, cost_per_coordinator=45_000, management_per_year=50_000),
        BudgetConfig(total=1_000_000, period_months=36, setup_months=6, one_off=40_000, other_per_year=12_000),
        BudgetConfig(total=10_000),  # too little for one
        BudgetConfig(total=50_000_000),  # more than the patches
    ],
)
def test_the_money_adds_up_and_never_funds_more_than_the_patches(budget):
    answer = budget_answer(_patches(8), budget, cost_per_coordinator=50_000)
    assert answer.fixed + answer.coordinators * answer.per_coordinator + answer.left_over == pytest.approx(budget.total)
    assert 0 <= answer.coordinators <= 8 and len(answer.patches) == answer.coordinators
    if answer.coordinators < 8:
        assert answer.left_over < answer.per_coordinator  # one more would not fit
    if answer.coordinators:
        covered = answer.patches["population"].sum()
        assert answer.cost_per_resident == pytest.approx(budget.total / covered / (budget.period_months / 12))


def test_a_budget_table_in_the_config_reaches_the_summary_and_the_cli(tmp_path, capsys):
    text = (
        "[area]\nla = 'Rutland'\n[recommend]\nrobustness_draws = 0\n"
        "[budget]\ntotal = 200000\nperiod_months = 24\nsetup_months = 3\none_off = 10000\n"
    )
    path = tmp_path / "lacgeo.toml"
    path.write_text(text)
    result = lacgeo.run(lacgeo.load_config(path))
    answer = result.budget
    assert answer is not None and answer.coordinators == 1  # (200,000 - 10,000) // 100,000
    assert (
        "A budget of £200,000 over 24 months after 3 months of set-up pays for 1 coordinator for 24 months"
        in result.summary()
    )
    assert (
        main(
            [
                "run",
                "--la",
                "Rutland",
                "--budget",
                "355880",
                "--budget-months",
                "33",
                "-q",
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 0
    )
    assert "A budget of £355,880 over 33 months pays for" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[budget]\ntotal = -5", r"\[budget\] amounts must be 0 or more"),
        ("[budget]\ntotal = 1\nperiod_months = 0", r"budget.period_months must be 1 to 240"),
        ("[budget]\ntotal = 100000\n[recommend]\nbudget = 100000", r"give the budget once"),
    ],
)
def test_impossible_budgets_are_named(toml, message):
    with pytest.raises(ConfigError, match=message):
        load_config_text("[area]\nla = 'Rutland'\n" + toml, source="lacgeo.toml")
