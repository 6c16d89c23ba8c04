"""Stage 7, rank: patch summaries, ranking by captured need, phases, the rollout plan and budget,
and how robust the ranking is when weights and data vary. It runs after the partition, before
the outputs.

:mod:`.districts` places each patch in its district and summarises a several-district area;
:mod:`.ranking` summarises and ranks the patches and assigns phases; :mod:`.rollout`
costs each phase and answers "what does this budget pay for"; :mod:`.robustness`
redraws weights and council counts to give each patch its chance of a top-n place;
:mod:`.evaluation` matches comparison patches to the phase-1 picks for a later evaluation.
"""

from .districts import district_summary, is_multi_district, patch_districts
from .evaluation import Evaluation, baseline_table, match_comparators, patch_adjacency
from .ranking import assign_phases, patch_indicators, patch_profiles, rank_patches, summarise_patches
from .robustness import rank_robustness
from .rollout import BudgetAnswer, affordable_patches, budget_answer, budget_coordinators, given_budget, rollout_plan

__all__ = [
    "BudgetAnswer",
    "Evaluation",
    "baseline_table",
    "match_comparators",
    "patch_adjacency",
    "affordable_patches",
    "budget_answer",
    "budget_coordinators",
    "given_budget",
    "assign_phases",
    "district_summary",
    "is_multi_district",
    "patch_districts",
    "patch_indicators",
    "patch_profiles",
    "rank_patches",
    "rank_robustness",
    "rollout_plan",
    "summarise_patches",
]
