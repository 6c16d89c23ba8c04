"""Stage 3a: the indicators a need index can use, read onto the analysis areas.

A name is a shipped indicator (:data:`SHIPPED_INDICATORS`: the Indices of Deprivation
scores and the Local Health preventable-mortality ratio) or a council source already
brought onto the areas by :mod:`lacgeo.harmonise`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

import pandas as pd

from .. import harmonise, load
from ..errors import ConfigError

IOD_DOMAINS = ("imd", "income", "employment", "education", "health", "crime", "housing", "environment")
WIMD_DOMAINS = ("income", "employment", "health", "education", "access", "housing", "environment", "crime")

ENGLISH_INDICATORS: dict[str, str] = {
    **{f"{d}_score": f"{'IMD' if d == 'imd' else d.title()} score (Indices of Deprivation)" for d in IOD_DOMAINS},
    "preventable_mortality_smr": "Preventable deaths under 75, SMR (Local Health, England = 100)",
}
WELSH_INDICATORS: dict[str, str] = {
    "wimd_score": "WIMD score (Welsh Index of Multiple Deprivation 2019)",
    **{f"wimd_{d}_score": f"WIMD {d} domain score (Welsh Index of Multiple Deprivation 2019)" for d in WIMD_DOMAINS},
}
SHIPPED_INDICATORS: dict[str, str] = {**ENGLISH_INDICATORS, **WELSH_INDICATORS}

NOT_IN_WALES: dict[str, str] = {
    "preventable_mortality_smr": "Local Health (OHID) publishes it for England only; no Welsh equivalent is shipped",
    **{
        name: "the English Indices of Deprivation cover England only; Wales has its own index, WIMD, which "
        "cannot be compared with them (use wimd_score)"
        for name in ENGLISH_INDICATORS
        if name != "preventable_mortality_smr"
    },
}
"""Why each English-only shipped indicator cannot be used for Welsh areas."""


def unavailable(names: Sequence[str], nation: str) -> dict[str, str]:
    """The shipped indicators of ``names`` that do not exist for areas of ``nation``, with why.

    >>> unavailable(["imd_score", "wimd_score", "preventable_mortality_smr"], "Wales")["preventable_mortality_smr"]
    'Local Health (OHID) publishes it for England only; no Welsh equivalent is shipped'
    >>> unavailable(["wimd_score"], "England")
    {'wimd_score': 'WIMD covers Wales only; English areas use the IMD (imd_score)'}
    """
    if nation == "Wales":
        return {n: NOT_IN_WALES[n] for n in names if n in NOT_IN_WALES}
    return {n: "WIMD covers Wales only; English areas use the IMD (imd_score)" for n in names if n in WELSH_INDICATORS}


def read_indicators(
    codes: pd.Index,
    names: Sequence[str],
    *,
    vintage: str,
    deprivation: pd.DataFrame | None = None,
    sources: Mapping[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """Indicator values for ``codes``, one column per name.

    A name is a shipped indicator (``SHIPPED_INDICATORS``) or a key of ``sources``
    (council service demand already brought onto the areas, e.g. rates per 1,000).
    """
    sources = dict(sources or {})
    known = list(SHIPPED_INDICATORS) + list(sources)
    unknown = [n for n in names if n not in known]
    if unknown:
        tips = []
        for n in unknown:
            close = difflib.get_close_matches(n, known, n=1)
            tips.append(f"{n!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ConfigError(
            f"need.indicators: unknown indicator {', '.join(tips)}; use a shipped indicator ("
            + ", ".join(SHIPPED_INDICATORS)
            + ") or the name of a [[sources]] table"
        )
    missing = unavailable([n for n in names if n not in sources], load.nation_of(codes))
    if missing:
        raise ConfigError(
            "need.indicators: "
            + "; ".join(f"{name!r} does not exist for these areas: {why}" for name, why in missing.items())
            + "; remove it from need.indicators"
        )
    if deprivation is None and any(n in SHIPPED_INDICATORS for n in names):
        deprivation = load.read_deprivation(codes, vintage=vintage)
    columns = {}
    for name in names:
        if name in sources:
            columns[name] = sources[name].reindex(codes)
        elif name == "preventable_mortality_smr":
            columns[name] = harmonise.mortality_to_lsoa(codes, vintage=vintage)
        elif name in deprivation.columns:
            columns[name] = deprivation[name]
        else:
            raise ConfigError(
                f"need.indicators: {name!r} is not available for vintage {vintage}: IoD2019 scores are shipped "
                "only for IMD, income and employment; choose one of those, or vintage 2021"
            )
    return pd.DataFrame(columns, index=codes)
